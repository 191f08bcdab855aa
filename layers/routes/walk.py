"""From stops on the map to a walk: distances, unreachable stops, order, budget and path.

Stops are lon/lat (EPSG:4326) positions with an id. Distances are metres, either straight
lines in the area's metric CRS (:func:`layers.projection.metric_crs_for`) or walks along a
:class:`layers.network.StreetNetwork`. A start and an end, when given, are extra places that
are always in the walk and take no service time. With the network, stops that cannot be
reached from the start/end (or, without them, from the largest group of stops that can reach
each other) are dropped with a reason, and the path is drawn along the streets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pyproj
from scipy.spatial.distance import cdist
from shapely.geometry import Point

from layers.network import StreetNetwork, network_distance_matrix, shortest_path_line
from layers.projection import WGS84, metric_crs_for
from layers.routes.budget import plan_route_with_budget
from layers.routes.order import plan_route, reachable_mask

__all__ = ["Metric", "PlannedRoute", "RouteError", "RouteStop", "plan_walk", "stop_distances_m"]

Metric = Literal["straight", "network"]
LonLat = tuple[float, float]

SOURCES_PER_SEARCH = 256  # 256 rows x 50k street nodes x 8 bytes = 100 MB at most
UNREACHABLE = "not reachable on the street network"
OVER_BUDGET = "no time left in the budget (stops of more weight went first)"


class RouteError(ValueError):
    """A walk that cannot be planned as asked (the message says why, for the user)."""


@dataclass(frozen=True)
class RouteStop:
    """A place to visit: its id, lon/lat (EPSG:4326), what to look at, and its priority."""

    id: str | int
    lon: float
    lat: float
    desc: str = ""
    weight: float = 1.0


@dataclass(frozen=True)
class PlannedRoute:
    """A planned walk.

    Attributes
    ----------
    stops : the stops in walking order.
    start, end : the fixed start and end places (lon, lat), if any; a closed walk ends at its
        start (or, without one, at its first stop).
    leg_m : metres walked to reach each stop, then (last entry, when there is an end or the
        walk is closed) to the end; ``length_m`` is their sum.
    duration_min : walking at ``speed_kmh`` plus ``service_min`` at every stop.
    path_lonlat : the line to walk (EPSG:4326), along the streets with the network metric.
    dropped : stops left out, with the reason.
    """

    stops: list[RouteStop]
    start: LonLat | None
    end: LonLat | None
    closed: bool
    metric: Metric
    speed_kmh: float
    service_min: float
    leg_m: list[float]
    length_m: float
    duration_min: float
    path_lonlat: list[LonLat]
    dropped: list[tuple[RouteStop, str]] = field(default_factory=list)
    budget_min: float | None = None


def stop_distances_m(
    lonlat: np.ndarray, *, metric: Metric = "straight", network: StreetNetwork | None = None
) -> np.ndarray:
    """Metres between every pair of places.

    Parameters
    ----------
    lonlat : ndarray, shape (k, 2)
        Longitude, latitude (EPSG:4326), already checked.
    metric : "straight" or "network"
        Straight lines in the metric CRS of the places, or walks along ``network``
        (``inf`` where no walk joins two places).
    """
    if len(lonlat) == 0:
        return np.zeros((0, 0))
    if metric == "network":
        if network is None or network.n_edges == 0:
            raise RouteError("there are no walkable streets to measure along; use the straight metric")
        points = gpd.GeoSeries(gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=WGS84)
        # in blocks of sources: each search holds a row per source over every street node
        d = np.vstack(
            [
                network_distance_matrix(network, points.iloc[i : i + SOURCES_PER_SEARCH], points)
                for i in range(0, len(points), SOURCES_PER_SEARCH)
            ]
        )
        return np.minimum(d, d.T)  # equal up to rounding; keep one value for both directions
    crs = metric_crs_for((float(np.mean(lonlat[:, 0])), float(np.mean(lonlat[:, 1]))))
    x, y = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True).transform(lonlat[:, 0], lonlat[:, 1])
    xy = np.column_stack([x, y])
    return cdist(xy, xy)


def _path(
    lonlat: np.ndarray, order: list[int], metric: Metric, network: StreetNetwork | None
) -> list[LonLat]:
    """The line through ``order``: straight legs, or each leg's walk along the streets."""
    if metric == "straight" or network is None:
        return [(float(lonlat[i, 0]), float(lonlat[i, 1])) for i in order]
    coords: list[LonLat] = []
    for a, b in zip(order[:-1], order[1:], strict=True):
        if not coords:
            coords.append((float(lonlat[a, 0]), float(lonlat[a, 1])))
        if np.array_equal(lonlat[a], lonlat[b]):
            continue
        line = shortest_path_line(network, Point(lonlat[a]), Point(lonlat[b]))
        coords.extend((float(x), float(y)) for x, y in list(line.coords)[1:])
    return coords


def plan_walk(
    stops: list[RouteStop],
    *,
    start: LonLat | None = None,
    end: LonLat | None = None,
    closed: bool = False,
    metric: Metric = "straight",
    network: StreetNetwork | None = None,
    speed_kmh: float = 4.5,
    service_min: float = 3.0,
    budget_min: float | None = None,
    time_budget_s: float = 1.0,
) -> PlannedRoute:
    """Plan the walk through ``stops`` (all of them, or the most valuable within a budget).

    Parameters
    ----------
    stops : list of RouteStop
        Checked lon/lat positions (EPSG:4326).
    start, end : (lon, lat), optional
        Where the walk begins and ends; the same place for both means a round trip.
    closed : bool
        Return to the start (or, without one, to the first stop).
    metric, network :
        See :func:`stop_distances_m`.
    speed_kmh, service_min :
        Walking speed (km/h) and minutes spent at each stop.
    budget_min : float, optional
        Minutes available; the stops of most weight that fit are kept (see
        :mod:`layers.routes.budget`), the others are dropped with a reason.
    """
    if not speed_kmh > 0 or not service_min >= 0:
        raise RouteError("speed must be positive and service minutes not negative")
    if start is not None and end is not None and start == end:
        closed, end = True, None
    if closed and end is not None and start is None:
        start, end = end, None
    if closed and end is not None:
        raise RouteError("a round trip ends where it starts: give no end, or the same place")
    anchors_ll = [p for p in (start, end) if p is not None]
    n = len(stops)
    lonlat = np.array([[s.lon, s.lat] for s in stops] + [list(p) for p in anchors_ll], dtype=np.float64)
    lonlat = lonlat.reshape(-1, 2)
    start_i = n if start is not None else None
    end_i = n + len(anchors_ll) - 1 if end is not None else None
    dist = stop_distances_m(lonlat, metric=metric, network=network)
    anchors = [a for a in (start_i, end_i) if a is not None]
    try:
        keep = reachable_mask(dist, anchors) if len(lonlat) else np.zeros(0, dtype=bool)
    except ValueError as exc:
        raise RouteError(f"{exc} along the streets") from None
    dropped = [(stops[i], UNREACHABLE) for i in range(n) if not keep[i]]
    kept = np.flatnonzero(keep)
    sub = dist[np.ix_(kept, kept)]
    local = {int(g): i for i, g in enumerate(kept)}
    s_loc = local[start_i] if start_i is not None else None
    e_loc = local[end_i] if end_i is not None else None
    speed_m_s = speed_kmh / 3.6
    if budget_min is None:
        order = plan_route(sub, start=s_loc, end=e_loc, closed=closed, time_budget_s=time_budget_s)
    else:
        is_stop = kept < n
        weights = np.where(is_stop, [stops[g].weight if g < n else 0.0 for g in kept], 0.0)
        try:
            order, chosen = plan_route_with_budget(
                sub, speed_m_s, np.where(is_stop, service_min, 0.0), budget_min, weights,
                start=s_loc, end=e_loc, closed=closed, time_budget_s=2 * time_budget_s,
            )  # fmt: skip
        except ValueError as exc:
            raise RouteError(str(exc)) from None
        dropped += [(stops[int(kept[i])], OVER_BUDGET) for i in np.flatnonzero(~chosen & is_stop)]
    walk = [int(kept[i]) for i in order]
    if closed and walk:
        walk.append(walk[0])
    legs = [float(dist[a, b]) for a, b in zip(walk[:-1], walk[1:], strict=True)]
    visited = [stops[g] for g in walk if g < n]
    if closed and walk and walk[0] < n:
        visited = visited[:-1]
    length = float(sum(legs))
    leg_m = legs if start is not None or not walk else [0.0, *legs]
    return PlannedRoute(
        stops=visited,
        start=start,
        end=end,
        closed=closed,
        metric=metric,
        speed_kmh=speed_kmh,
        service_min=service_min,
        leg_m=leg_m,
        length_m=length,
        duration_min=length / speed_m_s / 60.0 + service_min * len(visited),
        path_lonlat=_path(lonlat, walk, metric, network),
        dropped=dropped,
        budget_min=budget_min,
    )
