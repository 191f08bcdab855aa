"""Problems: the GeoJSON list and detail, intake of new reports (JSON; an adapter over
``problems.intake.problem_intake``), and photos on a report."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request

from gridmap.accounts.selectors import role_of
from gridmap.api import inputs, listing
from gridmap.api.codebook import CATEGORIES
from gridmap.api.errors import Conflict
from gridmap.api.features import RowContext, actions_by_status, problem_feature, problem_photo_url
from gridmap.api.openapi import INT, NSTR, NTIME, NUM, STR, obj
from gridmap.api.renderers import geojson_response, json_response, utc
from gridmap.api.schema import INTAKE, PAGE_PARAMS, PHOTO, PROBLEM_PARAMS, geo, layer_list, responses
from gridmap.api.selectors import photos_of
from gridmap.api.views.base import ApiView
from gridmap.core.boundary import BoundaryError, whole_number
from gridmap.problems.intake import duplicates_of, problem_intake
from gridmap.problems.selectors import problems_visible_to
from gridmap.problems.services import problem_photo_add

MAX_PHOTO_BODY = 12 * 1024 * 1024


@extend_schema(tags=["problems"])
class ProblemList(ApiView):
    """Problems the user may see (GET, GeoJSON); a new report (POST, JSON only)."""

    @extend_schema(
        operation_id="problems_list",
        parameters=[*PROBLEM_PARAMS, *PAGE_PARAMS],
        responses=layer_list("Problem"),
    )
    def get(self, request: Request) -> HttpResponse:
        return geojson_response(listing.PROBLEMS.collection(request))

    @extend_schema(
        request={"application/json": INTAKE},
        responses=responses(
            geo(201, "ProblemIntakeFeature") | geo(200, "ProblemIntakeFeature"), 403, 409, 413, 415
        ),
        description="Report a problem. The answer is the problem's Feature with `possible_duplicates` "
        "(id, distance_m). Send a `client_uuid` of your own and, after a 503 (see `Retry-After`), a "
        "timeout or a broken connection, repeat the request with the same `client_uuid`: if the first "
        "attempt was stored after all, the answer is 200 with that problem as first stored, else 201; "
        "one `client_uuid` is never stored twice (another user's is a 409).",
    )
    def post(self, request: Request) -> HttpResponse:
        role = role_of(request.user)
        if role is None:
            raise exceptions.PermissionDenied(_("Your account has no role; ask an administrator."))
        data = inputs.intake(request.data)
        category = CATEGORIES.get(data.category)
        if category is None:
            raise exceptions.ValidationError({"category": [_("Unknown event category.")]})
        result = problem_intake(
            lon=data.lon,
            lat=data.lat,
            category=category,
            description=data.description,
            reporter=request.user,
            reported_at=data.reported_at,
            client_uuid=data.client_uuid,
        )
        problem = result.problem
        if not result.created and problem.reporter_id != request.user.pk:
            # Someone else's submission: say nothing about it.
            raise Conflict(_("This client_uuid was already used."))
        feature = problem_feature(problem, RowContext(timezone.now(), actions_by_status(role)))
        if result.duplicates is None:  # a replay: what is open near it now
            feature["possible_duplicates"] = duplicates_of(problem)
        else:  # measured by the intake itself before the insert
            feature["possible_duplicates"] = [
                {"id": i, "distance_m": round(m, 1)} for i, m in result.duplicates
            ]
        return geojson_response(feature, status=201 if result.created else 200)


@extend_schema(tags=["problems"])
class ProblemDetail(ApiView):
    @extend_schema(responses=responses(geo(200, "ProblemDetailFeature"), 404))
    def get(self, request: Request, pk: int) -> HttpResponse:
        """One problem as a Feature, with its photos under ``photos``."""
        feature = listing.PROBLEMS.one(request, pk)
        photos = photos_of(problems_visible_to(request.user).filter(pk=pk))
        feature["photos"] = photos.get(pk, [])
        return geojson_response(feature)


@extend_schema(tags=["problems"])
class ProblemPhotos(ApiView):
    parser_classes = (MultiPartParser,)

    @extend_schema(
        request={"multipart/form-data": PHOTO},
        responses=responses(
            {
                201: obj(
                    {
                        "id": INT,
                        "problem": INT,
                        "stage": STR,
                        "taken_at": NTIME,
                        "url": NSTR,
                        "lonlat": {
                            "type": "array",
                            "items": NUM,
                            "minItems": 2,
                            "maxItems": 2,
                            "nullable": True,
                        },
                    }
                )
            },
            403,
            404,
            413,
            415,
        ),  # fmt: skip
    )
    def post(self, request: Request, pk: int) -> HttpResponse:
        """Add a photo (multipart ``image``; JPEG, PNG or WebP) to an open problem you reported or act
        on through your role (seeing it is not enough: 403)."""
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            whole_number(length, lo=0, hi=MAX_PHOTO_BODY)
        except BoundaryError:
            raise exceptions.ValidationError({"image": [_("The photo is larger than 10 MB.")]}) from None
        data = inputs.check_fields(inputs.form_fields(request.data, request.FILES), ("image", "lon", "lat"))
        images = data.get("image")
        if not isinstance(images, list) or len(images) != 1:
            raise exceptions.ValidationError({"image": [_("Send one file under image.")]})
        photo = problem_photo_add(
            problem_id=pk, upload=images[0], lon=data.get("lon"), lat=data.get("lat"), user=request.user
        )
        body = {"id": photo.pk, "problem": pk, "stage": photo.stage, "taken_at": utc(photo.taken_at),
                "url": problem_photo_url(pk, photo.pk), "lonlat": list(photo.geom.coords) if photo.geom else None}  # fmt: skip
        return json_response(body, status=201)
