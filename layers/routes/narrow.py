"""A route for any number of stops: narrow them to the few one walk can take, then plan those.

A scope can hold thousands of open problems; a walk of a few hours takes tens. Everything
quadratic (the distance matrix, the ordering) runs on the narrowed set only:

1. **Reach.** Metres from the *origin* (the walker's start, else the caller's most urgent stop)
   to every stop: one single-source search on the street network (:func:`reach_from`); a stop
   no street walk joins is measured in a straight line, as :mod:`layers.routes.legs` does.
2. **Within the budget.** A stop is reachable when walking there and serving it fits:
   ``reach / speed + service <= budget``; the others are out of reach.
3. **The best K.** Reachable stops by weight (heaviest first), then nearest first; at most
   :func:`candidate_cap` (twice the stops the budget could serve with no walking at all, at
   most ``MAX_CANDIDATES``).
4. **Plan** (:func:`plan_narrowed_walk`). The metres between the K (and the start): street
   searches from every one at once, bounded at ``LEG_SEARCH_M``; a pair farther apart on the
   streets gets the walk through the origin (``reach(a) + reach(b)``, a real walk and so an
   upper bound). The order and the stops that fit come from :func:`plan_route` /
   :func:`plan_route_with_budget`. Each leg is then measured exactly along the streets
   (:func:`layers.network.walk_legs`, bounded by the planned metres): never longer than
   planned, so the budget holds.

Positions are lon/lat (EPSG:4326); lengths metres, times minutes.
"""

from __future__ import annotations

import math
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from scipy.spatial.distance import cdist

from layers.network import StreetNetwork, network_distance_matrix, walk_legs
from layers.projection import WGS84, metric_crs_for
from layers.routes.budget import plan_route_with_budget
from layers.routes.legs import Leg, Piece, StreetWalk
from layers.routes.order import plan_route
from layers.routes.walk import RouteError, RouteStop

__all__ = [
    "LEG_SEARCH_M",
    "MAX_CANDIDATES",
    "candidate_cap",
    "narrow_stops",
    "plan_narrowed_walk",
    "reach_from",
]

MAX_CANDIDATES = 100
LEG_SEARCH_M = 3000.0  # legs of a good walk are far shorter; farther pairs go through the origin
LonLat = tuple[float, float]


@lru_cache(maxsize=8)
def _to_metric(crs: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)  # ~0.1 s to build: once


def _metric_xy(lonlat: np.ndarray, around: LonLat) -> np.ndarray:
    x, y = _to_metric(metric_crs_for(around)).transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def _usable(network: StreetNetwork | None) -> bool:
    return network is not None and network.n_edges > 0


def _points(lonlat: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(shapely.points(lonlat), crs=WGS84)


def reach_from(
    origin: LonLat, lonlat: np.ndarray, network: StreetNetwork | None
) -> tuple[np.ndarray, np.ndarray]:
    """Metres from ``origin`` to each of ``lonlat`` (shape (n, 2)), and whether along the streets.

    One single-source search: along the streets where a walk joins them, else a straight line.
    """
    lonlat = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    xy = _metric_xy(np.vstack([np.asarray(origin, dtype=float)[None, :], lonlat]), origin)
    straight = np.hypot(xy[1:, 0] - xy[0, 0], xy[1:, 1] - xy[0, 1])
    if not _usable(network) or len(lonlat) == 0:
        return straight, np.zeros(len(lonlat), dtype=bool)
    street = network_distance_matrix(network, _points(np.asarray([origin])), _points(lonlat))[0]
    on = np.isfinite(street)
    return np.where(on, street, straight), on


def candidate_cap(budget_min: float | None, service_min: float) -> int:
    """How many stops go to the planner: twice what the budget could serve, at most MAX_CANDIDATES."""
    if budget_min is None or service_min <= 0:
        return MAX_CANDIDATES
    return max(1, min(MAX_CANDIDATES, 2 * math.ceil(budget_min / service_min)))


def narrow_stops(
    reach_m: np.ndarray,
    weights: np.ndarray,
    *,
    budget_min: float | None,
    speed_kmh: float,
    service_min: float,
) -> tuple[np.ndarray, int]:
    """The stops to plan (positions, best first) and how many are within reach of the budget.

    ``reach_m``: metres from the origin (:func:`reach_from`); ``weights``: priority (>= 0).
    """
    reach = np.asarray(reach_m, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    minutes = reach / (speed_kmh / 3.6) / 60.0 + service_min
    within = np.ones(len(reach), dtype=bool) if budget_min is None else minutes <= budget_min + 1e-9
    rows = np.flatnonzero(within)
    best = rows[np.lexsort((rows, reach[rows], -w[rows]))]
    return best[: candidate_cap(budget_min, service_min)], int(within.sum())


def _matrix(
    places: np.ndarray, origin_m: np.ndarray, on: np.ndarray, net: StreetNetwork | None
) -> tuple[np.ndarray, np.ndarray]:
    """Planning metres between places and whether each pair walks along the streets."""
    straight = cdist(*(2 * [_metric_xy(places, (float(places[0, 0]), float(places[0, 1])))]))
    if net is None:
        return straight, np.zeros_like(straight, dtype=bool)
    pts = _points(places)
    exact = network_distance_matrix(net, pts, pts, limit_m=LEG_SEARCH_M)
    exact = np.minimum(exact, exact.T)
    via = np.where(on[:, None] & on[None, :], origin_m[:, None] + origin_m[None, :], np.inf)
    street = np.where(np.isfinite(exact), exact, via)
    np.fill_diagonal(street, 0.0)
    joined = np.isfinite(street)
    return np.where(joined, street, straight), joined


def _order(
    dist: np.ndarray, stops: list[RouteStop], s: int | None, speed_kmh: float, service_min: float,
    budget_min: float | None, time_budget_s: float,
) -> tuple[list[int], list[int]]:  # fmt: skip
    n = len(stops)
    if budget_min is None:
        return plan_route(dist, start=s, time_budget_s=time_budget_s), []
    is_stop = np.arange(dist.shape[0]) < n
    weights = np.array([st.weight for st in stops] + [0.0] * (dist.shape[0] - n))
    try:
        walk, chosen = plan_route_with_budget(
            dist, speed_kmh / 3.6, np.where(is_stop, service_min, 0.0), budget_min, weights,
            start=s, time_budget_s=time_budget_s,
        )  # fmt: skip
    except ValueError as exc:
        raise RouteError(str(exc)) from None
    return walk, [int(i) for i in np.flatnonzero(~chosen & is_stop)]


def _measured(
    places: np.ndarray, walk: list[int], dist: np.ndarray, joined: np.ndarray, net: StreetNetwork | None
) -> tuple[list[Leg], list[Piece]]:
    """Each leg measured exactly (along the streets where planned so) and the path to draw."""
    steps = list(zip(walk[:-1], walk[1:], strict=True))
    street = [bool(joined[a, b]) and net is not None for a, b in steps]
    found: list = [None] * len(steps)
    if net is not None and any(street):
        # a street leg is at most its planned metres (exact or through the origin)
        limit = np.array([dist[a, b] if ok else 0.0 for (a, b), ok in zip(steps, street, strict=True)])
        found = walk_legs(net, _points(places[walk]), limit_m=limit + 1e-6)
    legs: list[Leg] = []
    pieces: list[Piece] = []
    for (a, b), ok, leg in zip(steps, street, found, strict=True):
        if ok and leg is not None:
            legs.append(Leg(leg.length_m, True))
            if pieces and pieces[-1].on_streets:
                pieces[-1] = Piece(pieces[-1].coords + leg.coords[1:], True)
            else:
                pieces.append(Piece(list(leg.coords), True))
            continue
        legs.append(Leg(float(dist[a, b]), False))
        ends = [(float(places[i, 0]), float(places[i, 1])) for i in (a, b)]
        pieces.append(Piece(ends, False))
    return legs, pieces


def plan_narrowed_walk(
    stops: list[RouteStop],
    *,
    start: LonLat | None,
    origin_m: np.ndarray,
    origin_on_streets: np.ndarray,
    network: StreetNetwork | None,
    speed_kmh: float = 4.5,
    service_min: float = 3.0,
    budget_min: float | None = None,
    time_budget_s: float = 0.3,
) -> StreetWalk:
    """The walk through the narrowed ``stops`` (all, or the heaviest that fit ``budget_min``).

    ``origin_m`` / ``origin_on_streets``: each stop's reach from the origin (:func:`reach_from`;
    the origin is ``start`` when given). Returns a :class:`StreetWalk` as
    :func:`layers.routes.plan_street_walk` does, its legs measured exactly.
    """
    if not (np.isfinite(speed_kmh) and speed_kmh > 0) or not (np.isfinite(service_min) and service_min >= 0):
        raise RouteError("speed must be positive and service minutes not negative")
    n = len(stops)
    net = network if _usable(network) else None
    if n == 0:
        return StreetWalk([], start, [], [], speed_kmh, service_min, net is not None, budget_min=budget_min)
    rows = [[s.lon, s.lat] for s in stops] + ([list(start)] if start is not None else [])
    places = np.array(rows, dtype=np.float64)
    extra = [0.0] if start is not None else []
    origin = np.concatenate([np.asarray(origin_m, dtype=float), extra])
    on = np.concatenate([np.asarray(origin_on_streets, dtype=bool), np.ones(len(extra), dtype=bool)])
    dist, joined = _matrix(places, origin, on, net)
    s = n if start is not None else None
    walk, dropped = _order(dist, stops, s, speed_kmh, service_min, budget_min, time_budget_s)
    legs, pieces = _measured(places, walk, dist, joined, net)
    order = [i for i in walk if i < n]
    return StreetWalk(
        order=order,
        start=start,
        legs=legs if start is not None else [None, *legs][: len(order)],
        pieces=pieces,
        speed_kmh=speed_kmh,
        service_min=service_min,
        network=net is not None,
        dropped=dropped,
        budget_min=budget_min,
    )
