"""Walking distances and paths on a :class:`layers.network.graph.StreetNetwork`.

Multi-source searches add one virtual node per source, linked to the two ends of its edge with
the partial edge lengths, and run one scipy Dijkstra (``min_only=True``) over the augmented CSR.
Units: metres; geometry in and out is EPSG:4326 unless stated.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point
from shapely.ops import substring

from layers.network.graph import (
    NetworkUnreachableError,
    Snapped,
    StreetNetwork,
    snap,
    to_network_crs,
)
from layers.projection import WGS84


def _with_sources(net: StreetNetwork, snapped: Snapped, rows: np.ndarray) -> sp.csr_matrix:
    """``net.graph`` plus one virtual node per entry of ``rows`` (appended after the real
    nodes), with out-edges to both ends of its edge weighted snap + partial edge length."""
    e = snapped.edge[rows]
    d = snapped.distance_m[rows]
    s = snapped.position_m[rows]
    cols = np.stack([net.edge_u[e], net.edge_v[e]], axis=1).ravel()
    data = np.stack([d + s, d + net.edge_length_m[e] - s], axis=1).ravel()
    g = net.graph
    n, k = net.n_nodes, len(rows)
    indptr = np.concatenate([g.indptr, g.indptr[-1] + 2 * np.arange(1, k + 1)])
    return sp.csr_matrix(
        (np.concatenate([g.data, data]), np.concatenate([g.indices, cols]), indptr), shape=(n + k, n + k)
    )


def _reach_targets(
    net: StreetNetwork, dist_nodes: np.ndarray, targets: Snapped, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance to each target through either end of its edge, and which end (0 = u, 1 = v).

    ``dist_nodes`` has the node distances on its last axis; the result broadcasts over the
    leading axes. Targets not in ``rows`` are not computed (the caller fills inf).
    """
    e = targets.edge[rows]
    s = targets.position_m[rows]
    via_u = dist_nodes[..., net.edge_u[e]] + s
    via_v = dist_nodes[..., net.edge_v[e]] + (net.edge_length_m[e] - s)
    end = (via_v < via_u).astype(np.int8)
    return np.minimum(via_u, via_v) + targets.distance_m[rows], end


def network_distance_matrix(
    net: StreetNetwork,
    sources: gpd.GeoSeries | gpd.GeoDataFrame,
    targets: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    limit_m: float | None = None,
) -> np.ndarray:
    """Walking distances from every source to every target.

    Parameters
    ----------
    net : StreetNetwork
    sources, targets : GeoSeries or GeoDataFrame
        Places in EPSG:4326 (see :func:`snap`).
    limit_m : float, optional
        Stop searching beyond this walk (metres); farther pairs come out as inf.

    Returns
    -------
    ndarray of float, shape (len(sources), len(targets))
        Metres, including both snap distances; inf where no walk joins them (or beyond
        ``limit_m``).
    """
    src = snap(net, sources)
    tgt = snap(net, targets)
    return _distance_matrix_snapped(net, src, tgt, limit_m=limit_m)


def _distance_matrix_snapped(
    net: StreetNetwork, src: Snapped, tgt: Snapped, *, limit_m: float | None = None
) -> np.ndarray:
    out = np.full((len(src), len(tgt)), np.inf)
    s_rows = np.flatnonzero(src.edge >= 0)
    t_rows = np.flatnonzero(tgt.edge >= 0)
    if len(s_rows) == 0 or len(t_rows) == 0:
        return out
    graph = _with_sources(net, src, s_rows)
    virtual = net.n_nodes + np.arange(len(s_rows))
    dist = dijkstra(graph, directed=True, indices=virtual, limit=np.inf if limit_m is None else limit_m)
    via_nodes, _ = _reach_targets(net, dist[:, : net.n_nodes], tgt, t_rows)
    same = src.edge[s_rows][:, None] == tgt.edge[t_rows][None, :]
    direct = (
        src.distance_m[s_rows][:, None]
        + np.abs(src.position_m[s_rows][:, None] - tgt.position_m[t_rows][None, :])
        + tgt.distance_m[t_rows][None, :]
    )
    best = np.where(same, np.minimum(via_nodes, direct), via_nodes)
    if limit_m is not None:
        best[best > limit_m] = np.inf
    out[np.ix_(s_rows, t_rows)] = best
    return out


def nearest_by_network(
    net: StreetNetwork,
    origins: gpd.GeoSeries | gpd.GeoDataFrame,
    facilities: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    limit_m: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The facility nearest to each origin by walking, with one multi-source Dijkstra.

    Parameters
    ----------
    net : StreetNetwork
    origins, facilities : GeoSeries or GeoDataFrame
        Places in EPSG:4326 (see :func:`snap`).
    limit_m : float, optional
        Search no farther than this walk (metres); origins beyond it get -1 / inf.

    Returns
    -------
    facility_index : ndarray of int
        Position (``iloc``) in ``facilities`` of each origin's nearest facility; -1 where
        none is reachable.
    distance_m : ndarray of float
        The walk in metres, including both snap distances; inf where none is reachable.
    """
    return nearest_by_network_snapped(net, snap(net, origins), snap(net, facilities), limit_m=limit_m)


def nearest_by_network_snapped(
    net: StreetNetwork, orig: Snapped, fac: Snapped, *, limit_m: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nearest_by_network` for places already snapped to ``net``."""
    best_fac = np.full(len(orig), -1, dtype=np.int64)
    best = np.full(len(orig), np.inf)
    f_rows = np.flatnonzero(fac.edge >= 0)
    o_rows = np.flatnonzero(orig.edge >= 0)
    if len(f_rows) == 0 or len(o_rows) == 0:
        return best_fac, best
    graph = _with_sources(net, fac, f_rows)
    n = net.n_nodes
    dist, _, source = dijkstra(
        graph,
        directed=True,
        indices=n + np.arange(len(f_rows)),
        min_only=True,
        return_predecessors=True,
        limit=np.inf if limit_m is None else limit_m,
    )
    reach, end = _reach_targets(net, dist[:n], orig, o_rows)
    e = orig.edge[o_rows]
    end_node = np.where(end == 1, net.edge_v[e], net.edge_u[e])
    src_node = source[end_node]
    best[o_rows] = reach
    best_fac[o_rows] = np.where(src_node >= n, f_rows[np.maximum(src_node - n, 0)], -1)
    _same_edge_pass(orig, fac, f_rows, o_rows, best, best_fac)
    if limit_m is not None:
        far = best > limit_m
        best[far], best_fac[far] = np.inf, -1
    best_fac[~np.isfinite(best)] = -1
    return best_fac, best


def _same_edge_pass(
    orig: Snapped,
    fac: Snapped,
    f_rows: np.ndarray,
    o_rows: np.ndarray,
    best: np.ndarray,
    best_fac: np.ndarray,
) -> None:
    """Improve ``best``/``best_fac`` in place with facilities on an origin's own edge."""
    order = f_rows[np.argsort(fac.edge[f_rows], kind="stable")]
    f_edges = fac.edge[order]
    lo = np.searchsorted(f_edges, orig.edge[o_rows], side="left")
    hi = np.searchsorted(f_edges, orig.edge[o_rows], side="right")
    counts = hi - lo
    if counts.sum() == 0:
        return
    o = np.repeat(o_rows, counts)
    f = order[np.repeat(lo, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)]
    d = orig.distance_m[o] + np.abs(orig.position_m[o] - fac.position_m[f]) + fac.distance_m[f]
    pick = np.lexsort((f, d, o))
    o, f, d = o[pick], f[pick], d[pick]
    first = np.r_[True, o[1:] != o[:-1]]
    o, f, d = o[first], f[first], d[first]
    better = d < best[o]
    best[o[better]] = d[better]
    best_fac[o[better]] = f[better]


# ---------------------------------------------------------------- drawing a route


def _edge_between(net: StreetNetwork, a: int, b: int, by_node: dict[int, np.ndarray]) -> int:
    """The shortest edge joining nodes a and b (``by_node``: edges at each node, filled lazily)."""
    if a not in by_node:
        by_node[a] = np.flatnonzero((net.edge_u == a) | (net.edge_v == a))
    cand = by_node[a]
    cand = cand[
        ((net.edge_u[cand] == a) & (net.edge_v[cand] == b))
        | ((net.edge_u[cand] == b) & (net.edge_v[cand] == a))
    ]
    return int(cand[np.argmin(net.edge_length_m[cand])])


def _oriented(net: StreetNetwork, edge: int, start_node: int) -> list[tuple[float, float]]:
    coords = list(net.edge_geoms[edge].coords)
    return coords if net.edge_u[edge] == start_node else coords[::-1]


def _partial(net: StreetNetwork, edge: int, from_m: float, to_m: float) -> list[tuple[float, float]]:
    line = substring(net.edge_geoms[edge], from_m, to_m)
    return list(line.coords) if line.geom_type == "LineString" else [line.coords[0]]


def shortest_path_line(net: StreetNetwork, a: Point, b: Point) -> LineString:
    """The walk from ``a`` to ``b`` as a line, for drawing a route.

    Parameters
    ----------
    net : StreetNetwork
    a, b : shapely Point
        Lon/lat (EPSG:4326).

    Returns
    -------
    LineString
        EPSG:4326: from ``a`` straight to its street point, along the streets, then straight
        to ``b``. Its length measured in ``net.crs`` is the walking distance in metres.

    Raises
    ------
    NetworkUnreachableError
        When no walk joins ``a`` and ``b``.
    """
    return shortest_path_through(net, gpd.GeoSeries([a, b], crs=WGS84))


def shortest_path_through(net: StreetNetwork, points: gpd.GeoSeries) -> LineString:
    """The walk through ``points`` in order (a route's legs), as one line.

    Parameters
    ----------
    net : StreetNetwork
    points : GeoSeries of Points
        EPSG:4326 (any declared CRS is transformed); at least two.

    Returns
    -------
    LineString
        EPSG:4326, leg after leg as :func:`shortest_path_line` draws them (one snap and one
        transformation for the whole walk). Consecutive equal points add nothing.

    Raises
    ------
    NetworkUnreachableError
        When a leg has no walk.
    """
    if len(points) < 2:
        raise ValueError("a walk needs at least two points")
    snapped = snap(net, points)
    if (snapped.edge < 0).any():
        raise NetworkUnreachableError("no street to attach to")
    xy = shapely.get_coordinates(to_network_crs(net, points))
    coords: list[tuple[float, float]] = [tuple(xy[0])]
    for i in range(len(xy) - 1):
        if np.array_equal(xy[i], xy[i + 1]):
            continue
        leg = np.array([i, i + 1])
        pair = Snapped(snapped.edge[leg], snapped.position_m[leg], snapped.distance_m[leg], snapped.xy[leg])
        coords += [*_path_coords(net, pair), tuple(xy[i + 1])]
    if len(coords) == 1:
        coords.append(coords[0])
    lon, lat = net.to_lonlat.transform(*np.asarray(coords).T)
    return LineString(np.column_stack([lon, lat]))


def _path_coords(net: StreetNetwork, snapped: Snapped) -> list[tuple[float, float]]:
    ea, eb = int(snapped.edge[0]), int(snapped.edge[1])
    sa, sb = float(snapped.position_m[0]), float(snapped.position_m[1])
    graph = _with_sources(net, snapped, np.array([0]))
    n = net.n_nodes
    dist, pred = dijkstra(graph, directed=True, indices=n, return_predecessors=True)
    reach, end = _reach_targets(net, dist[:n], snapped, np.array([1]))
    snaps = float(snapped.distance_m[0] + snapped.distance_m[1])
    direct = snaps + abs(sa - sb) if ea == eb else np.inf
    if not np.isfinite(reach[0]) and not np.isfinite(direct):
        raise NetworkUnreachableError("the two places are on unconnected parts of the network")
    if direct <= reach[0]:
        return _partial(net, ea, sa, sb)
    last = int(net.edge_v[eb] if end[0] == 1 else net.edge_u[eb])
    nodes = [last]
    while pred[nodes[-1]] != n:
        nodes.append(int(pred[nodes[-1]]))
    nodes.reverse()
    first = nodes[0]
    coords = _partial(net, ea, sa, 0.0 if net.edge_u[ea] == first else float(net.edge_length_m[ea]))
    at_node: dict[int, np.ndarray] = {}
    for x, y in zip(nodes[:-1], nodes[1:], strict=True):
        coords += _oriented(net, _edge_between(net, x, y, at_node), x)[1:]
    tail = _partial(net, eb, 0.0 if net.edge_u[eb] == last else float(net.edge_length_m[eb]), sb)
    return coords + tail[1:]
