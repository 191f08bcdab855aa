"""OpenAPI pieces shared by the views (parameters, bodies and responses) for drf-spectacular.

Every constraint the API enforces on a parameter is written here as schema (type, range, enum,
pattern), so that a request valid by the document is accepted and an invalid one refused with a
4xx; tests/api/test_openapi_schemathesis.py holds the document to that. The response bodies are
the components of ``gridmap.api.openapi`` (GeoJSON served as ``application/geo+json``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from gridmap.api.openapi import ANY_OBJECT, GEOJSON_TYPE, TEXT_PATTERN, error, geojson, nullable, obj, text
from gridmap.api.params import MAX_CODE_CHARS, MAX_LIST_ITEMS, MAX_PAGE, MAX_PAGE_SIZE
from gridmap.problems.lifecycle import TRANSITIONS
from gridmap.problems.models import Status

CODE_PATTERN = rf"^[0-9A-Za-z_-]{{1,{MAX_CODE_CHARS}}}$"
CODE = {"type": "string", "pattern": CODE_PATTERN}
_NUMBER = r"[+-]?[0-9]{1,3}(\.[0-9]{1,15})?"
BBOX_PATTERN = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"
# ISO 8601: a date, or a time with or without seconds and offset (none: Asia/Shanghai), 1970-2099;
# days past the 28th are left out of the pattern (every month has them up to the 28th)
TIME_PATTERN = (
    r"^(19[7-9][0-9]|20[0-9][0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])?)?$"
)
FLAG = {"type": "string", "enum": ["1", "0", "true", "false"]}


def query_param(
    name: str, description: str, schema: Any = OpenApiTypes.STR, *, required: bool = False, **kw: Any
) -> OpenApiParameter:
    return OpenApiParameter(
        name, schema, OpenApiParameter.QUERY, required=required, description=description, **kw
    )


def codes(name: str, description: str, items: dict[str, Any] | None = None) -> OpenApiParameter:
    """A comma-separated list (``a,b,c``: form style, not exploded)."""
    schema = {"type": "array", "items": items or CODE, "minItems": 1, "maxItems": MAX_LIST_ITEMS}
    return query_param(name, description, schema, style="form", explode=False)


def number(lo: float, hi: float, kind: str = "number") -> dict[str, Any]:
    return {"type": kind, "minimum": lo, "maximum": hi}


PAGE_PARAMS = [
    query_param("page", "1-based page number.", number(1, MAX_PAGE, "integer")),
    query_param("page_size", "Features per page (default 100).", number(1, MAX_PAGE_SIZE, "integer")),
]
BBOX = query_param(
    "bbox",
    "minlon,minlat,maxlon,maxlat (WGS84, each minimum at most its maximum): features intersecting the box.",
    {"type": "string", "pattern": BBOX_PATTERN},
)
GRID = codes("grid", "Grid codes, comma-separated.")
COMMUNITY = codes("community", "Community codes, comma-separated.")
AREA_PARAMS = [BBOX, GRID, COMMUNITY]
FACILITY_PARAMS = [
    BBOX,
    GRID,
    codes("kind", "Facility kind codes, comma-separated (e.g. hydrant,litter_bin)."),
]


def when(name: str, description: str) -> OpenApiParameter:
    return query_param(name, description, {"type": "string", "pattern": TIME_PATTERN})


PROBLEM_PARAMS = [
    *AREA_PARAMS,
    codes("category", "Event category codes, comma-separated (e.g. 0301,0302)."),
    codes("status", "Statuses, comma-separated.", {"type": "string", "enum": list(Status.values)}),
    when("reported_after", "ISO 8601 time or date; without an offset it is Asia/Shanghai time."),
    when("reported_before", "ISO 8601 time or date; without an offset it is Asia/Shanghai time."),
    query_param("open", "1: open problems only; 0: finished ones only.", FLAG),
    query_param("overdue", "1: open problems past their deadline; 0: all others.", FLAG),
]

# -- responses ----------------------------------------------------------------------------------
BAD_REQUEST = error("A parameter or a field is missing or malformed.")
UNAUTHENTICATED = error("No credentials, or a token that is not valid.")
FORBIDDEN = error("Your role may not do this.")
NOT_FOUND = error("Not found, or not yours to see.")
UNAVAILABLE = error("The database was unavailable or too slow to answer; retry after `Retry-After` seconds.")
CONFLICT = error("A step out of order: the problem's current status and the steps allowed from it.",
                 "TransitionConflict")  # fmt: skip
TOO_LARGE = error("The request body is too large.")
UNSUPPORTED = error("The body's media type is not one this operation accepts.")
THROTTLED = error("Too many requests; retry after `Retry-After` seconds.")


def responses(ok: dict[Any, Any], *codes_: int) -> dict[Any, Any]:
    """``ok`` and the errors an operation answers: 400, 401 and 503 always, and ``codes_``."""
    known = {400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT,
             413: TOO_LARGE, 415: UNSUPPORTED, 429: THROTTLED, 503: UNAVAILABLE}  # fmt: skip
    return {**ok, **{code: known[code] for code in sorted({400, 401, 503, *codes_})}}


def geo(code: int, name: str) -> dict[Any, Any]:
    return {(code, GEOJSON_TYPE): geojson(name)}


def layer_list(name: str) -> dict[Any, Any]:
    return responses(geo(200, f"{name}FeatureCollection"))


def layer_detail(name: str) -> dict[Any, Any]:
    return responses(geo(200, f"{name}Feature"), 404)


# -- bodies (what ``gridmap.api.inputs`` accepts) --------------------------------------------
LON = {"type": "number", "minimum": -180, "maximum": 180}
LAT = {"type": "number", "minimum": -90, "maximum": 90}
FILE = {"type": "string", "format": "binary"}
INTAKE = obj(
    {
        "lon": LON,
        "lat": LAT,
        "category": {"type": "string", "pattern": "^[0-9A-Za-z]{1,8}$", "description": "event category code, e.g. 0301"},
        "description": text(4000, may_be_null=True),
        "client_uuid": {"type": "string", "format": "uuid", "nullable": True,
                        "description": "one per report; a replay answers the first result"},
        "reported_at": {"type": "string", "format": "date-time", "nullable": True},
    },
    required=["lon", "lat", "category"],
)  # fmt: skip
TRANSITION = obj(
    {
        "action": {"type": "string", "enum": list(TRANSITIONS)},
        "note": text(2000, may_be_null=True),
        "lon": nullable(LON),
        "lat": nullable(LAT),
        "params": {**ANY_OBJECT, "nullable": True},
    },
    required=["action"],
)
TRANSITION_FORM = obj(
    {**TRANSITION["properties"], "params": {"type": "string", "description": "JSON text"},
     "photos": {"type": "array", "items": FILE}},
    required=["action"],
)  # fmt: skip
PHOTO = obj({"image": FILE, "lon": LON, "lat": LAT}, required=["image"])
POSITIVE_SITE = obj(
    {"lon": LON, "lat": LAT, "name": text(200, filled=True), "description": text(4000, may_be_null=True)},
    required=["lon", "lat", "name"],
)
SITE_PHOTO = obj({"image": FILE}, required=["image"])
CREDENTIALS = obj({"username": text(150, filled=True), "password": {"type": "string", "minLength": 1,
                   "maxLength": 1000, "pattern": TEXT_PATTERN}})  # fmt: skip

# -- analysis -----------------------------------------------------------------------------------
KIND = query_param("kind", "Facility kind code (e.g. litter_bin, hydrant).", CODE, required=True)
METRIC = query_param(
    "metric", "straight (default) or network (walking distance along streets).",
    {"type": "string", "enum": ["straight", "network"]},
)  # fmt: skip
RADIUS = query_param("radius_m", "Service radius in metres (default: the kind's).", number(1, 5000))
ONE_GRID = query_param("grid", "One grid code in your scope.", CODE)
ANALYSIS_ERRORS = (403, 404, 409)
COVERAGE_PARAMS = [
    KIND, METRIC, RADIUS, ONE_GRID, query_param("uncovered", "1: the gaps only.", FLAG), BBOX, *PAGE_PARAMS,
]  # fmt: skip
GAPS_PARAMS = [KIND, METRIC, RADIUS, ONE_GRID, BBOX, *PAGE_PARAMS]
SUGGESTION_PARAMS = [
    KIND,
    query_param("grid", "One grid code in your scope (give grid or community, not both).", CODE),
    query_param("community", "One community code in your scope (give grid or community, not both).", CODE),
    query_param("best", "Keep only the best P sites (maximal covering).", number(0, 500, "integer")),
    METRIC,
    RADIUS,
]
HOTSPOT_PARAMS = [
    query_param("method", "dbscan (default) or gistar.", {"type": "string", "enum": ["dbscan", "gistar"]}),
    query_param("eps_m", "DBSCAN neighbourhood in metres (default 50).", number(1, 2000)),
    query_param("min_samples", "DBSCAN core size (default 5).", number(2, 10_000, "integer")),
    query_param("status", "open (default) or all.", {"type": "string", "enum": ["open", "all"]}),
    query_param("days", "Look back this many days (default 90).", number(1, 3650, "integer")),
    *PAGE_PARAMS,
]
ROUTE_PARAMS = [
    query_param(
        "grid", "One grid code in your scope; inspectors may leave it out for their own route.", CODE
    ),
    METRIC,
    query_param(
        "budget_min", "Keep the most valuable stops that fit in this many minutes.", number(1, 24 * 60)
    ),
]
