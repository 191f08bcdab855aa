"""Paging of GeoJSON lists (``page``, ``page_size``) with OGC API Features counts and links.

Two ways to know the number matched, by page size. A small page is usually one of many: its rows
carry the count as their last column (``CountOf``), one round trip. A large page usually holds
everything (a map loading an area): one row more than the page is read, and when it is not there
the count follows from the offset and none is made. A separate COUNT runs only for an empty page
past the first, or a large page that is full.
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


COUNT_IN_QUERY_MAX = 250  # page sizes up to this read the count with the rows


def counted_in_query(paging: Paging) -> bool:
    return paging.page_size <= COUNT_IN_QUERY_MAX


def page_of(rows_qs: QuerySet, count_qs: QuerySet, paging: Paging) -> Page:
    """The rows of ``paging``'s page of ``rows_qs`` (whose last column is the number matched when
    ``counted_in_query``); ``count_qs`` counts the matches when that is not enough."""
    start, size = paging.offset, paging.page_size
    if counted_in_query(paging):
        rows = list(rows_qs[start : start + size])
        if rows:
            return Page(rows, rows[0][-1], paging)
    else:
        rows = list(rows_qs[start : start + size + 1])
        if 0 < len(rows) <= size or (not rows and paging.page == 1):
            return Page(rows, start + len(rows), paging)
    matched = 0 if paging.page == 1 and not rows else count_qs.count()
    return Page(rows[:size], matched, paging)


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
