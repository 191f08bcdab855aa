"""The OpenAPI 3.0 document of the OGC API (``/ogc/api``): every path with its parameters, media
types and status codes, and for each collection a typed Feature and FeatureCollection schema
(its properties as the features carry them). Every collection is described; a client sees only
those it may read in ``/collections``."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from gridmap.api.ogc.crs import CRS84, SUPPORTED
from gridmap.api.ogc.documents import GEOJSON, HTML, JSON, OPENAPI, SCHEMA
from gridmap.api.ogc.items import DEFAULT_LIMIT, MAX_LIMIT

GEOMETRY_TYPES = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                  "GeometryCollection"]  # fmt: skip
ERROR = {"description": "Error", "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}
CRS_ENUM = {"type": "string", "format": "uri", "enum": list(SUPPORTED)}


def _param(name: str, schema: dict[str, Any], description: str, *, explode: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description,
            "style": "form", "explode": explode}  # fmt: skip


PARAMETERS = {
    "f": _param("f", {"type": "string", "enum": ["json", "html"]}, "The format (else the Accept header)."),
    "limit": _param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                    "Features per page."),
    "offset": _param("offset", {"type": "integer", "minimum": 0, "default": 0}, "Features skipped (next links)."),
    "bbox": _param("bbox", {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                   "minx,miny,maxx,maxy in bbox-crs (CRS84 by default).", explode=False),
    "bbox-crs": _param("bbox-crs", {**CRS_ENUM, "default": CRS84}, "The system of bbox."),
    "crs": _param("crs", {**CRS_ENUM, "default": CRS84}, "The system of the geometries answered."),
    "datetime": _param("datetime", {"type": "string"}, "An instant or an interval (start/end, .. for open)."),
    "filter": _param("filter", {"type": "string"}, "A CQL2 text filter on the collection's queryables."),
    "filter-lang": _param("filter-lang", {"type": "string", "enum": ["cql2-text", "cql-text"],
                                          "default": "cql2-text"}, "The filter language."),
    "filter-crs": _param("filter-crs", {"type": "string", "format": "uri", "enum": [CRS84], "default": CRS84},
                         "The system of the filter's geometries."),
}  # fmt: skip
ITEM_PARAMS = [
    "f",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _answer(description: str, media: dict[str, dict[str, Any]], **headers: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": media}
    if headers:
        out["headers"] = headers
    return out


def _json_or_html(schema: dict[str, Any], kind: str = JSON) -> dict[str, Any]:
    return {kind: {"schema": schema}, HTML: {"schema": {"type": "string"}}}


def _operation(op_id: str, summary: str, params: list[dict[str, Any]], ok: dict[str, Any],
               errors: tuple[int, ...] = (400,)) -> dict[str, Any]:  # fmt: skip
    responses = {"200": ok, **{str(code): ERROR for code in errors}, "401": ERROR, "500": ERROR}
    return {"get": {"operationId": op_id, "summary": summary, "parameters": params, "responses": responses}}


def _geometry(geometry: str) -> dict[str, Any]:
    types = GEOMETRY_TYPES if geometry == "Geometry" else [geometry]
    return {"type": "object", "nullable": True, "required": ["type"],
            "properties": {"type": {"type": "string", "enum": types}}}  # fmt: skip


def _oas_type(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema property as OpenAPI 3.0 writes it (``nullable`` instead of a type list)."""
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, list):
        out["type"] = next(t for t in kind if t != "null")
        out["nullable"] = True
    return out


def _feature_schemas(collection: Any) -> dict[str, Any]:
    name = collection.id.replace("-", "_")
    feature = {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": _oas_type(collection.id_schema),
            "geometry": _geometry(collection.geometry),
            "properties": {"type": "object",
                           "properties": {k: _oas_type(v) for k, v in collection.properties.items()}},
        },
    }  # fmt: skip
    page = {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}_feature"}},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "timeStamp": {"type": "string", "format": "date-time"},
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
        },
    }
    return {f"{name}_feature": feature, f"{name}_collection": page}


def _queryable_params(collection: Any) -> list[dict[str, Any]]:
    """Each queryable as a query parameter (an equality; GDAL reads these to know which
    attributes it may send in a filter)."""
    return [
        _param(name, _oas_type(qb.schema), f"Features whose {name} equals this.", explode=False)
        for name, qb in collection.queryables.items()
    ]


def _collection_paths(base: str, collection: Any) -> dict[str, Any]:
    cid, name = collection.id, collection.id.replace("-", "_")
    crs_header = {
        "Content-Crs": {"schema": {"type": "string"}, "description": "<URI> of the geometries' system"}
    }
    fid = {"name": "featureId", "in": "path", "required": True, "schema": _oas_type(collection.id_schema)}
    feature = {"$ref": f"#/components/schemas/{name}_feature"}
    return {
        f"{base}collections/{cid}": _operation(
            f"{name}_collection", f"{collection.title}", [_ref("f")],
            _answer("The collection", _json_or_html({"$ref": "#/components/schemas/Collection"})), (404,),
        ),
        f"{base}collections/{cid}/items": _operation(
            f"{name}_items", f"{collection.title}: features",
            [*(_ref(p) for p in ITEM_PARAMS), *_queryable_params(collection)],
            _answer("A page of features",
                    _json_or_html({"$ref": f"#/components/schemas/{name}_collection"}, GEOJSON), **crs_header),
            (400, 404),
        ),
        f"{base}collections/{cid}/items/{{featureId}}": _operation(
            f"{name}_item", f"{collection.title}: one feature", [fid, _ref("f"), _ref("crs")],
            _answer("The feature", _json_or_html(feature, GEOJSON), **crs_header), (400, 404),
        ),
        f"{base}collections/{cid}/queryables": _operation(
            f"{name}_queryables", f"{collection.title}: queryables", [_ref("f")],
            _answer("JSON Schema of the queryables", {SCHEMA: {"schema": {"type": "object"}}}), (404,),
        ),
        f"{base}collections/{cid}/schema": _operation(
            f"{name}_schema", f"{collection.title}: feature schema", [_ref("f")],
            _answer("JSON Schema of the features", {SCHEMA: {"schema": {"type": "object"}}}), (404,),
        ),
    }  # fmt: skip


def openapi_doc(request: Any, collections: dict[str, Any]) -> dict[str, Any]:
    root = reverse("ogc:landing")
    obj = {"type": "object"}
    paths: dict[str, Any] = {
        "/": _operation("landing", "Landing page", [_ref("f")], _answer("Landing page", _json_or_html(obj))),
        "/api": _operation("api", "This document", [_ref("f")], _answer("The API", {OPENAPI: {"schema": obj},
                                                                                   HTML: {"schema": obj}})),
        "/conformance": _operation("conformance", "Conformance classes", [_ref("f")],
                                   _answer("Conformance", _json_or_html(obj))),
        "/collections": _operation("collections", "Collections", [_ref("f")],
                                   _answer("Collections", _json_or_html(obj))),
    }  # fmt: skip
    for collection in collections.values():
        paths.update(_collection_paths("/", collection))
    schemas: dict[str, Any] = {
        "Error": {"type": "object", "properties": {"detail": {"type": "string"}}},
        "Link": {"type": "object", "required": ["href"],
                 "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")}},
        "Collection": {"type": "object", "required": ["id", "links"],
                       "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                      "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}}},
    }  # fmt: skip
    for collection in collections.values():
        schemas.update(_feature_schemas(collection))
    return {
        "openapi": "3.0.3",
        "info": {"title": "gridmap OGC API – Features", "version": "1.0.0",
                 "description": "Features of the layers a user may see. Authenticate with "
                                "'Authorization: Token <key>' (or a signed-in session)."},
        "servers": [{"url": request.build_absolute_uri(root).rstrip("/")}],
        "security": [{"token": []}, {"session": []}],
        "paths": paths,
        "components": {
            "parameters": PARAMETERS,
            "schemas": schemas,
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization",
                          "description": "Token <key>, from /api/v1/auth/token/"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
        },
    }  # fmt: skip
