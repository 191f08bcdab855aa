"""Paging of GeoJSON lists (``page``, ``page_size``) with OGC API Features counts and links.

One row more than the page is read: when it is not there, the number matched follows from the
offset and no COUNT is made. That is the usual case of a map loading an area (everything fits in
one page); a COUNT runs only when there are more rows than the page holds, or for an empty page
past the first. (Reading the count with the rows, as a scalar subquery, was measured: it costs
more whenever everything fits than it saves on full pages.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request

from gridmap.api.params import Paging
from gridmap.api.renderers import GEOJSON


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    matched: int
    paging: Paging

    @property
    def has_next(self) -> bool:
        return self.paging.offset + len(self.rows) < self.matched

    @property
    def has_prev(self) -> bool:
        return self.paging.page > 1


def page_of(rows_qs: QuerySet, count_qs: QuerySet, paging: Paging) -> Page:
    """The rows of ``paging``'s page of ``rows_qs``; ``count_qs`` counts the matches when needed."""
    start, size = paging.offset, paging.page_size
    rows = list(rows_qs[start : start + size + 1])
    if 0 < len(rows) <= size or (not rows and paging.page == 1):
        return Page(rows, start + len(rows), paging)
    return Page(rows[:size], count_qs.count(), paging)


def _link(request: Request, rel: str, page: int) -> dict[str, str]:
    query = request.query_params.copy()
    query["page"] = str(page)
    href = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {"rel": rel, "type": GEOJSON, "href": href}


def feature_collection(request: Request, page: Page, features: list[dict[str, Any]]) -> dict[str, Any]:
    links = []
    if page.has_prev:
        links.append(_link(request, "prev", page.paging.page - 1))
    if page.has_next:
        links.append(_link(request, "next", page.paging.page + 1))
    return {
        "type": "FeatureCollection",
        "numberMatched": page.matched,
        "numberReturned": len(features),
        "links": links,
        "features": features,
    }
