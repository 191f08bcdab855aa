"""Thin views of the OGC API: authenticate as the REST API does (token or session), check the
query, read through ``items``/``documents``, answer JSON (GeoJSON for features) or HTML.

The format is ``f`` when given, else the Accept header's preference among GeoJSON, JSON and
HTML (JSON when nothing is said). Errors are the REST API's JSON errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from gridmap.accounts.selectors import role_of
from gridmap.api.auth import AUTHENTICATION
from gridmap.api.errors import api_exception_handler, bad_request
from gridmap.api.features import RowContext, actions_by_status
from gridmap.api.ogc import documents as docs
from gridmap.api.ogc import items as it
from gridmap.api.ogc.analysis import FrameCollection
from gridmap.api.ogc.catalogue import all_collections, collections_for
from gridmap.api.ogc.crs import parse_crs
from gridmap.api.ogc.documents import FORMATS
from gridmap.api.ogc.openapi import openapi_doc
from gridmap.api.params import check_names
from gridmap.api.renderers import ORJSONRenderer, dumps, json_response

PAGING = {"limit", "offset", "f"}


class OgcView(APIView):
    schema = None  # the OGC API has its own OpenAPI document (/ogc/api), not the REST API's
    authentication_classes = AUTHENTICATION
    permission_classes = (AllowAny,)  # each collection decides (``catalogue.collections_for``)
    renderer_classes = (ORJSONRenderer,)
    params: frozenset[str] = frozenset({"f"})

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Any]:
        return api_exception_handler

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[Any, str]:
        # the format is chosen in ``fmt`` (f= or Accept); never a 406 before the view runs
        return ORJSONRenderer(), "application/json"

    def values(self, request: Request) -> dict[str, str]:
        return check_names(request.query_params, self.params)

    def fmt(self, request: Request, values: dict[str, str]) -> str:
        if "f" in values:
            if values["f"] not in FORMATS:
                raise bad_request(_("f must be json or html."))
            return FORMATS[values["f"]]
        best = request._request.get_preferred_type([docs.GEOJSON, docs.JSON, docs.HTML, "*/*"])
        return "html" if best == docs.HTML else "json"

    def answer(self, request: Request, data: Any, kind: str, fmt: str, **headers: str) -> HttpResponse:
        if fmt == "html":
            response = render(request._request, "ogc/page.html", _page(data))
        else:
            response = HttpResponse(dumps(data), content_type=kind)
        for name, value in headers.items():
            response[name.replace("_", "-")] = value
        return response

    def collection(self, request: Request, cid: str) -> Any:
        found = collections_for(request.user, cid)
        if cid in found:
            return found[cid]
        if not request.user.is_authenticated and cid in all_collections():
            raise NotAuthenticated()
        raise NotFound(_("No collection %(id)s.") % {"id": cid[:60]})


def _page(data: dict[str, Any]) -> dict[str, Any]:
    """What the HTML page shows of a document: its heading, links, collections and the JSON."""
    return {
        "heading": data.get("title") or data.get("id") or _("OGC API – Features"),
        "description": data.get("description", ""),
        "links": data.get("links", []),
        "collections": [(c["id"], c["title"], c["links"][1]["href"]) for c in data.get("collections", [])],
        "counts": (data["numberReturned"], data["numberMatched"]) if "numberMatched" in data else None,
        "pretty": dumps(data).decode(),
    }


class Landing(OgcView):
    def get(self, request: Request) -> HttpResponse:
        fmt = self.fmt(request, self.values(request))
        return self.answer(request, docs.landing(request), docs.JSON, fmt)


class Conformance(OgcView):
    def get(self, request: Request) -> HttpResponse:
        fmt = self.fmt(request, self.values(request))
        return self.answer(request, docs.conformance(), docs.JSON, fmt)


class OpenApi(OgcView):
    def get(self, request: Request) -> HttpResponse:
        fmt = self.fmt(request, self.values(request))
        return self.answer(request, openapi_doc(request, all_collections()), docs.OPENAPI, fmt)


class Collections(OgcView):
    def get(self, request: Request) -> HttpResponse:
        fmt = self.fmt(request, self.values(request))
        doc = docs.collections_doc(request, collections_for(request.user), request.user)
        return self.answer(request, doc, docs.JSON, fmt)


def _item_values(request: Request, collection: Any) -> dict[str, str]:
    """The items' parameters: the standard ones and each queryable (an equality)."""
    return check_names(request.query_params, it.ITEM_PARAMS | set(collection.queryables))


class CollectionView(OgcView):
    # GDAL (3.6) repeats the query of the URL it was given on every request it makes, so a
    # collection URL carrying ``filter`` or ``crs`` for the items must not be refused here.
    def get(self, request: Request, cid: str) -> HttpResponse:
        collection = self.collection(request, cid)
        fmt = self.fmt(request, _item_values(request, collection))
        doc = docs.collection_doc(request, collection, request.user)
        return self.answer(request, doc, docs.JSON, fmt)


class Queryables(OgcView):
    def get(self, request: Request, cid: str) -> HttpResponse:
        fmt = self.fmt(request, self.values(request))
        return self.answer(
            request, docs.queryables_doc(request, self.collection(request, cid)), docs.SCHEMA, fmt
        )


class Schema(OgcView):
    def get(self, request: Request, cid: str) -> HttpResponse:
        fmt = self.fmt(request, self.values(request))
        return self.answer(request, docs.schema_doc(request, self.collection(request, cid)), docs.SCHEMA, fmt)


def _context(request: Request) -> RowContext:
    return RowContext(timezone.now(), actions_by_status(role_of(request.user)))


def _page_link(request: Request, rel: str, offset: int, limit: int, kind: str) -> dict[str, str]:
    """The link to another page: the query as the client wrote it (GDAL repeats the query of the
    URL it was given and recognises it only as written), with ``limit`` and ``offset`` set."""
    kept = [
        p for p in request.META.get("QUERY_STRING", "").split("&") if p and p.split("=", 1)[0] not in PAGING
    ]
    extra = {"limit": limit, "offset": offset, **({"f": "html"} if kind == docs.HTML else {})}
    query = "&".join([*kept, urlencode(extra)])
    return docs.link(request.build_absolute_uri(f"{request.path}?{query}"), rel, kind)


class Items(OgcView):
    def get(self, request: Request, cid: str) -> HttpResponse:
        collection = self.collection(request, cid)
        values = _item_values(request, collection)
        fmt = self.fmt(request, values)
        query = it.parse_items_query(values, collection)
        if isinstance(collection, FrameCollection):
            features, matched = it.frame_page(collection, request.user, query)
        else:
            features, matched = it.read_page(collection, request.user, query, _context(request))
        kind = docs.HTML if fmt == "html" else docs.GEOJSON
        links = [docs.link(request.build_absolute_uri(), "self", kind)]
        if query.offset + len(features) < matched:
            links.append(_page_link(request, "next", query.offset + query.limit, query.limit, kind))
        if query.offset > 0:
            links.append(_page_link(request, "prev", max(0, query.offset - query.limit), query.limit, kind))
        body = {
            "type": "FeatureCollection",
            "numberMatched": matched,
            "numberReturned": len(features),
            "timeStamp": timezone.now(),
            "links": links,
            "features": features,
        }
        return self.answer(request, body, docs.GEOJSON, fmt, Content_Crs=f"<{query.crs.uri}>")


class Item(OgcView):
    params = frozenset({"f", "crs"})

    def get(self, request: Request, cid: str, fid: str) -> HttpResponse:
        values = self.values(request)
        fmt = self.fmt(request, values)
        collection = self.collection(request, cid)
        crs = parse_crs(values.get("crs"))
        if isinstance(collection, FrameCollection):
            feature = it.frame_one(collection, request.user, fid, crs)
        else:
            feature = it.read_one(collection, request.user, fid, crs, _context(request))
        if feature is None:
            raise NotFound(_("No feature %(id)s in %(collection)s.") % {"id": fid[:40], "collection": cid})
        feature["links"] = [
            docs.link(request.build_absolute_uri(), "self", docs.GEOJSON),
            docs.link(docs.url(request, "collection", cid), "collection", docs.JSON),
        ]
        return self.answer(request, feature, docs.GEOJSON, fmt, Content_Crs=f"<{crs.uri}>")


def not_found(request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
    """Anything under /ogc/ that matches no resource (OGC API paths have no trailing slash)."""
    return json_response({"detail": _("No such OGC API resource.")}, status=404)
