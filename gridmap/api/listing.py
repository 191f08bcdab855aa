"""A GeoJSON layer of the API as data: its scoping selector, feature columns, filters and order.

``Listing.collection`` answers a list request and ``Listing.one`` a detail request; both read rows
with the spec's columns and the database's GeoJSON, and both start from the layer's scoping selector.
A listing with ``sql_rows`` (problems) reads its list page with one SELECT put together from parts
compiled once (``rowsql``); the others, and any query that does not compile to the expected shape,
read with ``values_list``. A collection's features come back already written (an
``orjson.Fragment`` under ``features``), with the garbage collector paused while they are made.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from orjson import Fragment
from rest_framework.request import Request

from gridmap.accounts.selectors import role_of
from gridmap.api import filters as f
from gridmap.api.expressions import BoxIntersects
from gridmap.api.features import (
    BUILDING,
    FACILITY,
    GEOJSON,
    GRID,
    PROBLEM,
    SITE,
    FeatureSpec,
    RowContext,
    actions_by_status,
)
from gridmap.api.pagination import Page, feature_collection, page_of
from gridmap.api.params import PAGING, Paging, check_names, parse_bbox, parse_paging
from gridmap.api.renderers import dumps
from gridmap.api.rowsql import sql_page
from gridmap.core.geojson import geojson_column
from gridmap.facilities.selectors import facilities_visible_to
from gridmap.geography.selectors import buildings_visible_to, grids_visible_to
from gridmap.problems.selectors import positive_sites_visible_to, problems_visible_to
from layers.validate import BBox, GeometryInputError


def box_filter(qs: QuerySet, raw: str, now: datetime) -> QuerySet:
    """``bbox`` as ``filters.bbox`` (same checks and messages, same rows), without a GEOS polygon."""
    try:
        box = BBox.parse(raw)
    except GeometryInputError:
        parse_bbox(raw)  # the same checks again, raising their 400
        raise
    return qs.filter(BoxIntersects("geom", (box.min_lon, box.min_lat, box.max_lon, box.max_lat)))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a page is read and written (and back on after,
    if it was on). A page makes thousands of short-lived tuples and dicts; with the collector on,
    several collections run during each request only to find them all alive (measured: 2-4 % of an
    800-feature request). They are freed before the collector is back on, so it never visits them."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass(frozen=True)
class Listing:
    selector: Callable[[Any], QuerySet]
    spec: FeatureSpec
    filters: dict[str, f.Filter]
    ordering: tuple[str, ...]
    sql_rows: bool = False  # read list pages with ``rowsql`` (field names only in ``ordering``)

    @property
    def params(self) -> frozenset[str]:
        return frozenset(self.filters) | PAGING

    def context(self, request: Request) -> RowContext:
        return RowContext(timezone.now(), actions_by_status(role_of(request.user)))

    def rows(self, qs: QuerySet, ctx: RowContext) -> QuerySet:
        """``id``, the GeoJSON geometry and the spec's columns."""
        extra = {name: make(ctx) for name, make in self.spec.annotations}
        return qs.annotate(**{GEOJSON: geojson_column()}, **extra).values_list(
            "id", GEOJSON, *self.spec.columns
        )

    def filtered(self, request: Request, values: dict[str, str], ctx: RowContext) -> QuerySet:
        """The user's rows with the request's filters."""
        return f.apply_filters(self.selector(request.user), self.filters, values, ctx.now)

    def scoped(self, request: Request, values: dict[str, str], ctx: RowContext) -> QuerySet:
        """The user's rows with the request's filters, in a stable order for paging."""
        return self.filtered(request, values, ctx).order_by(*self.ordering)

    def page(self, qs: QuerySet, paging: Paging, ctx: RowContext) -> Page:
        # A DISTINCT selector (grid leaders, departments...) is counted by distinct ids.
        return page_of(self.rows(qs, ctx), qs.values("pk") if qs.query.distinct else qs, paging)

    def collection(self, request: Request) -> dict[str, Any]:
        values = check_names(request.query_params, self.params)
        paging = parse_paging(values)
        ctx = self.context(request)
        qs = self.filtered(request, values, ctx)
        with collector_paused():
            page = sql_page(qs.model, self.spec, qs, self.ordering, paging) if self.sql_rows else None
            if page is None:
                page = self.page(qs.order_by(*self.ordering), paging, ctx)
            features = self.spec.features(page.rows, ctx)
            answer = feature_collection(request, page, features)
            # Written here, so that the rows and dicts are freed before the collector runs again.
            answer["features"] = Fragment(dumps(features))
            del page, features
        return answer

    def one(self, request: Request, pk: int) -> dict[str, Any]:
        """The feature ``pk`` if the user may see it; ``DoesNotExist`` (a 404) otherwise."""
        qs = self.selector(request.user)
        ctx = self.context(request)
        row = self.rows(qs.filter(pk=pk), ctx).first()
        if row is None:
            raise qs.model.DoesNotExist
        return self.spec.features([row], ctx)[0]


GRIDS = Listing(grids_visible_to, GRID, f.GRIDS, ("code",))
BUILDINGS = Listing(buildings_visible_to, BUILDING, f.AREA, ("id",))
FACILITIES = Listing(facilities_visible_to, FACILITY, f.FACILITIES, ("id",))
PROBLEMS = Listing(
    problems_visible_to, PROBLEM, {**f.PROBLEMS, "bbox": box_filter}, ("-reported_at", "-id"), sql_rows=True
)
SITES = Listing(positive_sites_visible_to, SITE, f.AREA, ("-created_at", "-id"))
