"""Photos through the API, scoped like the records they belong to.

Uploaded files live under MEDIA_ROOT, which production does not serve (media URLs would show any
file to anyone who has the link): the API hands out these URLs instead, which answer only to a
user who may see the problem or the positive-list site (token or session), 404 to anyone else.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request

from gridmap.api import inputs, listing
from gridmap.api.renderers import geojson_response
from gridmap.api.schema import SITE_PHOTO, geo, responses
from gridmap.api.selectors import problem_visible
from gridmap.api.views.base import ApiView
from gridmap.api.views.problems import MAX_PHOTO_BODY
from gridmap.core.boundary import BoundaryError, whole_number
from gridmap.problems.models import ProblemPhoto
from gridmap.problems.photos import CONTENT_TYPES
from gridmap.problems.selectors import positive_sites_visible_to
from gridmap.problems.services import positive_site_may_edit, positive_site_photo_attach

PHOTO_FILE = {
    (200, t): OpenApiResponse(OpenApiTypes.BINARY, description="The photo.") for t in CONTENT_TYPES.values()
}


def _file(field) -> FileResponse:  # type: ignore[no-untyped-def]
    suffix = field.name.rsplit(".", 1)[-1].lower()
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404(_("The photo file is missing.")) from None
    response = FileResponse(handle, content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class ProblemPhotoFile(ApiView):
    @extend_schema(tags=["problems"], responses=responses(PHOTO_FILE, 404))
    def get(self, request: Request, pk: int, photo_id: int) -> FileResponse:
        """One photo of a problem you may see (the ``url`` of its photo entries)."""
        problem = problem_visible(request.user, pk)  # DoesNotExist: a 404
        photo = ProblemPhoto.objects.filter(pk=photo_id, problem=problem).first()
        if photo is None or not photo.image:
            raise Http404()
        return _file(photo.image)


class PositiveSitePhoto(ApiView):
    parser_classes = (MultiPartParser,)

    @extend_schema(tags=["lists"], responses=responses(PHOTO_FILE, 404))
    def get(self, request: Request, pk: int) -> FileResponse:
        """The photo of a positive-list site you may see."""
        site = positive_sites_visible_to(request.user).filter(pk=pk).first()
        if site is None or not site.photo:
            raise Http404()
        return _file(site.photo)

    @extend_schema(
        tags=["lists"],
        request={"multipart/form-data": SITE_PHOTO},
        responses=responses(geo(200, "PositiveSiteFeature"), 403, 404, 413, 415),
    )
    def post(self, request: Request, pk: int) -> HttpResponse:
        """Set (or replace) a site's photo: multipart ``image``, JPEG, PNG or WebP, checked to be a
        real photo within the size and pixel limits. Who may add the site may set its photo."""
        site = positive_sites_visible_to(request.user).filter(pk=pk).first()
        if site is None:
            raise Http404()
        positive_site_may_edit(request.user, site)  # a 403 before the body is read
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            whole_number(length, lo=0, hi=MAX_PHOTO_BODY)
        except BoundaryError:
            raise exceptions.ValidationError({"image": [_("The photo is larger than 10 MB.")]}) from None
        data = inputs.check_fields(inputs.form_fields(request.data, request.FILES), ("image",))
        images = data.get("image")
        if not isinstance(images, list) or len(images) != 1:
            raise exceptions.ValidationError({"image": [_("Send one file under image.")]})
        positive_site_photo_attach(site, images[0], user=request.user)
        return geojson_response(listing.SITES.one(request, site.pk))
