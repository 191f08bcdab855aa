"""Inspection routes: which stops to walk to, and the planned walk through them.

Stops of a scope are the open problems and the due look-backs (``lookback_due`` on or before
today, ``lookback_done_at`` empty) of

* a grid (by code), or
* an inspector's assignments: the problems they are the inspector of, and those in their
  patrol communities — the inspector's own role scope (``problems_in_role_scope``), so the
  route shows nothing the inspector could not see;

or the Point features of a GeoJSON file (id from ``properties.id``, else the feature ``id``),
whose raw coordinates go through ``layers.validate`` before any geometry is built.

Priority weights (for ``--budget-min``): an overdue open problem 3, another open problem 2, a
due look-back 1; a GeoJSON feature's ``weight`` property (a number >= 0), default 1.
Ordering, distances and output live in ``layers.routes*``; this module only chooses stops and
fetches the street network.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.analysis.network_cache import street_network
from gridmap.core.gdf import to_gdf
from gridmap.core.geoinput import service_area
from gridmap.geography.models import Grid
from gridmap.problems.models import OPEN_STATUSES, Problem
from gridmap.problems.selectors import problems_in_role_scope
from layers.routes import Metric, PlannedRoute, RouteError, RouteStop, plan_walk
from layers.validate import GeometryInputError, check_geojson_geometry, check_lonlat, to_number

__all__ = [
    "MAX_STOPS",
    "RouteInputError",
    "parse_lonlat",
    "route_plan",
    "route_stops_for_grid",
    "route_stops_for_inspector",
    "route_stops_from_geojson",
    "route_stops_queryset",
    "stop_filter",
]

MAX_STOPS = 2000  # a day's walk is far less; the distance matrix grows with the square
MAX_FILE_BYTES = 20 * 1024 * 1024
WEIGHT_OVERDUE, WEIGHT_OPEN, WEIGHT_LOOKBACK = 3.0, 2.0, 1.0


class RouteInputError(ValueError):
    """Input a route cannot be planned from (unknown grid or user, a bad file or position)."""


def parse_lonlat(raw: str, *, what: str = "position") -> tuple[float, float]:
    """``"LON,LAT"`` as checked WGS84 floats (finite, in range, inside the service area)."""
    parts = str(raw).split(",")
    if len(parts) != 2:
        raise RouteInputError(f"{what} must be LON,LAT (two numbers and a comma), got {str(raw)[:40]!r}")
    try:
        return check_lonlat(parts[0], parts[1], area=service_area())
    except GeometryInputError as exc:
        raise RouteInputError(f"{what}: {exc}") from None


def stop_filter(today: date | None = None) -> Q:
    """What makes a problem a stop: open, or its look-back due (on or before ``today``)."""
    today = today or timezone.localdate()
    return Q(status__in=OPEN_STATUSES) | Q(lookback_due__lte=today, lookback_done_at__isnull=True)


def route_stops_queryset(scope: QuerySet[Problem], *, today: date | None = None) -> QuerySet[Problem]:
    """The open problems and due look-backs among ``scope``.

    The stop filter goes inside the scope's subquery: a scope that joins (an inspector's patrol
    communities) then starts from the indexed open statuses, not from every problem.
    """
    return Problem.objects.filter(pk__in=scope.filter(stop_filter(today)).values("pk"))


def _problem_stops(queryset: QuerySet[Problem], *, today: date | None = None) -> list[RouteStop]:
    today = today or timezone.localdate()
    now = timezone.now()
    fields = ["pk", "status", "deadline", "lookback_due", "category__code", "category__name", "grid__code"]
    frame = to_gdf(route_stops_queryset(queryset, today=today).order_by("pk"), fields)
    if len(frame) > MAX_STOPS:
        raise RouteInputError(
            f"{len(frame)} stops is more than one route takes ({MAX_STOPS}); narrow the scope, or use "
            "--user USER for that user's route page plan (the most urgent stops that fit, any size)"
        )
    stops = []
    for row, point in zip(frame.itertuples(index=False), frame.geometry, strict=True):
        is_open = row.status in OPEN_STATUSES
        overdue = is_open and pd.notna(row.deadline) and row.deadline < now
        what = row.status if is_open else f"look-back due {row.lookback_due:%Y-%m-%d}"
        desc = f"{row.category__code} {row.category__name}: {what}" + (" (overdue)" if overdue else "")
        weight = WEIGHT_OVERDUE if overdue else WEIGHT_OPEN if is_open else WEIGHT_LOOKBACK
        stops.append(RouteStop(id=int(row.pk), lon=point.x, lat=point.y, desc=desc, weight=weight))
    return stops


def route_stops_for_grid(code: str, *, today: date | None = None) -> list[RouteStop]:
    """Open problems and due look-backs of the grid ``code``."""
    grid = Grid.objects.filter(code=str(code)).first()
    if grid is None:
        raise RouteInputError(f"no grid with code {str(code)[:20]!r}")
    return _problem_stops(Problem.objects.filter(grid=grid), today=today)


def route_stops_for_inspector(username: str, *, today: date | None = None) -> list[RouteStop]:
    """Open problems and due look-backs assigned to the inspector ``username`` or in their
    patrol communities."""
    user = get_user_model().objects.filter(username=str(username)).select_related("profile").first()
    if user is None:
        raise RouteInputError(f"no user {str(username)[:40]!r}")
    if role_of(user) != Role.INSPECTOR:
        raise RouteInputError(f"user {user.get_username()!r} is not an inspector")
    return _problem_stops(problems_in_role_scope(user), today=today)


def _feature_stop(index: int, feature: Any, seen: set[Any]) -> RouteStop:
    where = f"feature {index + 1}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise RouteInputError(f"{where} is not a GeoJSON Feature")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise RouteInputError(f"{where}: properties must be an object")
    stop_id = props.get("id", feature.get("id"))
    if isinstance(stop_id, bool) or not isinstance(stop_id, (str, int)) or stop_id == "":
        raise RouteInputError(f"{where} has no id (a string or integer property 'id')")
    if stop_id in seen:
        raise RouteInputError(f"{where}: id {str(stop_id)[:40]!r} appears twice")
    seen.add(stop_id)
    try:
        geometry = check_geojson_geometry(
            feature.get("geometry"), allowed_types={"Point"}, area=service_area()
        )
        weight = to_number(props.get("weight", 1.0), what="weight")
    except GeometryInputError as exc:
        raise RouteInputError(f"{where} (id {str(stop_id)[:40]!r}): {exc}") from None
    if weight < 0:
        raise RouteInputError(f"{where}: weight must not be negative")
    lon, lat = geometry["coordinates"][:2]
    desc = str(props.get("desc") or props.get("name") or "")[:200]
    return RouteStop(id=stop_id, lon=lon, lat=lat, desc=desc, weight=weight)


def route_stops_from_geojson(path: str | Path) -> list[RouteStop]:
    """Stops from a GeoJSON FeatureCollection of Points (EPSG:4326, no ``crs`` member)."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise RouteInputError(f"{file.name} is larger than {MAX_FILE_BYTES // 2**20} MB")
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, RouteInputError):
            raise
        raise RouteInputError(f"cannot read {file.name} as GeoJSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RouteInputError(f"{file.name} is not a GeoJSON FeatureCollection")
    if "crs" in data:
        raise RouteInputError("a GeoJSON crs member is not accepted; send WGS84 (EPSG:4326) coordinates")
    features = data.get("features")
    if not isinstance(features, list):
        raise RouteInputError(f"{file.name} has no features list")
    if len(features) > MAX_STOPS:
        raise RouteInputError(f"{len(features)} stops is more than one route takes ({MAX_STOPS})")
    seen: set[Any] = set()
    return [_feature_stop(i, f, seen) for i, f in enumerate(features)]


def route_stops(
    *, grid: str | None = None, inspector: str | None = None, path: str | Path | None = None
) -> list[RouteStop]:
    """The stops of one scope: a grid's, else an inspector's, else a GeoJSON file's."""
    if grid is not None:
        return route_stops_for_grid(grid)
    if inspector is not None:
        return route_stops_for_inspector(inspector)
    if path is None:
        raise RouteInputError("give a grid, an inspector or a file of stops")
    return route_stops_from_geojson(path)


def route_plan(
    stops: list[RouteStop],
    *,
    start: tuple[float, float] | None = None,
    end: tuple[float, float] | None = None,
    closed: bool = False,
    metric: Metric = "straight",
    speed_kmh: float = 4.5,
    service_min: float = 3.0,
    budget_min: float | None = None,
) -> PlannedRoute:
    """Plan the walk; with ``metric="network"`` along the town's cached walkable streets."""
    for name, value, low in (("speed", speed_kmh, 0.1), ("service minutes", service_min, 0.0)):
        if not (np.isfinite(value) and low <= value <= 1000):
            raise RouteInputError(f"{name} {value!r} is out of range")
    if budget_min is not None and not (np.isfinite(budget_min) and 0 < budget_min <= 7 * 24 * 60):
        raise RouteInputError(f"budget {budget_min!r} min is out of range (up to a week)")
    network = street_network().network if metric == "network" else None
    try:
        return plan_walk(
            stops, start=start, end=end, closed=closed, metric=metric, network=network,
            speed_kmh=speed_kmh, service_min=service_min, budget_min=budget_min,
        )  # fmt: skip
    except RouteError as exc:
        raise RouteInputError(str(exc)) from None
