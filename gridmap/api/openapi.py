"""The one place that writes the OpenAPI component schemas of the API's GeoJSON: typed geometries,
a Feature and a FeatureCollection per layer with the layer's properties (as ``features`` and
``analysis_features`` write them), and the error bodies. ``add_components`` (a drf-spectacular
postprocessing hook, SPECTACULAR_SETTINGS) puts them in the document; views point at them with
``geojson`` (a response in ``application/geo+json``) and ``json_body``.

OpenAPI 3.0: a value that may be missing from the database is ``nullable``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse

from gridmap.problems.models import Status

GEOJSON_TYPE = "application/geo+json"
JSON_TYPE = "application/json"
REF = "#/components/schemas/"

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": REF + name}


def nullable(schema: Schema) -> Schema:
    if "$ref" in schema:  # OpenAPI 3.0 ignores what stands beside a $ref
        return {"allOf": [schema], "nullable": True}
    return {**schema, "nullable": True}


STR, INT, NUM, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
NSTR, NINT, NNUM = nullable(STR), nullable(INT), nullable(NUM)
TIME = {"type": "string", "format": "date-time"}
NTIME = nullable(TIME)
NDATE = nullable({"type": "string", "format": "date"})
ANY_OBJECT = {"type": "object", "additionalProperties": True}
# storable text (gridmap.core.boundary.check_text: no control characters) and text that is not
# blank once stripped (a required field)
_CONTROL = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
TEXT_PATTERN = rf"^[^{_CONTROL}]*$"
FILLED_TEXT_PATTERN = rf"^[^{_CONTROL}]*[^{_CONTROL}\s][^{_CONTROL}]*$"


def text(max_chars: int, *, filled: bool = False, may_be_null: bool = False) -> Schema:
    out = {
        "type": "string",
        "maxLength": max_chars,
        "pattern": FILLED_TEXT_PATTERN if filled else TEXT_PATTERN,
    }
    return nullable(out) if may_be_null else out


def obj(properties: dict[str, Schema], *, required: list[str] | None = None, extra: bool = False) -> Schema:
    out: Schema = {"type": "object", "properties": properties, "additionalProperties": extra}
    required = sorted(properties) if required is None else required
    if required:  # OpenAPI 3.0: an empty list is not allowed
        out["required"] = required
    return out


# -- geometries (RFC 7946, EPSG:4326: longitude, latitude) --------------------------------------
POSITION = {"type": "array", "items": NUM, "minItems": 2, "maxItems": 3}
_LINE = {"type": "array", "items": POSITION, "minItems": 2}
_RING = {"type": "array", "items": POSITION, "minItems": 4}
_POLYGON = {"type": "array", "items": _RING, "minItems": 1}
_COORDINATES = {
    "Point": POSITION,
    "MultiPoint": {"type": "array", "items": POSITION},
    "LineString": _LINE,
    "MultiLineString": {"type": "array", "items": _LINE},
    "Polygon": _POLYGON,
    "MultiPolygon": {"type": "array", "items": _POLYGON},
}


def _geometry(kind: str) -> Schema:
    return obj({"type": {"type": "string", "enum": [kind]}, "coordinates": _COORDINATES[kind]})


GEOMETRIES = {f"{kind}Geometry": _geometry(kind) for kind in _COORDINATES}
ANY_GEOMETRY = {"oneOf": [ref(name) for name in GEOMETRIES]}

# -- properties of each layer ---------------------------------------------------------------
PROBLEM_STATUS = {"type": "string", "enum": list(Status.values)}
PHOTO = obj({"id": INT, "stage": STR, "taken_at": NTIME, "event": NINT, "url": NSTR})
EVIDENCE = nullable(
    obj(
        {
            "verified_at": NTIME,
            "note": STR,
            "verified_by": NSTR,
            "photos": {"type": "array", "items": ref("Photo")},
        }
    )
)
LAYERS: dict[str, tuple[str, dict[str, Schema]]] = {
    # name: (geometry schema, properties)
    "Grid": ("MultiPolygonGeometry", {
        "code": STR, "name": STR, "community": NSTR, "community_name": NSTR, "area_m2": NNUM, "leader": NSTR,
    }),
    "Building": ("MultiPolygonGeometry", {
        "address": STR, "use": STR, "floors": NINT, "households": NINT, "population": NINT, "grid": NSTR,
        "community": NSTR,
    }),
    "Facility": ("", {
        "kind": STR, "kind_name": STR, "name": STR, "condition": STR, "last_inspected": NDATE,
        "capacity": NINT, "accessible_spaces": NINT, "grid": NSTR, "attrs": ANY_OBJECT,
    }),
    "PositiveSite": ("PointGeometry", {
        "name": STR, "description": STR, "grid": NSTR, "community": NSTR, "created_at": TIME,
        "created_by": NSTR, "photo_url": NSTR,
    }),
    "Problem": ("PointGeometry", {
        "uuid": {"type": "string", "format": "uuid"}, "category": NSTR, "category_name": NSTR,
        "status": PROBLEM_STATUS, "description": STR, "reported_at": TIME, "deadline": NTIME, "closed_at": NTIME,
        "overdue": BOOL, "grid": NSTR, "community": NSTR, "department": NSTR, "facility": NINT,
        "rework_count": INT, "extension_count": INT, "reopen_count": INT,
        "actions": {"type": "array", "items": STR},
    }),
}  # fmt: skip
LAYERS["NegativeListItem"] = ("PointGeometry", {**LAYERS["Problem"][1], "evidence": EVIDENCE})
ANALYSIS_LAYERS: dict[str, tuple[str, dict[str, Schema]]] = {
    "CoverageBuilding": ("", {
        "id": STR, "address": NSTR, "use": NSTR, "households": NINT, "grid": NSTR, "straight_facility": NSTR,
        "straight_m": NNUM, "straight_covered": BOOL, "network_facility": NSTR, "network_m": NNUM,
        "network_covered": BOOL, "covered": BOOL,
    }),
    "Gap": ("", {"code": STR, "area_m2": NNUM, "uncovered_m2": NNUM, "uncovered_share": NNUM}),
}  # fmt: skip
# computed frames (hotspots, sites, stops, coverage along streets): columns that differ by method
COMPUTED = "Computed"

FEATURE_ID = {"oneOf": [INT, STR]}


def _feature(geometry: str, properties: Schema, *, extra: dict[str, Schema] | None = None) -> Schema:
    return obj(
        {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": FEATURE_ID,
            "geometry": ref(geometry) if geometry else ANY_GEOMETRY,
            "properties": properties,
            **(extra or {}),
        },
        required=["type", "geometry", "properties"],
    )


LINK = obj({"rel": STR, "type": STR, "href": {"type": "string", "format": "uri"}}, required=["rel", "href"])
ANALYSIS_STATE = obj({"state": STR, "as_of": NTIME, "computed_at": NTIME}, required=["state"])


def _collection(feature: str, *, paged: bool = True, extra: dict[str, Schema] | None = None) -> Schema:
    props: dict[str, Schema] = {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": ref(feature)},
    }
    required = ["type", "features"]
    if paged:
        props |= {"numberMatched": {"type": "integer", "minimum": 0},
                  "numberReturned": {"type": "integer", "minimum": 0},
                  "links": {"type": "array", "items": ref("Link")}}  # fmt: skip
        required += ["numberMatched", "numberReturned", "links"]
    return obj({**props, **(extra or {})}, required=required)


def components() -> dict[str, Schema]:
    out: dict[str, Schema] = {**GEOMETRIES, "Link": LINK, "Photo": PHOTO, "AnalysisState": ANALYSIS_STATE}
    for name, (geometry, properties) in (LAYERS | ANALYSIS_LAYERS).items():
        analysis = name in ANALYSIS_LAYERS  # computed along streets, a frame may carry other columns
        props = obj(properties, required=[] if analysis else None, extra=analysis)
        out[f"{name}Properties"] = props
        out[f"{name}Feature"] = _feature(geometry, ref(f"{name}Properties"))
        out[f"{name}FeatureCollection"] = _collection(
            f"{name}Feature", extra={"summary": ANY_OBJECT, "analysis": ref("AnalysisState")}
        )
    out["ProblemDetailFeature"] = _feature(
        "PointGeometry", ref("ProblemProperties"), extra={"photos": {"type": "array", "items": ref("Photo")}}
    )
    duplicate = obj({"id": INT, "distance_m": NUM})
    out["ProblemIntakeFeature"] = _feature(
        "PointGeometry",
        ref("ProblemProperties"),
        extra={"possible_duplicates": {"type": "array", "items": duplicate}},
    )
    event = obj({"id": INT, "action": STR, "from_status": NSTR, "to_status": NSTR, "at": TIME, "note": STR,
                     "data": ANY_OBJECT})  # fmt: skip
    # a step can take the problem out of the actor's sight: then no geometry and no properties
    out["TransitionFeature"] = _feature(
        "PointGeometry", nullable(ref("ProblemProperties")), extra={"event": event}
    )
    out["TransitionFeature"]["properties"]["geometry"] = nullable(ref("PointGeometry"))
    out[f"{COMPUTED}Feature"] = _feature("", ANY_OBJECT)
    out[f"{COMPUTED}FeatureCollection"] = _collection(
        f"{COMPUTED}Feature", extra={"summary": ANY_OBJECT, "analysis": ref("AnalysisState")}
    )
    out[f"{COMPUTED}Result"] = _collection(  # unpaged: siting suggestions and routes
        f"{COMPUTED}Feature", paged=False, extra={"summary": ANY_OBJECT, "analysis": ref("AnalysisState")}
    )
    out[f"{COMPUTED}Result"]["additionalProperties"] = True
    out["Error"] = obj(
        {
            "detail": STR,
            "errors": {"type": "object", "additionalProperties": {"type": "array", "items": STR}},
        },
        required=["detail"],
    )
    out["TransitionConflict"] = obj(
        {"detail": STR, "status": PROBLEM_STATUS, "allowed": {"type": "array", "items": STR}},
        required=["detail"],
    )
    return out


def add_components(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the GeoJSON and error schemas in the document, and
    every request body required (each operation that takes one refuses a request without it)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(components())
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["requestBody"]["required"] = True
    return result


def geojson(name: str, description: str = "") -> OpenApiResponse:
    """A response whose body is the component ``name``, served as ``application/geo+json``."""
    return OpenApiResponse(ref(name), description=description or name)


def error(description: str, name: str = "Error") -> OpenApiResponse:
    return OpenApiResponse(ref(name), description=description)
