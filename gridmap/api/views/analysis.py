"""Analysis as GeoJSON: coverage, gaps, siting suggestions, hotspots and inspection routes.

Each view checks its query parameters, runs the analysis service on the requesting user's scope
(the same services as the management commands) and returns a FeatureCollection (EPSG:4326) with
the run's summary under ``summary``. A grid or community outside the user's scope is a 404.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import shapely
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.analysis.coverage import CoverageError, coverage_area, coverage_run, rule_for
from gridmap.analysis.coverage_rows import (
    COMPUTING,
    CoverageState,
    building_rows,
    building_summary,
    coverage_state,
    grid_rows,
)
from gridmap.analysis.hotspot_results import hotspot_result
from gridmap.analysis.precompute import served_uses
from gridmap.analysis.route_results import route_result
from gridmap.analysis.routes import RouteInputError
from gridmap.analysis.site_results import suggestion_result
from gridmap.analysis.siting import SitingError
from gridmap.api.analysis_features import (
    building_features,
    building_page,
    frame_features,
    frame_page,
    gap_features,
    gap_page,
    with_geometry,
)
from gridmap.api.errors import bad_request
from gridmap.api.pagination import Page, feature_collection
from gridmap.api.params import PAGING, check_names, parse_bbox, parse_flag, parse_paging
from gridmap.api.renderers import geojson_response
from gridmap.api.schema import (
    ANALYSIS_ERRORS,
    COVERAGE_PARAMS,
    GAPS_PARAMS,
    HOTSPOT_PARAMS,
    ROUTE_PARAMS,
    SUGGESTION_PARAMS,
    geo,
    responses,
)
from gridmap.api.views.base import ApiView
from gridmap.core.boundary import BoundaryError, whole_number
from gridmap.facilities.models import FacilityKind
from gridmap.geography.selectors import grids_visible_to

METRICS = {"straight", "network"}


def _collection(frame: gpd.GeoDataFrame | None, **extra: Any) -> dict[str, Any]:
    features = frame_features(with_geometry(frame)) if frame is not None else []
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


def _integer(values: dict[str, str], name: str, lo: int, hi: int) -> int | None:
    raw = values.get(name)
    if raw is None:
        return None
    try:
        return whole_number(raw, lo=lo, hi=hi, max_digits=6)
    except BoundaryError:
        raise bad_request(
            _("%(name)s must be a whole number between %(lo)s and %(hi)s.")
            % {"name": name, "lo": lo, "hi": hi}
        ) from None


def _metric(values: dict[str, str]) -> str:
    metric = values.get("metric", "straight")
    if metric not in METRICS:
        raise bad_request(_("metric must be straight or network."))
    return metric


def _grid_in_scope(request: Request, code: str | None) -> str | None:
    if code is not None and not grids_visible_to(request.user).filter(code=code).exists():
        raise NotFound()
    return code


COVERAGE_NAMES = {"kind", "metric", "radius_m", "grid", "uncovered", "bbox", *PAGING}
GAPS_NAMES = {"kind", "metric", "radius_m", "grid", "bbox", *PAGING}
SUMMARY_CACHE_S = 600


def _kind(values: dict[str, str]) -> FacilityKind:
    code = values.get("kind")
    if code is None:
        raise bad_request(_("kind is required."))
    kind = FacilityKind.objects.filter(code=code).first()
    if kind is None:
        known = ", ".join(FacilityKind.objects.order_by("code").values_list("code", flat=True))
        # a code that names nothing is not found, like a grid outside your scope
        raise NotFound(_("unknown facility kind %(kind)r; known: %(known)s") % {"kind": code, "known": known})
    return kind


class _Counted:
    """A count already known, where ``page_of`` asks a queryset for one."""

    def __init__(self, number: int) -> None:
        self.number = number

    def count(self) -> int:
        return self.number


def _precomputed(kind: FacilityKind) -> bool:
    """Whether the kind has stored coverage sets (a service radius and the radius rule)."""
    return bool(kind.service_radius_m) and rule_for(kind) == "radius"


def _bbox(values: dict[str, str]) -> Any:
    return parse_bbox(values["bbox"]) if "bbox" in values else None


def _rows_answer(
    request: Request, page: Page, features: list, state: CoverageState, **extra: Any
) -> HttpResponse:
    body = feature_collection(request, page, features) | extra | {"analysis": state.as_json()}
    return geojson_response(body, status=202 if state.state == COMPUTING else 200)


def _summary_key(request: Request, state: CoverageState, *parts: Any) -> str:
    profile = getattr(request.user, "profile", None)
    scope = f"{request.user.pk}:{role_of(request.user)}:{getattr(profile, 'community_id', None)}"
    return ":".join(["gridmap:coverage-summary", scope, state.kind.code, state.version, *map(str, parts)])


@extend_schema(tags=["analysis"])
class Coverage(ApiView):
    @extend_schema(
        operation_id="analysis_coverage",
        parameters=COVERAGE_PARAMS,
        responses=responses(
            geo(200, "CoverageBuildingFeatureCollection") | geo(202, "CoverageBuildingFeatureCollection"),
            *ANALYSIS_ERRORS,
        ),
    )
    def get(self, request: Request) -> HttpResponse:
        """Per building (or per finding, for spacing, crossings, tactile paving and parking rules):
        the nearest facility of ``kind`` and its distance; ``uncovered=1`` keeps the gaps only.
        Paged (``page``, ``page_size``; ``links`` has the next page) and ``bbox``-filtered. Buildings
        come from the stored coverage (``analysis`` says how current it is: fresh, updating with
        the time of the rows, or computing, answered 202 with no rows yet)."""
        values = check_names(request.query_params, COVERAGE_NAMES)
        kind, metric = _kind(values), _metric(values)
        radius = _number(values, "radius_m", 1, 5000)
        grid, bbox, paging = _grid_in_scope(request, values.get("grid")), _bbox(values), parse_paging(values)
        uncovered = parse_flag(values["uncovered"], "uncovered") if "uncovered" in values else False
        if not _precomputed(kind):  # the rules along streets, a radius the kind has none of
            return self._computed(request, values, kind, metric, radius, grid, uncovered, paging)
        radius_m = radius if radius is not None else float(kind.service_radius_m)
        state = coverage_state(request.user, kind)
        has_network = any(s.has_network for s in state.sets)
        if metric == "network" and state.sets and not has_network:
            raise bad_request(_("the network metric needs streets; import some first"))
        key = _summary_key(request, state, grid, radius_m, has_network)
        summary = cache.get(key)
        if summary is None:
            metrics = ("straight", "network") if has_network else ("straight",)
            scope = building_rows(state, request.user, grid=grid)
            summary = building_summary(scope, radius_m=radius_m, metrics=metrics)
            summary["building_uses"] = served_uses(kind) or "all"
            cache.set(key, summary, SUMMARY_CACHE_S)
        rows = building_rows(
            state, request.user, grid=grid, bbox=bbox, uncovered=(metric, radius_m) if uncovered else None
        )
        # without a box the summary has counted the matches already (no COUNT over the scope)
        known = summary[f"uncovered_{metric}"] if uncovered else summary["buildings"]
        page = building_page(rows, paging, rows if bbox is not None else _Counted(known))
        features = building_features(page.rows, metric=metric, radius_m=radius_m, has_network=has_network)
        summary = {"kind": kind.code, "rule": "radius", "metric": metric, **summary}
        return _rows_answer(request, page, features, state, summary=summary)

    def _computed(self, request, values, kind, metric, radius, grid, uncovered, paging) -> HttpResponse:
        """The rules along streets: computed on the request, as before, and paged."""
        try:
            result = coverage_run(
                user=request.user, kind=kind.code, metric=metric, radius_m=radius, grid=grid,
            )  # fmt: skip
        except CoverageError as exc:
            raise bad_request(str(exc)) from None
        items = result.items
        if uncovered and "covered" in items:
            items = items[~items["covered"].astype(bool)]
        bbox = _bbox(values)
        if bbox is not None and len(items):
            items = items[items.intersects(shapely.box(*bbox.extent))]
        page = frame_page(items, paging)
        summary = {"kind": result.kind, "rule": result.rule, "metric": result.metric, **result.summary}
        return geojson_response(feature_collection(request, page, page.rows) | {"summary": summary})


@extend_schema(tags=["analysis"])
class Gaps(ApiView):
    @extend_schema(
        operation_id="analysis_gaps",
        parameters=GAPS_PARAMS,
        responses=responses(
            geo(200, "GapFeatureCollection") | geo(202, "GapFeatureCollection"), *ANALYSIS_ERRORS
        ),
    )
    def get(self, request: Request) -> HttpResponse:
        """The uncovered area of every grid in scope for ``kind``, as polygons, paged and
        ``bbox``-filtered, from the stored coverage (another ``radius_m`` is computed here)."""
        values = check_names(request.query_params, GAPS_NAMES)
        kind, metric = _kind(values), _metric(values)
        radius = _number(values, "radius_m", 1, 5000)
        grid, bbox, paging = _grid_in_scope(request, values.get("grid")), _bbox(values), parse_paging(values)
        if not _precomputed(kind) or (radius is not None and radius != kind.service_radius_m):
            try:
                frame = coverage_area(
                    user=request.user, kind=kind.code, metric=metric, radius_m=radius, grid=grid
                )
            except CoverageError as exc:
                raise bad_request(str(exc)) from None
            frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]  # fully covered grids
            if bbox is not None:
                frame = frame[frame.intersects(shapely.box(*bbox.extent))]
            page = frame_page(frame, paging)
            return geojson_response(feature_collection(request, page, page.rows))
        state = coverage_state(request.user, kind)
        if metric == "network" and state.sets and not any(s.has_network for s in state.sets):
            raise bad_request(_("the network metric needs streets; import some first"))
        rows = grid_rows(state, request.user, metric=metric, grid=grid, bbox=bbox)
        page = gap_page(rows, paging, rows)
        return _rows_answer(request, page, gap_features(page.rows), state)


@extend_schema(tags=["analysis"])
class Suggestions(ApiView):
    @extend_schema(
        operation_id="analysis_suggestions",
        parameters=SUGGESTION_PARAMS,
        responses=responses(geo(200, "ComputedResult"), *ANALYSIS_ERRORS),
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
        best = _integer(values, "best", 0, 500)
        params = {
            "kind": _kind(values).code,
            "grid": _grid_in_scope(request, values.get("grid")),
            "community": community,
            "best": best,
            "metric": _metric(values),
            "radius_m": _number(values, "radius_m", 1, 5000),
        }
        try:
            kept = suggestion_result(user=request.user, params=params)
        except SitingError as exc:
            raise bad_request(str(exc)) from None
        state = {"state": kept.state, "computed_at": kept.computed_at}
        return geojson_response(_collection(kept.value.sites, summary=kept.value.summary, analysis=state))


@extend_schema(tags=["analysis"])
class Hotspots(ApiView):
    @extend_schema(
        operation_id="analysis_hotspots",
        parameters=HOTSPOT_PARAMS,
        responses=responses(geo(200, "ComputedFeatureCollection"), *ANALYSIS_ERRORS),
    )
    def get(self, request: Request) -> HttpResponse:
        """``method=dbscan`` (default; ``eps_m``, ``min_samples``) density clusters, or
        ``method=gistar`` Getis-Ord Gi* on unit grids with z and p per grid; open problems only
        unless ``status=all``, over the last ``days`` (default 90). Paged (``page``,
        ``page_size``). Kept between requests and refreshed by the workers when the problems
        change: ``analysis`` says whether it is current or being updated, and as of when."""
        values = check_names(
            request.query_params, {"method", "eps_m", "min_samples", "status", "days"} | PAGING
        )
        paging = parse_paging(values)
        params = {
            "days": _integer(values, "days", 1, 3650) or 90,
            "status": values.get("status", "open"),
            "method": values.get("method", "dbscan"),
            "eps_m": _number(values, "eps_m", 1, 2000) or 50.0,
            "min_samples": _integer(values, "min_samples", 2, 10_000) or 5,
        }
        if params["status"] not in {"open", "all"}:
            raise bad_request(_("status must be open or all."))
        if params["method"] not in {"dbscan", "gistar"}:
            raise bad_request(_("method must be dbscan or gistar."))
        result = hotspot_result(user=request.user, params=params)
        page = frame_page(result.value, paging)
        state = {"state": result.state, "computed_at": result.computed_at}
        return geojson_response(feature_collection(request, page, page.rows) | {"analysis": state})


@extend_schema(tags=["analysis"])
class Route(ApiView):
    @extend_schema(
        operation_id="analysis_route",
        parameters=ROUTE_PARAMS,
        responses=responses(geo(200, "ComputedResult"), *ANALYSIS_ERRORS),
    )
    def get(self, request: Request) -> HttpResponse:
        """An inspection route through the open problems and due look-backs of a ``grid`` in
        scope, or (inspectors, no grid) through their own assignments; ``budget_min`` keeps the
        most valuable stops that fit."""
        values = check_names(request.query_params, {"grid", "metric", "budget_min"})
        code = _grid_in_scope(request, values.get("grid"))
        if code is None and role_of(request.user) != Role.INSPECTOR:
            raise bad_request(_("Give a grid (inspectors may leave it out for their own route)."))
        params = {
            "grid": code,
            "metric": _metric(values),
            "budget_min": _number(values, "budget_min", 1, 24 * 60),
        }
        try:
            kept = route_result(user=request.user, params=params)
        except RouteInputError as exc:
            raise bad_request(str(exc)) from None
        return geojson_response(
            {**kept.value, "analysis": {"state": kept.state, "computed_at": kept.computed_at}}
        )
