"""The JSON documents of the OGC API besides features: landing page, conformance, collection
metadata, queryables and the feature schema. Links are absolute (built from the request)."""

from __future__ import annotations

from typing import Any

from django.contrib.gis.db.models import Extent
from django.urls import reverse
from django.utils.translation import gettext as _

from gridmap.api.ogc.analysis import FrameCollection
from gridmap.api.ogc.crs import CRS84, SUPPORTED

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
# ``f`` → the format answered (views.OgcView.fmt)
FORMATS = {"json": "json", "html": "html", "geojson": "json", "application/json": "json",
           "application/geo+json": "json", "text/html": "html"}  # fmt: skip
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_CONFORMANCE = "http://www.opengis.net/def/rel/ogc/1.0/conformance"
REL_DATA = "http://www.opengis.net/def/rel/ogc/1.0/data"

_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL = "http://www.opengis.net/spec/cql2/1.0/conf/"
CONFORMANCE = [
    _F1 + "core", _F1 + "oas30", _F1 + "geojson", _F1 + "html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    _F3 + "queryables", _F3 + "queryables-query-parameters", _F3 + "filter", _F3 + "features-filter",
    _CQL + "cql2-text", _CQL + "basic-cql2", _CQL + "advanced-comparison-operators",
    _CQL + "basic-spatial-functions", _CQL + "spatial-functions",
]  # fmt: skip


def url(request: Any, name: str, *args: Any, query: str = "") -> str:
    return request.build_absolute_uri(reverse(f"ogc:{name}", args=args)) + (f"?{query}" if query else "")


def link(href: str, rel: str, kind: str, title: str = "") -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": kind}
    if title:
        out["title"] = title
    return out


def self_links(request: Any, name: str, *args: Any, json_type: str = JSON) -> list[dict[str, str]]:
    """``self`` in the format answered and ``alternate`` in the other."""
    return [
        link(url(request, name, *args, query="f=json"), "self", json_type, _("this document")),
        link(url(request, name, *args, query="f=html"), "alternate", HTML, _("this document as HTML")),
    ]


def landing(request: Any) -> dict[str, Any]:
    return {
        "title": _("gridmap OGC API – Features"),
        "description": _(
            "Grids, buildings, facilities, problems, streets and analysis results, "
            "each limited to what the signed-in user may see."
        ),  # fmt: skip
        "links": [
            *self_links(request, "landing"),
            link(url(request, "openapi"), "service-desc", OPENAPI, _("the API definition")),
            link(
                url(request, "openapi", query="f=html"), "service-doc", HTML, _("the API definition as HTML")
            ),
            link(url(request, "conformance"), "conformance", JSON, _("conformance classes")),
            link(url(request, "conformance"), REL_CONFORMANCE, JSON, _("conformance classes")),
            link(url(request, "collections"), "data", JSON, _("collections")),
            link(url(request, "collections"), REL_DATA, JSON, _("collections")),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def _extent(collection: Any, user: Any) -> list[float] | None:
    if isinstance(collection, FrameCollection):
        frame = collection.frame(user)
        return [float(v) for v in frame.total_bounds] if len(frame) else None
    box = collection.queryset(user).order_by().aggregate(box=Extent("geom"))["box"]
    return [float(v) for v in box] if box else None


def collection_doc(request: Any, collection: Any, user: Any, *, extent: bool = True) -> dict[str, Any]:
    cid = collection.id
    doc: dict[str, Any] = {
        "id": cid,
        "title": str(collection.title),
        "description": str(collection.description),
        "itemType": "feature",
        "links": [
            *self_links(request, "collection", cid),
            link(url(request, "items", cid), "items", GEOJSON, _("the features")),
            link(url(request, "items", cid, query="f=html"), "items", HTML, _("the features as HTML")),
            link(url(request, "queryables", cid), REL_QUERYABLES, SCHEMA, _("queryables")),
            link(url(request, "schema", cid), "describedby", SCHEMA, _("the feature schema")),
        ],
        "crs": list(SUPPORTED),
        "storageCrs": CRS84,
    }
    if extent:
        box = _extent(collection, user)
        doc["extent"] = {"spatial": {"bbox": [box] if box else [[-180.0, -90.0, 180.0, 90.0]], "crs": CRS84}}
    return doc


def collections_doc(request: Any, collections: dict[str, Any], user: Any) -> dict[str, Any]:
    return {
        "links": self_links(request, "collections"),
        "collections": [collection_doc(request, c, user, extent=False) for c in collections.values()],
        "crs": list(SUPPORTED),
    }


def geometry_schema(geometry: str) -> dict[str, Any]:
    if geometry == "Geometry":
        return {"format": "geometry-any"}
    return {"format": f"geometry-{geometry.lower()}"}


def queryables_doc(request: Any, collection: Any) -> dict[str, Any]:
    props = {name: {"title": name, **qb.schema} for name, qb in collection.queryables.items()}
    if collection.queryables:
        props["geometry"] = {"title": "geometry", **geometry_schema(collection.geometry)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(request, "queryables", collection.id),
        "type": "object",
        "title": str(collection.title),
        "properties": props,
        "additionalProperties": False,
    }


def _one_type(schema: dict[str, Any]) -> dict[str, Any]:
    """A property's schema with one type (GDAL 3.6 reads ``type`` only as a string); any value
    may be null."""
    kind = schema.get("type")
    if isinstance(kind, list):
        return {**schema, "type": next(t for t in kind if t != "null")}
    return dict(schema)


def schema_doc(request: Any, collection: Any) -> dict[str, Any]:
    """The properties of the features, typed (what GDAL reads through ``describedby``)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(request, "schema", collection.id),
        "type": "object",
        "title": str(collection.title),
        "properties": {
            "geometry": geometry_schema(collection.geometry),
            **{name: _one_type(schema) for name, schema in collection.properties.items()},
        },
    }
