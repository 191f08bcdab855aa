"""Analysis as GeoJSON: coverage, gaps, siting suggestions, hotspots and inspection routes.

Each view checks its query parameters, runs the analysis service on the requesting user's scope
(the same services as the management commands) and returns a FeatureCollection (EPSG:4326) with
the run's summary under ``summary``. A grid or community outside the user's scope is a 404.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.analysis.coverage import CoverageError, coverage_area, coverage_run
from gridmap.analysis.hotspots import CellOptions, ProblemFilter, hotspots_clusters, hotspots_gistar
from gridmap.analysis.routes import RouteInputError, _problem_stops, route_plan, route_stops_queryset
from gridmap.analysis.siting import SitingError, sites_suggest
from gridmap.api.errors import bad_request
from gridmap.api.params import check_names
from gridmap.api.renderers import geojson_response
from gridmap.api.schema import (
    ANALYSIS_ERRORS,
    ANALYSIS_RESULT,
    COVERAGE_PARAMS,
    GAPS_PARAMS,
    HOTSPOT_PARAMS,
    ROUTE_PARAMS,
    SUGGESTION_PARAMS,
)
from gridmap.api.views.base import ApiView
from gridmap.geography.selectors import grids_visible_to
from gridmap.problems.selectors import problems_in_role_scope
from layers.routes import route_geojson

METRICS = {"straight", "network"}


def _collection(frame: gpd.GeoDataFrame | None, **extra: Any) -> dict[str, Any]:
    features = json.loads(frame.to_json(drop_id=True, default=str))["features"] if frame is not None else []
    return {"type": "FeatureCollection", "features": features, **extra}


def _number(values: dict[str, str], name: str, lo: float, hi: float) -> float | None:
    raw = values.get(name)
    if raw is None:
        return None
    try:
        number = float(raw)
    except ValueError:
        raise bad_request(_("%(name)s must be a number.") % {"name": name}) from None
    if not lo <= number <= hi:  # NaN fails this too
        raise bad_request(
            _("%(name)s must be between %(lo)s and %(hi)s.") % {"name": name, "lo": lo, "hi": hi}
        )
    return number


def _metric(values: dict[str, str]) -> str:
    metric = values.get("metric", "straight")
    if metric not in METRICS:
        raise bad_request(_("metric must be straight or network."))
    return metric


def _grid_in_scope(request: Request, code: str | None) -> str | None:
    if code is not None and not grids_visible_to(request.user).filter(code=code).exists():
        raise NotFound()
    return code


@extend_schema(tags=["analysis"])
class Coverage(ApiView):
    @extend_schema(
        operation_id="analysis_coverage",
        parameters=COVERAGE_PARAMS,
        responses={200: ANALYSIS_RESULT, **ANALYSIS_ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        """Per building (or per finding, for spacing, crossings, tactile paving and parking rules):
        the nearest facility of ``kind`` and its distance; ``uncovered=1`` keeps the gaps only."""
        values = check_names(request.query_params, {"kind", "metric", "radius_m", "grid", "uncovered"})
        if "kind" not in values:
            raise bad_request(_("kind is required."))
        try:
            result = coverage_run(
                user=request.user, kind=values["kind"], metric=_metric(values),
                radius_m=_number(values, "radius_m", 1, 5000), grid=_grid_in_scope(request, values.get("grid")),
            )  # fmt: skip
        except CoverageError as exc:
            raise bad_request(str(exc)) from None
        items = result.items
        if values.get("uncovered") == "1" and "covered" in items:
            items = items[~items["covered"].astype(bool)]
        summary = {"kind": result.kind, "rule": result.rule, "metric": result.metric, **result.summary}
        return geojson_response(_collection(items, summary=summary))


@extend_schema(tags=["analysis"])
class Gaps(ApiView):
    @extend_schema(
        operation_id="analysis_gaps",
        parameters=GAPS_PARAMS,
        responses={200: ANALYSIS_RESULT, **ANALYSIS_ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        """The uncovered area of every grid in scope for ``kind``, as polygons."""
        values = check_names(request.query_params, {"kind", "metric", "radius_m", "grid"})
        if "kind" not in values:
            raise bad_request(_("kind is required."))
        try:
            frame = coverage_area(
                user=request.user, kind=values["kind"], metric=_metric(values),
                radius_m=_number(values, "radius_m", 1, 5000), grid=_grid_in_scope(request, values.get("grid")),
            )  # fmt: skip
        except CoverageError as exc:
            raise bad_request(str(exc)) from None
        frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]  # fully covered grids
        return geojson_response(_collection(frame))


@extend_schema(tags=["analysis"])
class Suggestions(ApiView):
    @extend_schema(
        operation_id="analysis_suggestions",
        parameters=SUGGESTION_PARAMS,
        responses={200: ANALYSIS_RESULT, **ANALYSIS_ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        """New sites for ``kind`` in a ``grid`` or ``community``: the fewest covering every
        reachable uncovered building, or the ``best`` P sites."""
        values = check_names(
            request.query_params, {"kind", "grid", "community", "best", "metric", "radius_m"}
        )
        if "kind" not in values or ("grid" in values) == ("community" in values):
            raise bad_request(_("Give kind and either grid or community."))
        community = values.get("community")
        if (
            community is not None
            and not grids_visible_to(request.user).filter(community__code=community).exists()
        ):
            raise NotFound()
        best = _number(values, "best", 0, 500)
        try:
            result = sites_suggest(
                user=request.user, kind=values["kind"], grid=_grid_in_scope(request, values.get("grid")),
                community=community, best=None if best is None else int(best), metric=_metric(values),
                radius_m=_number(values, "radius_m", 1, 5000), time_limit_s=20,
            )  # fmt: skip
        except SitingError as exc:
            raise bad_request(str(exc)) from None
        return geojson_response(_collection(result.sites, summary=result.summary))


@extend_schema(tags=["analysis"])
class Hotspots(ApiView):
    @extend_schema(
        operation_id="analysis_hotspots",
        parameters=HOTSPOT_PARAMS,
        responses={200: ANALYSIS_RESULT, **ANALYSIS_ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        """``method=dbscan`` (default; ``eps_m``, ``min_samples``) density clusters, or
        ``method=gistar`` Getis-Ord Gi* on unit grids with z and p per grid; open problems only
        unless ``status=all``, over the last ``days`` (default 90)."""
        values = check_names(request.query_params, {"method", "eps_m", "min_samples", "status", "days"})
        days = int(_number(values, "days", 1, 3650) or 90)
        status = values.get("status", "open")
        if status not in {"open", "all"}:
            raise bad_request(_("status must be open or all."))
        end = timezone.now()
        filters = ProblemFilter(status=status, start=end - timezone.timedelta(days=days), end=end)
        method = values.get("method", "dbscan")
        if method == "dbscan":
            frame = hotspots_clusters(
                user=request.user, filters=filters, method="dbscan",
                eps_m=_number(values, "eps_m", 1, 2000) or 50.0,
                min_samples=int(_number(values, "min_samples", 2, 10_000) or 5),
            )  # fmt: skip
        elif method == "gistar":
            frame = hotspots_gistar(user=request.user, filters=filters, options=CellOptions(cells="grids"))
        else:
            raise bad_request(_("method must be dbscan or gistar."))
        return geojson_response(_collection(frame))


@extend_schema(tags=["analysis"])
class Route(ApiView):
    @extend_schema(
        operation_id="analysis_route",
        parameters=ROUTE_PARAMS,
        responses={200: ANALYSIS_RESULT, **ANALYSIS_ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        """An inspection route through the open problems and due look-backs of a ``grid`` in
        scope, or (inspectors, no grid) through their own assignments; ``budget_min`` keeps the
        most valuable stops that fit."""
        values = check_names(request.query_params, {"grid", "metric", "budget_min"})
        code = _grid_in_scope(request, values.get("grid"))
        if code is not None:
            scope = grids_visible_to(request.user).get(code=code).problems.all()
        elif role_of(request.user) == Role.INSPECTOR:
            scope = problems_in_role_scope(request.user)
        else:
            raise bad_request(_("Give a grid (inspectors may leave it out for their own route)."))
        stops = _problem_stops(route_stops_queryset(scope))
        if not stops:
            return geojson_response(
                {"type": "FeatureCollection", "features": [], "length_m": 0, "duration_min": 0}
            )
        try:
            route = route_plan(
                stops, metric=_metric(values), budget_min=_number(values, "budget_min", 1, 24 * 60)
            )
        except RouteInputError as exc:
            raise bad_request(str(exc)) from None
        return geojson_response(route_geojson(route))
