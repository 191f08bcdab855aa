"""The OpenAPI 3.0 document of the OGC API (``/ogc/api``), written to tell the truth about what the
views answer (schemathesis holds it: tests/ogcapi/test_openapi_schemathesis.py):

- media types as served: ``application/json`` for the documents, ``application/geo+json`` for
  features, ``application/schema+json`` for queryables and schemas, this document as
  ``application/vnd.oai.openapi+json;version=3.0``, and each of them as ``text/html`` (``f=html``
  or a browser's Accept); every error is the REST API's JSON ``{"detail": ...}``;
- every status answered: 400 (a parameter refused), 401 (no or a wrong token where one is needed;
  a wrong token anywhere), 404 (no such collection or feature), 405 (another method, with
  ``Allow``), 500 and 503 (with ``Retry-After``); no 406: the format falls back to JSON;
- the parameters' rules as schema (ranges, enums, the text the boundary accepts, ISO 8601 times
  between 1971 and 2099 by pattern); what JSON Schema cannot say is in the descriptions: a
  ``bbox``'s corners in order and within its system, an interval's start before its end, a
  ``filter`` in CQL2 text over the queryables;
- for each collection a typed Feature and FeatureCollection (its properties as the features carry
  them) and its queryables as parameters. The landing page, this document, conformance and
  the list of collections need no login; a collection needs one unless it is public.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from gridmap.api.ogc.catalogue import public_ids
from gridmap.api.ogc.crs import CRS84, SUPPORTED
from gridmap.api.ogc.documents import FORMATS, GEOJSON, HTML, JSON, OPENAPI, SCHEMA
from gridmap.api.ogc.items import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from gridmap.api.params import MAX_VALUE_CHARS

BIG = 2**53  # numbers a filter compares (cql.BIG)
# Text the input boundary accepts (gridmap.core.boundary.check_text): no control characters.
_CHARS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
TEXT = {"type": "string", "maxLength": MAX_VALUE_CHARS, "pattern": f"^[^{_CHARS}]*$"}
# An equality written as a parameter takes no quote (cql.equals: a quote belongs in a filter)
# and no line feed (CQL2 text has none in a string).
QUERY_TEXT = {"type": "string", "maxLength": MAX_VALUE_CHARS, "pattern": f"^[^'\\u000a{_CHARS}]*$"}
# ISO 8601 days and times of 1971–2099 (inside the 1970–2100 that api.params.parse_when and the
# filters accept, whatever the offset), each day one the calendar has.
_Y = "(19[7-9][1-9]|198[0-9]|199[0-9]|20[0-9][0-9])"
_DAY = (f"({_Y}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|{_Y}-(0[13-9]|1[0-2])-(29|30)"
        f"|{_Y}-(0[13578]|1[02])-31|(197[26]|198[048]|199[26]|20[02468][048]|20[13579][26])-02-29)")  # fmt: skip
_TIME = r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])"
_INSTANT = f"{_DAY}({_TIME})?"
DATE = {"type": "string", "pattern": f"^{_DAY}$"}
DATETIME = {"type": "string", "pattern": f"^{_DAY}{_TIME}$"}
PERIOD = {"type": "string", "pattern": rf"^({_INSTANT}|{_INSTANT}/({_INSTANT}|\.\.)?|(\.\.)?/{_INSTANT})$"}
GEOMETRY_TYPES = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                  "GeometryCollection"]  # fmt: skip
CRS_ENUM = {"type": "string", "enum": list(SUPPORTED)}
MERCATOR_MAX = 20037508.342789244


def _param(name: str, schema: dict[str, Any], description: str, *, explode: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description,
            "style": "form", "explode": explode}  # fmt: skip


def _box(n: int) -> dict[str, Any]:
    number = {"type": "number", "minimum": -MERCATOR_MAX, "maximum": MERCATOR_MAX}
    return {"type": "array", "minItems": n, "maxItems": n, "items": number}


PARAMETERS = {
    "f": _param("f", {"type": "string", "enum": list(FORMATS)}, "The format (else the Accept header; JSON)."),
    "limit": _param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                    "Features per page."),
    "offset": _param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
                     "Features skipped (next links)."),
    "bbox": _param("bbox", {"oneOf": [_box(4), _box(6)]},
                   "minx,miny,maxx,maxy (or six numbers with heights) in bbox-crs (CRS84 by default): "
                   "each minimum at most its maximum, longitudes within ±180 and latitudes within ±90 "
                   "(metres within the Web Mercator square in EPSG:3857).", explode=False),
    "bbox-crs": _param("bbox-crs", {**CRS_ENUM, "default": CRS84}, "The system of bbox."),
    "crs": _param("crs", {**CRS_ENUM, "default": CRS84}, "The system of the geometries answered."),
    "datetime": _param("datetime", PERIOD, "An instant or an interval start/end (.. or nothing for an open "
                                           "end; the start not after the end)."),
    "filter": _param("filter", {**TEXT, "minLength": 1},
                     "A CQL2 text filter on the collection's queryables (see /queryables)."),
    "filter-lang": _param("filter-lang", {"type": "string", "enum": ["cql2-text", "cql-text"],
                                          "default": "cql2-text"}, "The filter language."),
    "filter-crs": _param("filter-crs", {"type": "string", "enum": [CRS84], "default": CRS84},
                         "The system of the filter's geometries."),
}  # fmt: skip


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _items_params(collection: Any) -> list[dict[str, Any]]:
    names = ["f", "limit", "offset", "bbox", "bbox-crs", "crs"]
    if collection.temporal is not None:
        names.append("datetime")
    if collection.queryables:
        names += ["filter", "filter-lang", "filter-crs"]
    return [*map(_ref, names), *_queryable_params(collection)]


def _error(description: str, **headers: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description,
                           "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}  # fmt: skip
    if headers:
        out["headers"] = headers
    return out


ERRORS = {
    "400": _error("A parameter is unknown, repeated or refused (the detail says which and why)."),
    "401": _error(
        "No valid credentials: a wrong token, or none where the collection needs a login.",
        **{"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    "404": _error("No such collection or feature (or not one you may see)."),
    "405": _error("Only GET (and HEAD) are answered.", Allow={"schema": {"type": "string"}}),
    "500": _error("A fault of the server."),
    "503": _error(
        "The database is unavailable; retry later.", **{"Retry-After": {"schema": {"type": "string"}}}
    ),
}


def _answer(description: str, schema: dict[str, Any], kind: str, **headers: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description,
                           "content": {kind: {"schema": schema}, HTML: {"schema": {"type": "string"}}}}  # fmt: skip
    if headers:
        out["headers"] = headers
    return out


def _operation(op_id: str, summary: str, params: list[dict[str, Any]], ok: dict[str, Any], *,
               found: bool = False, secured: bool = True) -> dict[str, Any]:  # fmt: skip
    errors = {code: e for code, e in ERRORS.items() if code != "404" or found}
    security = [{"token": []}, {"session": []}]
    return {"get": {"operationId": op_id, "summary": summary, "parameters": params,
                    "security": security if secured else [{}, *security],
                    "responses": {"200": ok, **errors}}}  # fmt: skip


def _geometry(geometry: str) -> dict[str, Any]:
    types = GEOMETRY_TYPES if geometry == "Geometry" else [geometry]
    return {"type": "object", "required": ["type"],
            "properties": {"type": {"type": "string", "enum": types}, "coordinates": {"type": "array"},
                           "geometries": {"type": "array"}}}  # fmt: skip


def oas_type(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema property as OpenAPI 3.0 writes it (``nullable`` instead of a type list)."""
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, list):
        out["type"] = next(t for t in kind if t != "null")
        out["nullable"] = True
    return out


def _name(collection: Any) -> str:
    return collection.id.replace("-", "_")


def _feature_schemas(collection: Any) -> dict[str, Any]:
    name = _name(collection)
    props = {k: oas_type(v) for k, v in collection.properties.items()}
    feature = {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": oas_type(collection.id_schema),
            "geometry": _geometry(collection.geometry),
            "properties": {"type": "object", "required": sorted(props), "properties": props},
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
        },
    }
    page = {
        "type": "object",
        "required": ["type", "features", "numberMatched", "numberReturned", "timeStamp", "links"],
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


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A queryable's schema as a query parameter accepts it (``cql.equals``)."""
    kind = schema.get("type")
    kind = next(t for t in kind if t != "null") if isinstance(kind, list) else kind
    if schema.get("format") == "date-time":
        return DATETIME
    if schema.get("format") == "date":
        return DATE
    if kind in ("integer", "number"):
        return {"type": kind, "minimum": -BIG, "maximum": BIG}
    if "enum" in schema:
        return {"type": "string", "enum": schema["enum"]}
    if "pattern" in schema:
        return {"type": "string", "pattern": schema["pattern"]}
    return QUERY_TEXT


def _queryable_params(collection: Any) -> list[dict[str, Any]]:
    """Each queryable as a query parameter (an equality; GDAL reads these to know which
    attributes it may send in a filter)."""
    return [
        _param(name, _query_schema(qb.schema), f"Features whose {name} equals this.", explode=False)
        for name, qb in collection.queryables.items()
    ]


def _collection_paths(collection: Any, public: bool) -> dict[str, Any]:
    cid, name = collection.id, _name(collection)
    crs_header = {
        "Content-Crs": {"schema": {"type": "string"}, "required": True,
                        "description": "<URI> of the geometries' system"}
    }  # fmt: skip
    fid = {"name": "featureId", "in": "path", "required": True, "schema": oas_type(collection.id_schema)}
    feature = {"$ref": f"#/components/schemas/{name}_feature"}
    json_schema = {"$ref": "#/components/schemas/JsonSchema"}
    kw = {"found": True, "secured": not public}
    return {
        f"/collections/{cid}": _operation(
            f"{name}_collection", f"{collection.title}", [_ref("f")],
            _answer("The collection", {"$ref": "#/components/schemas/Collection"}, JSON), **kw,
        ),
        f"/collections/{cid}/items": _operation(
            f"{name}_items", f"{collection.title}: features", _items_params(collection),
            _answer("A page of features", {"$ref": f"#/components/schemas/{name}_collection"}, GEOJSON,
                    **crs_header), **kw,
        ),
        f"/collections/{cid}/items/{{featureId}}": _operation(
            f"{name}_item", f"{collection.title}: one feature", [fid, _ref("f"), _ref("crs")],
            _answer("The feature", feature, GEOJSON, **crs_header), **kw,
        ),
        f"/collections/{cid}/queryables": _operation(
            f"{name}_queryables", f"{collection.title}: queryables", [_ref("f")],
            _answer("JSON Schema of the queryables", json_schema, SCHEMA), **kw,
        ),
        f"/collections/{cid}/schema": _operation(
            f"{name}_schema", f"{collection.title}: feature schema", [_ref("f")],
            _answer("JSON Schema of the features", json_schema, SCHEMA), **kw,
        ),
    }  # fmt: skip


def _links_doc(*required: str, **extra: Any) -> dict[str, Any]:
    links = {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}
    return {"type": "object", "required": ["links", *required], "properties": {"links": links, **extra}}


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}},
    "Link": {"type": "object", "required": ["href", "rel"],
             "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")}},
    "Collection": {"type": "object", "required": ["id", "title", "links", "itemType", "crs", "storageCrs"],
                   "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                  "description": {"type": "string"}, "itemType": {"type": "string"},
                                  "crs": {"type": "array", "items": {"type": "string"}},
                                  "storageCrs": {"type": "string"}, "extent": {"type": "object"},
                                  "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}}},
    "JsonSchema": {"type": "object", "required": ["$schema", "$id", "type", "properties"],
                   "properties": {"$schema": {"type": "string"}, "$id": {"type": "string"},
                                  "type": {"type": "string", "enum": ["object"]},
                                  "properties": {"type": "object"}}},
    "Landing": _links_doc("title", title={"type": "string"}, description={"type": "string"}),
    "Conformance": {"type": "object", "required": ["conformsTo"],
                    "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}}},
    "Collections": _links_doc("collections", collections={"type": "array",
                                                          "items": {"$ref": "#/components/schemas/Collection"}}),
    "OpenAPI": {"type": "object", "required": ["openapi", "info", "paths"],
                "properties": {"openapi": {"type": "string"}, "info": {"type": "object"},
                               "paths": {"type": "object"}}},
}  # fmt: skip


def openapi_doc(request: Any, collections: dict[str, Any]) -> dict[str, Any]:
    root = reverse("ogc:landing")
    f = [_ref("f")]
    paths: dict[str, Any] = {
        "/": _operation("landing", "Landing page", f, _answer("Landing page", {"$ref": "#/components/schemas/Landing"},
                                                              JSON), secured=False),
        "/api": _operation("api", "This document", f,
                           _answer("The API", {"$ref": "#/components/schemas/OpenAPI"}, OPENAPI), secured=False),
        "/conformance": _operation("conformance", "Conformance classes", f,
                                   _answer("Conformance", {"$ref": "#/components/schemas/Conformance"}, JSON),
                                   secured=False),
        "/collections": _operation("collections", "Collections (those the caller may read)", f,
                                   _answer("Collections", {"$ref": "#/components/schemas/Collections"}, JSON),
                                   secured=False),
    }  # fmt: skip
    public = public_ids()
    schemas = dict(SCHEMAS)
    for collection in collections.values():
        paths.update(_collection_paths(collection, collection.id in public))
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
