"""The negative list (负面清单: open problems, closed out item by item with evidence) and the
positive list (正面清单: exemplary sites)."""

from __future__ import annotations

from django.db.models import F, Q
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from gridmap.api import filters, inputs, listing
from gridmap.api.pagination import feature_collection
from gridmap.api.params import PAGING, check_names, parse_paging, parse_when
from gridmap.api.renderers import geojson_response
from gridmap.api.schema import (
    AREA_PARAMS,
    COMMUNITY,
    GRID,
    PAGE_PARAMS,
    POSITIVE_SITE,
    TIME_PATTERN,
    geo,
    layer_list,
    query_param,
    responses,
)
from gridmap.api.selectors import closure_evidence
from gridmap.api.views.base import ApiView
from gridmap.problems.models import OPEN_STATUSES, Status
from gridmap.problems.services import positive_site_create

SCOPE = {"grid": filters.AREA["grid"], "community": filters.AREA["community"]}


@extend_schema(tags=["lists"])
class NegativeList(ApiView):
    @extend_schema(
        parameters=[
            GRID,
            COMMUNITY,
            query_param(
                "closed_after",
                "Also list problems closed since then, with their closure evidence (ISO 8601).",
                {"type": "string", "pattern": TIME_PATTERN},
            ),
            *PAGE_PARAMS,
        ],  # fmt: skip
        responses=layer_list("NegativeListItem"),
    )
    def get(self, request: Request) -> HttpResponse:
        """Open problems of grids, communities (both given: those in both) or everything you may see,
        oldest first, then those closed since ``closed_after`` with ``evidence``: who verified, when, after-photos."""
        values = check_names(request.query_params, {"grid", "community", "closed_after", *PAGING})
        paging = parse_paging(values)
        problems = listing.PROBLEMS
        ctx = problems.context(request)
        scoped = filters.apply_filters(problems.selector(request.user), SCOPE, values, ctx.now)
        # Open cases oldest first (through the index of open cases by report time), then with
        # ``closed_after`` those closed since, by closing time.
        qs = scoped.filter(status__in=OPEN_STATUSES).order_by("reported_at", "id")
        if "closed_after" in values:
            since = parse_when(values["closed_after"], "closed_after")
            qs = scoped.filter(Q(status__in=OPEN_STATUSES) | Q(status=Status.CLOSED, closed_at__gte=since))
            qs = qs.order_by(F("closed_at").asc(nulls_first=True), "reported_at", "id")
        page = problems.page(qs, paging, ctx)
        features = problems.spec.features(page.rows, ctx)
        closed = [ft["id"] for ft in features if ft["properties"]["status"] == Status.CLOSED]
        evidence = closure_evidence(scoped, closed)
        for ft in features:
            ft["properties"]["evidence"] = evidence.get(ft["id"])
        return geojson_response(feature_collection(request, page, features))


@extend_schema(tags=["lists"])
class PositiveSites(ApiView):
    @extend_schema(
        operation_id="positive_sites_list",
        parameters=[*AREA_PARAMS, *PAGE_PARAMS],
        responses=layer_list("PositiveSite"),
    )
    def get(self, request: Request) -> HttpResponse:
        """Positive-list sites in the areas you may see (GeoJSON)."""
        return geojson_response(listing.SITES.collection(request))

    @extend_schema(
        request={"application/json": POSITIVE_SITE},
        responses=responses(geo(201, "PositiveSiteFeature"), 403, 413, 415),
    )
    def post(self, request: Request) -> HttpResponse:
        """Add a site (community heads in their community, grid leaders in their grids, admins)."""
        data = inputs.site(request.data)
        site = positive_site_create(
            lon=data.lon, lat=data.lat, name=data.name, description=data.description, user=request.user
        )
        return geojson_response(listing.SITES.one(request, site.pk), status=201)
