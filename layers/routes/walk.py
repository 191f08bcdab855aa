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
        d = np.minimum(d, d.T)  # equal up to rounding; keep one value for both directions
        # two stops at one place (cases reported at one spot) are no walk apart: the network's
        # way would walk to the street and back, and the drawn path has no such leg
        same = (lonlat[:, None, 0] == lonlat[None, :, 0]) & (lonlat[:, None, 1] == lonlat[None, :, 1])
        d[same] = 0.0
        return d
    crs = metric_crs_for((float(np.mean(lonlat[:, 0])), float(np.mean(lonlat[:, 1]))))
    x, y = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True).transform(lonlat[:, 0], lonlat[:, 1])
    xy = np.column_stack([x, y])
    return cdist(xy, xy)


@dataclass(frozen=True)
class _Places:
    """The stops, then the start and the end when given, as rows of one lon/lat array."""

    lonlat: np.ndarray
    n_stops: int
    start: int | None
    end: int | None

    @property
    def anchors(self) -> list[int]:
        return [a for a in (self.start, self.end) if a is not None]


@dataclass(frozen=True)
class _Reachable:
    """The places a walk can reach: their rows, the metres between them, and where the fixed
    start and end are among them (positions in ``rows``)."""

    rows: np.ndarray
    dist: np.ndarray
    start: int | None
    end: int | None
    unreachable: list[int]  # stops left out


def _walk_ends(
    start: LonLat | None, end: LonLat | None, closed: bool
) -> tuple[LonLat | None, LonLat | None, bool]:
    """Start, end and closed as planned: the same start and end is a round trip without an end."""
    if start is not None and end is not None and start == end:
        closed, end = True, None
    if closed and end is not None and start is None:
        start, end = end, None
    if closed and end is not None:
        raise RouteError("a round trip ends where it starts: give no end, or the same place")
    return start, end, closed


def _places(stops: list[RouteStop], start: LonLat | None, end: LonLat | None) -> _Places:
    anchors_ll = [p for p in (start, end) if p is not None]
    n = len(stops)
    lonlat = np.array([[s.lon, s.lat] for s in stops] + [list(p) for p in anchors_ll], dtype=np.float64)
    return _Places(
        lonlat=lonlat.reshape(-1, 2),
        n_stops=n,
        start=n if start is not None else None,
        end=n + len(anchors_ll) - 1 if end is not None else None,
    )


def _reachable(dist: np.ndarray, places: _Places) -> _Reachable:
    """The places joined to the start/end (or to the largest group of stops) by a walk."""
    try:
        keep = reachable_mask(dist, places.anchors) if len(places.lonlat) else np.zeros(0, dtype=bool)
    except ValueError as exc:
        raise RouteError(f"{exc} along the streets") from None
    rows = np.flatnonzero(keep)
    local = {int(g): i for i, g in enumerate(rows)}
    return _Reachable(
        rows=rows,
        dist=dist[np.ix_(rows, rows)],
        start=local[places.start] if places.start is not None else None,
        end=local[places.end] if places.end is not None else None,
        unreachable=[i for i in range(places.n_stops) if not keep[i]],
    )


def _order(
    reach: _Reachable,
    stops: list[RouteStop],
    closed: bool,
    speed_m_s: float,
    service_min: float,
    budget_min: float | None,
    time_budget_s: float,
) -> tuple[list[int], list[int]]:
    """The walking order (positions in ``reach.rows``) through every reachable stop or, within
    ``budget_min``, through the stops of most weight that fit; and the stops that did not fit."""
    if budget_min is None:
        order = plan_route(
            reach.dist, start=reach.start, end=reach.end, closed=closed, time_budget_s=time_budget_s
        )
        return order, []
    n = len(stops)
    is_stop = reach.rows < n
    weights = np.where(is_stop, [stops[g].weight if g < n else 0.0 for g in reach.rows], 0.0)
    try:
        order, chosen = plan_route_with_budget(
            reach.dist, speed_m_s, np.where(is_stop, service_min, 0.0), budget_min, weights,
            start=reach.start, end=reach.end, closed=closed, time_budget_s=2 * time_budget_s,
        )  # fmt: skip
    except ValueError as exc:
        raise RouteError(str(exc)) from None
    return order, [int(reach.rows[i]) for i in np.flatnonzero(~chosen & is_stop)]


def _visited(stops: list[RouteStop], walk: list[int], closed: bool) -> list[RouteStop]:
    """The stops along ``walk`` (rows), the closing return to a first stop not counted twice."""
    visited = [stops[g] for g in walk if g < len(stops)]
    if closed and walk and walk[0] < len(stops):
        visited = visited[:-1]
    return visited


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
    start, end, closed = _walk_ends(start, end, closed)
    places = _places(stops, start, end)
    dist = stop_distances_m(places.lonlat, metric=metric, network=network)
    reach = _reachable(dist, places)
    speed_m_s = speed_kmh / 3.6
    order, over_budget = _order(reach, stops, closed, speed_m_s, service_min, budget_min, time_budget_s)
    walk = [int(reach.rows[i]) for i in order]
    walk += walk[:1] if closed else []  # a closed walk returns to where it began
    legs = [float(dist[a, b]) for a, b in zip(walk[:-1], walk[1:], strict=True)]
    visited = _visited(stops, walk, closed)
    length = float(sum(legs))
    dropped = [(stops[i], UNREACHABLE) for i in reach.unreachable]
    dropped += [(stops[i], OVER_BUDGET) for i in over_budget]
    return PlannedRoute(
        stops=visited,
        start=start,
        end=end,
        closed=closed,
        metric=metric,
        speed_kmh=speed_kmh,
        service_min=service_min,
        leg_m=legs if start is not None or not walk else [0.0, *legs],
        length_m=length,
        duration_min=length / speed_m_s / 60.0 + service_min * len(visited),
        path_lonlat=_path(places.lonlat, walk, metric, network),
        dropped=dropped,
        budget_min=budget_min,
    )
