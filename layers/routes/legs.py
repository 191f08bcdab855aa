"""A walk through every stop, leg by leg: along the streets where they join, straight where not.

:func:`layers.routes.walk.plan_walk` drops the stops the street network cannot reach. An
inspector's route page must still show every stop, so here each pair of places is measured
along the streets when a walk joins them and in a straight line otherwise, the order is planned
on that mixed matrix (:func:`layers.routes.order.plan_route`, or
:func:`layers.routes.budget.plan_route_with_budget` within a time budget), and every leg says
whether it follows the streets. Without a network every leg is straight.

Positions are lon/lat (EPSG:4326); lengths are metres, times minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

from layers.network import StreetNetwork, shortest_path_through
from layers.network.graph import NetworkUnreachableError
from layers.projection import WGS84
from layers.routes.budget import plan_route_with_budget
from layers.routes.order import plan_route
from layers.routes.walk import RouteError, RouteStop, stop_distances_m

__all__ = ["Leg", "Piece", "StreetWalk", "plan_street_walk"]

LonLat = tuple[float, float]


@dataclass(frozen=True)
class Leg:
    """The walk to a stop (from the start or the stop before): metres, and whether it follows
    the streets (else it is a straight line: no street walk joins the two places)."""

    length_m: float
    on_streets: bool


@dataclass(frozen=True)
class Piece:
    """A stretch of the drawn path: consecutive street legs, or one straight leg."""

    coords: list[LonLat]
    on_streets: bool


@dataclass(frozen=True)
class StreetWalk:
    """A planned walk.

    Attributes
    ----------
    order : indices into the stops given, in walking order.
    legs : the leg ending at each stop of ``order``; None for the first stop when there is no
        start (the walk begins there).
    pieces : the path to draw, in walking order (street runs and straight legs).
    network : True when a street network was used at all.
    dropped : indices of the stops left out because the time budget ran out.
    """

    order: list[int]
    start: LonLat | None
    legs: list[Leg | None]
    pieces: list[Piece]
    speed_kmh: float
    service_min: float
    network: bool
    dropped: list[int] = field(default_factory=list)
    budget_min: float | None = None

    @property
    def length_m(self) -> float:
        return float(sum(leg.length_m for leg in self.legs if leg is not None))

    @property
    def walk_min(self) -> float:
        """Minutes of walking at ``speed_kmh``."""
        return self.length_m / (self.speed_kmh / 3.6) / 60.0

    @property
    def duration_min(self) -> float:
        """Walking plus ``service_min`` at every stop."""
        return self.walk_min + self.service_min * len(self.order)

    @property
    def straight_legs(self) -> int:
        """Legs with no street walk (drawn and measured as straight lines)."""
        return sum(leg is not None and not leg.on_streets for leg in self.legs)

    @property
    def path_lonlat(self) -> list[LonLat]:
        """The whole path as one line (a GPX track)."""
        coords: list[LonLat] = []
        for piece in self.pieces:
            coords += piece.coords[1:] if coords and coords[-1] == piece.coords[0] else piece.coords
        return coords


def _usable(network: StreetNetwork | None) -> bool:
    return network is not None and network.n_edges > 0


def _straight(places: np.ndarray, a: int, b: int) -> Piece:
    return Piece(
        [(float(places[a, 0]), float(places[a, 1])), (float(places[b, 0]), float(places[b, 1]))], False
    )


def _pieces(
    places: np.ndarray, walk: list[int], on_streets: list[bool], net: StreetNetwork | None
) -> list[Piece]:
    """Runs of street legs drawn with one :func:`shortest_path_through` each (one snap and one
    transformation per run), straight legs on their own."""
    pieces: list[Piece] = []
    i = 0
    while i < len(on_streets):
        if not on_streets[i] or net is None:
            pieces.append(_straight(places, walk[i], walk[i + 1]))
            i += 1
            continue
        j = i
        while j < len(on_streets) and on_streets[j]:
            j += 1
        run = walk[i : j + 1]
        try:
            line = shortest_path_through(net, gpd.GeoSeries(shapely.points(places[run]), crs=WGS84))
            pieces.append(Piece([(float(x), float(y)) for x, y in line.coords], True))
        except NetworkUnreachableError:  # measured but not drawable: show the run straight
            pieces += [_straight(places, a, b) for a, b in zip(run[:-1], run[1:], strict=True)]
        i = j
    return pieces


def plan_street_walk(
    stops: list[RouteStop],
    *,
    start: LonLat | None = None,
    network: StreetNetwork | None = None,
    speed_kmh: float = 4.5,
    service_min: float = 3.0,
    budget_min: float | None = None,
    time_budget_s: float = 1.0,
) -> StreetWalk:
    """Plan an open walk through ``stops`` (from ``start`` when given).

    Parameters
    ----------
    stops : list of RouteStop
        Checked lon/lat positions (EPSG:4326); ``weight`` matters only with a budget.
    start : (lon, lat), optional
        Where the walk begins (e.g. the walker's position); no service time.
    network : StreetNetwork, optional
        Walkable streets; pairs it joins are measured and drawn along it, others straight.
    speed_kmh, service_min :
        Walking speed (km/h) and minutes spent at each stop.
    budget_min : float, optional
        Minutes available: the stops of most weight that fit are kept, the rest are ``dropped``.

    Raises
    ------
    RouteError
        On a bad speed, service time or budget.
    """
    if not (np.isfinite(speed_kmh) and speed_kmh > 0) or not (np.isfinite(service_min) and service_min >= 0):
        raise RouteError("speed must be positive and service minutes not negative")
    n = len(stops)
    rows = [[s.lon, s.lat] for s in stops] + ([list(start)] if start is not None else [])
    places = np.array(rows, dtype=np.float64).reshape(-1, 2)
    net = network if _usable(network) else None
    if len(places) == 0:
        return StreetWalk([], start, [], [], speed_kmh, service_min, net is not None, budget_min=budget_min)
    straight = stop_distances_m(places, metric="straight")
    street = (
        stop_distances_m(places, metric="network", network=net)
        if net is not None
        else np.full_like(straight, np.inf)
    )
    dist = np.where(np.isfinite(street), street, straight)
    s = n if start is not None else None
    dropped: list[int] = []
    if budget_min is None:
        walk = plan_route(dist, start=s, time_budget_s=time_budget_s)
    else:
        is_stop = np.arange(len(places)) < n
        weights = np.array([st.weight for st in stops] + [0.0] * (len(places) - n))
        try:
            walk, chosen = plan_route_with_budget(
                dist, speed_kmh / 3.6, np.where(is_stop, service_min, 0.0), budget_min, weights,
                start=s, time_budget_s=2 * time_budget_s,
            )  # fmt: skip
        except ValueError as exc:
            raise RouteError(str(exc)) from None
        dropped = [int(i) for i in np.flatnonzero(~chosen & is_stop)]
    order = [i for i in walk if i < n]
    steps = list(zip(walk[:-1], walk[1:], strict=True))
    on_streets = [bool(np.isfinite(street[a, b])) for a, b in steps]
    legs: list[Leg | None] = [
        Leg(float(dist[a, b]), ok) for (a, b), ok in zip(steps, on_streets, strict=True)
    ]
    return StreetWalk(
        order=order,
        start=start,
        legs=legs if start is not None else [None, *legs][: len(order)],
        pieces=_pieces(places, walk, on_streets, net),
        speed_kmh=speed_kmh,
        service_min=service_min,
        network=net is not None,
        dropped=dropped,
        budget_min=budget_min,
    )
