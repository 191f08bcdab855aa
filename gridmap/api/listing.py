"""A GeoJSON layer of the API as data: its scoping selector, feature columns, filters and order.

``Listing.collection`` answers a list request and ``Listing.one`` a detail request; both read rows
with ``values_list`` and the database's GeoJSON, and both start from the layer's scoping selector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.request import Request

from gridmap.accounts.selectors import role_of
from gridmap.api import filters as f
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
    geojson_column,
)
from gridmap.api.pagination import Page, feature_collection, page_of
from gridmap.api.params import PAGING, Paging, check_names, parse_paging
from gridmap.api.selectors import positive_sites_visible_to
from gridmap.facilities.selectors import facilities_visible_to
from gridmap.geography.selectors import buildings_visible_to, grids_visible_to
from gridmap.problems.selectors import problems_visible_to


@dataclass(frozen=True)
class Listing:
    selector: Callable[[Any], QuerySet]
    spec: FeatureSpec
    filters: dict[str, f.Filter]
    ordering: tuple[str, ...]

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

    def scoped(self, request: Request, values: dict[str, str], ctx: RowContext) -> QuerySet:
        """The user's rows with the request's filters, in a stable order for paging."""
        qs = f.apply_filters(self.selector(request.user), self.filters, values, ctx.now)
        return qs.order_by(*self.ordering)

    def page(self, qs: QuerySet, paging: Paging, ctx: RowContext) -> Page:
        # A DISTINCT selector (grid leaders, departments...) is counted by distinct ids.
        return page_of(self.rows(qs, ctx), qs.values("pk") if qs.query.distinct else qs, paging)

    def collection(self, request: Request) -> dict[str, Any]:
        values = check_names(request.query_params, self.params)
        paging = parse_paging(values)
        ctx = self.context(request)
        page = self.page(self.scoped(request, values, ctx), paging, ctx)
        return feature_collection(request, page, self.spec.features(page.rows, ctx))

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
PROBLEMS = Listing(problems_visible_to, PROBLEM, f.PROBLEMS, ("-reported_at", "-id"))
SITES = Listing(positive_sites_visible_to, SITE, f.AREA, ("-created_at", "-id"))
