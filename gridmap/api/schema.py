"""OpenAPI pieces shared by the views (parameters and response shapes) for drf-spectacular."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers


def query_param(name: str, description: str, kind: OpenApiTypes = OpenApiTypes.STR) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=False, description=description)


PAGE_PARAMS = [
    query_param("page", "1-based page number (at most 1,000,000).", OpenApiTypes.INT),
    query_param("page_size", "Features per page: 1 to 1000, default 100.", OpenApiTypes.INT),
]
BBOX = query_param("bbox", "minlon,minlat,maxlon,maxlat (WGS84): features intersecting the box.")
GRID = query_param("grid", "Grid codes, comma-separated.")
COMMUNITY = query_param("community", "Community codes, comma-separated.")
AREA_PARAMS = [BBOX, GRID, COMMUNITY]
FACILITY_PARAMS = [
    BBOX,
    GRID,
    query_param("kind", "Facility kind codes, comma-separated (e.g. hydrant,litter_bin)."),
]
PROBLEM_PARAMS = [
    *AREA_PARAMS,
    query_param("category", "Event category codes, comma-separated (e.g. 0301,0302)."),
    query_param(
        "status",
        "Statuses, comma-separated: reported, filed, rejected, duplicate, dispatched, handled, closed.",
    ),
    query_param("reported_after", "ISO 8601 time; without an offset it is Asia/Shanghai time."),
    query_param("reported_before", "ISO 8601 time; without an offset it is Asia/Shanghai time."),
    query_param("open", "1: open problems only; 0: finished ones only."),
    query_param("overdue", "1: open problems past their deadline; 0: all others."),
]

FEATURE = OpenApiResponse(OpenApiTypes.OBJECT, description="A GeoJSON Feature (EPSG:4326).")
FEATURE_COLLECTION = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="A GeoJSON FeatureCollection with numberMatched, numberReturned and next/prev links.",
)
ERROR = inline_serializer("Error", {"detail": serializers.CharField()})
CONFLICT = inline_serializer(
    "TransitionConflict",
    {
        "detail": serializers.CharField(),
        "status": serializers.CharField(),
        "allowed": serializers.ListField(child=serializers.CharField()),
    },  # fmt: skip
)
INTAKE = inline_serializer(
    "ProblemIntake",
    {
        "lon": serializers.FloatField(),
        "lat": serializers.FloatField(),
        "category": serializers.CharField(help_text="event category code, e.g. 0301"),
        "description": serializers.CharField(required=False, max_length=4000),
        "client_uuid": serializers.UUIDField(required=False, help_text="replays return the first result"),
        "reported_at": serializers.DateTimeField(required=False),
    },
)
TRANSITION = inline_serializer(
    "Transition",
    {
        "action": serializers.CharField(),
        "note": serializers.CharField(required=False, max_length=2000),
        "lon": serializers.FloatField(required=False),
        "lat": serializers.FloatField(required=False),
        "params": serializers.DictField(required=False),
        "photos": serializers.ListField(child=serializers.ImageField(), required=False),
    },
)
PHOTO = inline_serializer(
    "PhotoUpload",
    {
        "image": serializers.ImageField(),
        "lon": serializers.FloatField(required=False),
        "lat": serializers.FloatField(required=False),
    },  # fmt: skip
)
POSITIVE_SITE = inline_serializer(
    "PositiveSiteCreate",
    {
        "lon": serializers.FloatField(),
        "lat": serializers.FloatField(),
        "name": serializers.CharField(max_length=200),
        "description": serializers.CharField(required=False, max_length=4000),
    },  # fmt: skip
)

KIND = query_param("kind", "Facility kind code (e.g. litter_bin, hydrant). Required.")
METRIC = query_param("metric", "straight (default) or network (walking distance along streets).")
RADIUS = query_param(
    "radius_m", "Service radius in metres, 1 to 5000 (default: the kind's).", OpenApiTypes.NUMBER
)
ONE_GRID = query_param("grid", "One grid code in your scope.")
ANALYSIS_RESULT = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="A GeoJSON FeatureCollection (EPSG:4326); the run's figures under `summary` where given.",
)
ANALYSIS_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR}
COVERAGE_PARAMS = [
    KIND, METRIC, RADIUS, ONE_GRID, query_param("uncovered", "1: the gaps only."), BBOX, *PAGE_PARAMS,
]  # fmt: skip
GAPS_PARAMS = [KIND, METRIC, RADIUS, ONE_GRID, BBOX, *PAGE_PARAMS]
SUGGESTION_PARAMS = [
    KIND,
    ONE_GRID,
    query_param("community", "One community code in your scope (instead of grid)."),
    query_param("best", "Keep only the best P sites (maximal covering), 0 to 500.", OpenApiTypes.INT),
    METRIC,
    RADIUS,
]
HOTSPOT_PARAMS = [
    query_param("method", "dbscan (default) or gistar."),
    query_param("eps_m", "DBSCAN neighbourhood in metres, 1 to 2000 (default 50).", OpenApiTypes.NUMBER),
    query_param("min_samples", "DBSCAN core size, 2 to 10000 (default 5).", OpenApiTypes.INT),
    query_param("status", "open (default) or all."),
    query_param("days", "Look back this many days, 1 to 3650 (default 90).", OpenApiTypes.INT),
    *PAGE_PARAMS,
]
ROUTE_PARAMS = [
    query_param("grid", "One grid code in your scope; inspectors may leave it out for their own route."),
    METRIC,
    query_param(
        "budget_min", "Keep the most valuable stops that fit in this many minutes.", OpenApiTypes.NUMBER
    ),
]
SITE_PHOTO = inline_serializer("SitePhotoUpload", {"image": serializers.ImageField()})
