"""What is already reported near a place, asked by the report page as the reporter picks a place
and a category (``problems.reporting.nearby_reports``: the intake's duplicate finder and the
open reports around it; the public part of each case only)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

from gridmap.api.errors import bad_request
from gridmap.api.openapi import BOOL, INT, NSTR, NUM, STR, obj
from gridmap.api.params import check_names
from gridmap.api.renderers import json_response
from gridmap.api.schema import number, query_param, responses
from gridmap.api.views.base import ApiView
from gridmap.problems.models import EventCategory
from gridmap.problems.reporting import NEARBY_M, nearby_reports


class NearbyThrottle(UserRateThrottle):
    """Per user, in the shared cache: a form asks once per pick, so a minute's picks fit well."""

    scope = "nearby"
    rate = "60/min"


@extend_schema(tags=["problems"])
class NearbyReports(ApiView):
    throttle_classes = (NearbyThrottle,)

    @extend_schema(
        parameters=[
            query_param("lon", "Longitude of the picked place (WGS84).", number(-180, 180), required=True),
            query_param("lat", "Latitude of the picked place (WGS84).", number(-90, 90), required=True),
            query_param(
                "category",
                "Category code (optional; empty: none): only that category, its likely duplicates first.",
                {"type": "string", "pattern": "^[0-9A-Za-z_-]{0,40}$"},
            ),
        ],
        responses=responses(
            {
                200: obj(
                    {
                        "radius_m": NUM,
                        "reports": {
                            "type": "array",
                            "items": obj(
                                {
                                    "id": INT,
                                    "category": NSTR,
                                    "event_class": NSTR,
                                    "status": STR,
                                    "status_label": STR,
                                    "distance_m": NUM,
                                    "reported_on": {"type": "string", "format": "date"},
                                    "likely_duplicate": BOOL,
                                },
                            ),
                        },
                    }
                )
            },
            404,
            429,
        ),
    )
    def get(self, request: Request) -> HttpResponse:
        """Open reports within 150 m of a place, nearest first, at most 10: number, category,
        status, distance and the day reported (no description, photos or reporter); those the
        intake would offer as duplicates of a report of ``category`` are marked."""
        params = check_names(request.query_params, {"lon", "lat", "category"})
        category = None
        code = params.get("category", "")
        if code:
            category = EventCategory.objects.filter(code=code, active=True).first()
            if category is None:  # a code that names nothing: not found, as an unknown id
                raise NotFound(_("Unknown category."))
        try:
            found = nearby_reports(lon=params.get("lon", ""), lat=params.get("lat", ""), category=category)
        except ValidationError as exc:
            raise bad_request(" ".join(exc.messages)) from None
        return json_response({"radius_m": NEARBY_M, "reports": [r.as_json() for r in found]})
