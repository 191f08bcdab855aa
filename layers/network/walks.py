"""The legs of a walk along the streets, all from one batched search.

:func:`layers.network.paths.shortest_path_through` runs one unbounded search per leg, which is
fine for a town and costs a few milliseconds a leg on a city's 50,000 street nodes. A route of
dozens of legs gets them here from one ``dijkstra`` call over all leg starts (in blocks, so the
rows held stay small) with predecessors and a search ``limit``: a leg known to be at most
``limit_m`` long (a route planner knows an upper bound for each) is found exactly, and the
search stops there. Lines and lengths equal :func:`shortest_path_through`'s (the tests hold
them equal). Units: metres; geometry in and out is EPSG:4326.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from layers.network.graph import Snapped, StreetNetwork, snap, to_network_crs
from layers.network.paths import _oriented, _partial, _reach_targets, _with_sources

__all__ = ["WalkLeg", "walk_legs"]

SOURCES_PER_BLOCK = 64  # 64 rows x 50k street nodes x 12 bytes = 38 MB at most
_EDGE_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _edge_lookup(net: StreetNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys ``u * n_nodes + v`` (both directions) and the shortest edge of each key,
    built once per network: a path's edges are then found in one ``searchsorted``."""
    found = _EDGE_KEYS.get(net)
    if found is None:
        n = np.int64(net.n_nodes)
        u, v = net.edge_u.astype(np.int64), net.edge_v.astype(np.int64)
        keys = np.concatenate([u * n + v, v * n + u])
        edges = np.tile(np.arange(len(u)), 2)
        order = np.lexsort((edges, net.edge_length_m[edges], keys))
        keys, edges = keys[order], edges[order]
        first = np.r_[True, keys[1:] != keys[:-1]]
        found = (keys[first], edges[first])
        _EDGE_KEYS[net] = found
    return found


def _path_edges(net: StreetNetwork, nodes: np.ndarray) -> np.ndarray:
    """The shortest edge joining each consecutive pair of ``nodes``."""
    keys, edges = _edge_lookup(net)
    return edges[np.searchsorted(keys, nodes[:-1].astype(np.int64) * net.n_nodes + nodes[1:])]


def _blocks(order: np.ndarray, limits: np.ndarray) -> list[np.ndarray]:
    """Legs in blocks of similar search limits (a long leg must not make the short ones'
    searches long): at most SOURCES_PER_BLOCK, and the largest limit within twice the smallest."""
    blocks: list[np.ndarray] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) >= SOURCES_PER_BLOCK or limits[i] > 2 * max(limits[current[0]], 100.0)):
            blocks.append(np.array(current))
            current = []
        current.append(int(i))
    if current:
        blocks.append(np.array(current))
    return blocks


@dataclass(frozen=True)
class WalkLeg:
    """One leg along the streets: metres (both snaps included) and the line (lon/lat)."""

    length_m: float
    coords: list[tuple[float, float]]


def _leg_xy(
    net: StreetNetwork, pair: Snapped, dist: np.ndarray, pred: np.ndarray, source: int
) -> tuple[float, list[tuple[float, float]]] | None:
    """Metres and metric coordinates (street part) of the walk between the two places of
    ``pair``, given the search rows from the first (``source``: its virtual node)."""
    n = net.n_nodes
    ea, eb = int(pair.edge[0]), int(pair.edge[1])
    sa, sb = float(pair.position_m[0]), float(pair.position_m[1])
    reach, end = _reach_targets(net, dist[:n], pair, np.array([1]))
    snaps = float(pair.distance_m[0] + pair.distance_m[1])
    direct = snaps + abs(sa - sb) if ea == eb else np.inf
    via = float(reach[0])
    if not np.isfinite(via) and not np.isfinite(direct):
        return None
    if direct <= via:
        return direct, _partial(net, ea, sa, sb)
    last = int(net.edge_v[eb] if end[0] == 1 else net.edge_u[eb])
    nodes = [last]
    while pred[nodes[-1]] != source:
        nodes.append(int(pred[nodes[-1]]))
    nodes.reverse()
    first = nodes[0]
    coords = _partial(net, ea, sa, 0.0 if net.edge_u[ea] == first else float(net.edge_length_m[ea]))
    for x, edge in zip(nodes[:-1], _path_edges(net, np.asarray(nodes)), strict=True):
        coords += _oriented(net, int(edge), x)[1:]
    tail = _partial(net, eb, 0.0 if net.edge_u[eb] == last else float(net.edge_length_m[eb]), sb)
    return via, coords + tail[1:]


def walk_legs(
    net: StreetNetwork, points: gpd.GeoSeries, *, limit_m: float | np.ndarray | None = None
) -> list[WalkLeg | None]:
    """The walk along the streets from each point to the next.

    Parameters
    ----------
    net : StreetNetwork
    points : GeoSeries of Points
        EPSG:4326 (any declared CRS is transformed), in walking order.
    limit_m : float or array of shape (len(points) - 1,), optional
        Most metres each leg can be (searches stop there); legs longer come out None.

    Returns
    -------
    list of WalkLeg or None
        One per leg (``len(points) - 1``): its metres, as :func:`network_distance_matrix` measures
        them, and its line from the first point straight to its street, along the streets, and
        straight to the second point; None where no walk joins them (within the limit).
    """
    k = len(points) - 1
    if k < 1:
        return []
    limits = np.broadcast_to(np.asarray(np.inf if limit_m is None else limit_m, dtype=float), (k,))
    snapped = snap(net, points)
    xy = shapely.get_coordinates(to_network_crs(net, points))
    metric: list[tuple[float, list[tuple[float, float]]] | None] = [None] * k
    legs = np.flatnonzero((snapped.edge[:-1] >= 0) & (snapped.edge[1:] >= 0) & (limits >= 0))
    for ok in _blocks(legs[np.argsort(limits[legs], kind="stable")], limits):
        graph = _with_sources(net, snapped, ok)
        dist, pred = dijkstra(
            graph,
            directed=True,
            indices=net.n_nodes + np.arange(len(ok)),
            return_predecessors=True,
            limit=float(limits[ok].max()),
        )
        for row, i in enumerate(ok):
            pair_rows = np.array([i, i + 1])
            pair = Snapped(
                *(getattr(snapped, f)[pair_rows] for f in ("edge", "position_m", "distance_m", "xy"))
            )
            found = _leg_xy(net, pair, dist[row], pred[row], net.n_nodes + row)
            if found is not None and found[0] <= limits[i] * (1 + 1e-9) + 1e-6:
                metric[i] = found
    return [_to_leg(net, xy[i], xy[i + 1], found) if found else None for i, found in enumerate(metric)]


def _to_leg(
    net: StreetNetwork, a: np.ndarray, b: np.ndarray, found: tuple[float, list[tuple[float, float]]]
) -> WalkLeg:
    length, street = found
    coords = np.asarray([tuple(a), *street, tuple(b)], dtype=float)
    if np.array_equal(a, b):
        coords = np.asarray([tuple(a), tuple(a)], dtype=float)
    lon, lat = net.to_lonlat.transform(coords[:, 0], coords[:, 1])
    return WalkLeg(float(length), [(float(x), float(y)) for x, y in zip(lon, lat, strict=True)])
