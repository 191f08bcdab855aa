"""The walkable street graph in metres: noding, the CSR graph, and attaching places to it.

See :mod:`layers.network` for the model of distances this graph serves.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from layers.projection import WGS84, metric_crs_for

NODE_TOLERANCE_M = 1e-3  # node keys are rounded to this (metres)
SNAP_TOLERANCE_M = 0.01  # default: line ends this close join (metres)


class NetworkUnreachableError(ValueError):
    """No walk joins the two places (different components, or no street at all)."""


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """A noded street graph in a metric CRS.

    Attributes
    ----------
    crs : pyproj.CRS
        The metric CRS of every coordinate and geometry below (x = easting, y = northing, m).
    node_xy : ndarray of float, shape (n_nodes, 2)
        Node coordinates in ``crs`` (metres).
    graph : scipy.sparse.csr_matrix, shape (n_nodes, n_nodes)
        Symmetric edge lengths in metres; between two nodes joined by several edges, the
        shortest; loops (an edge from a node to itself) are left out.
    edge_u, edge_v : ndarray of int, shape (n_edges,)
        End nodes of each edge; its geometry runs from ``edge_u`` to ``edge_v``.
    edge_length_m : ndarray of float, shape (n_edges,)
        Length of each edge geometry, metres.
    edge_geoms : ndarray of shapely LineString, shape (n_edges,)
        Edge geometries in ``crs``.
    edge_street : ndarray of int, shape (n_edges,)
        Position (``iloc``) of the input street row each edge comes from.
    """

    crs: pyproj.CRS
    node_xy: np.ndarray
    graph: sp.csr_matrix
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_geoms: np.ndarray
    edge_street: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tree", shapely.STRtree(self.edge_geoms))
        object.__setattr__(self, "_lonlat", None)

    @property
    def to_lonlat(self) -> pyproj.Transformer:
        """Transformer from ``crs`` to EPSG:4326 (built once: building one costs ~50 ms)."""
        if self.__dict__["_lonlat"] is None:
            object.__setattr__(self, "_lonlat", pyproj.Transformer.from_crs(self.crs, WGS84, always_xy=True))
        transformer: pyproj.Transformer = self.__dict__["_lonlat"]
        return transformer

    @property
    def n_nodes(self) -> int:
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    @property
    def edge_tree(self) -> shapely.STRtree:
        """STRtree over ``edge_geoms`` (metric)."""
        tree: shapely.STRtree = self.__dict__["_tree"]
        return tree

    def node_degree(self) -> np.ndarray:
        """Number of edge ends at each node (a loop counts twice)."""
        return np.bincount(np.concatenate([self.edge_u, self.edge_v]), minlength=self.n_nodes)

    def edges_frame(self) -> gpd.GeoDataFrame:
        """The edges as a GeoDataFrame in ``crs``: u, v, length_m, street (input row position)."""
        return gpd.GeoDataFrame(
            {"u": self.edge_u, "v": self.edge_v, "length_m": self.edge_length_m, "street": self.edge_street},
            geometry=gpd.GeoSeries(self.edge_geoms, crs=self.crs),
        )


@dataclass(frozen=True)
class Snapped:
    """Where places attach to the network (one entry per input geometry).

    Attributes
    ----------
    edge : ndarray of int
        Edge each place attaches to; -1 for a missing/empty geometry or an empty network.
    position_m : ndarray of float
        Distance along that edge from its ``edge_u`` end to the attachment point, metres.
    distance_m : ndarray of float
        Straight distance from the place (its nearest point) to the street, metres; inf when
        ``edge`` is -1.
    xy : ndarray of float, shape (k, 2)
        Attachment points in the network's metric CRS (NaN when ``edge`` is -1).
    """

    edge: np.ndarray
    position_m: np.ndarray
    distance_m: np.ndarray
    xy: np.ndarray

    def __len__(self) -> int:
        return int(self.edge.shape[0])


# ---------------------------------------------------------------- building


def _line_parts(streets: gpd.GeoDataFrame, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    """Non-empty LineStrings of ``streets`` in ``crs`` and the row position each comes from."""
    geoms = streets.geometry.set_crs(WGS84, allow_override=streets.crs is None).to_crs(crs).values
    geoms = np.asarray(geoms, dtype=object)
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    ok &= np.isin(shapely.get_type_id(geoms), (1, 5))  # LineString, MultiLineString
    parts, row = shapely.get_parts(geoms[ok], return_index=True)
    keep = shapely.length(parts) > 0
    return parts[keep], np.flatnonzero(ok)[row[keep]]


def _unique_xy(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """np.unique over coordinate rows (via complex numbers: much faster than ``axis=0``):
    index of each distinct row's first occurrence, inverse and counts."""
    _, first, inverse, counts = np.unique(
        xy[:, 0] + 1j * xy[:, 1], return_index=True, return_inverse=True, return_counts=True
    )
    return first, inverse.ravel(), counts


def _join_ends(lines: np.ndarray, tolerance_m: float, *, t_junctions: bool) -> np.ndarray:
    """Make near-coincident line ends identical, and (``t_junctions``) put a vertex into a
    line wherever another line's end lies within ``tolerance_m`` of it, so that noding joins
    them (a reprojected T-junction misses its street by ~1e-9 m and would stay apart)."""
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    last = np.r_[first[1:] - 1, len(xy) - 1]
    end_pos = np.concatenate([first, last])
    pairs = cKDTree(xy[end_pos]).query_pairs(tolerance_m, output_type="ndarray")
    if len(pairs) and (xy[end_pos][pairs[:, 0]] != xy[end_pos][pairs[:, 1]]).any():
        k = len(end_pos)
        adj = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(k, k))
        _, label = connected_components(adj, directed=False)
        _, rep = np.unique(label, return_index=True)
        xy[end_pos] = xy[end_pos][rep[label]]
        lines = shapely.linestrings(xy, indices=owner)
    if not t_junctions:
        return lines
    ends = xy[end_pos][_unique_xy(xy[end_pos])[0]]
    p_idx, l_idx = shapely.STRtree(lines).query(
        shapely.points(ends), predicate="dwithin", distance=tolerance_m
    )
    own = np.all(ends[p_idx] == xy[first[l_idx]], axis=1) | np.all(ends[p_idx] == xy[last[l_idx]], axis=1)
    order = np.argsort(l_idx[~own], kind="stable")
    p_idx, l_idx = p_idx[~own][order], l_idx[~own][order]
    if len(l_idx) == 0:
        return lines
    starts = np.flatnonzero(np.r_[True, l_idx[1:] != l_idx[:-1]])
    for a, b in zip(starts, np.r_[starts[1:], len(l_idx)], strict=True):
        line = l_idx[a]
        lines[line] = shapely.snap(lines[line], shapely.multipoints(ends[p_idx[a:b]]), tolerance_m)
    return lines


def _node_all_crossings(lines: np.ndarray) -> np.ndarray:
    noded = shapely.node(shapely.multilinestrings(lines))
    return shapely.get_parts(noded)


def _split_at_shared_vertices(lines: np.ndarray) -> np.ndarray:
    """Split lines at their ends and at every vertex another line (or the line again) shares."""
    xy, line_of = shapely.get_coordinates(lines, return_index=True)
    _, key, count = _unique_xy(np.round(xy / NODE_TOLERANCE_M))
    first = np.r_[True, line_of[1:] != line_of[:-1]]
    last = np.r_[line_of[1:] != line_of[:-1], True]
    cut = (count[key] > 1) | first | last
    cut_pos = np.flatnonzero(cut)
    # a piece runs from one cut vertex to the next cut vertex of the same line
    starts = cut_pos[:-1][line_of[cut_pos[:-1]] == line_of[cut_pos[1:]]]
    ends = cut_pos[1:][line_of[cut_pos[:-1]] == line_of[cut_pos[1:]]]
    sizes = ends - starts + 1
    idx = np.repeat(starts - np.cumsum(np.r_[0, sizes[:-1]]), sizes) + np.arange(sizes.sum())
    return shapely.linestrings(xy[idx], indices=np.repeat(np.arange(len(starts)), sizes))


def _source_rows(pieces: np.ndarray, lines: np.ndarray, line_row: np.ndarray) -> np.ndarray:
    """Input row of each noded piece: the first source line through the piece's midpoint."""
    mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    tree = shapely.STRtree(lines)
    p_idx, l_idx = tree.query(mids, predicate="dwithin", distance=NODE_TOLERANCE_M)
    src = np.full(len(pieces), -1)
    order = np.lexsort((l_idx, p_idx))
    p_sorted, l_sorted = p_idx[order], l_idx[order]
    firsts = np.r_[True, p_sorted[1:] != p_sorted[:-1]]
    src[p_sorted[firsts]] = l_sorted[firsts]
    missing = np.flatnonzero(src < 0)
    if len(missing):
        _, nearest = tree.query_nearest(mids[missing], all_matches=False)
        src[missing] = nearest
    return line_row[src]


def _csr(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> sp.csr_matrix:
    """Symmetric CSR with the minimum weight per node pair (no summing of duplicates)."""
    not_loop = u != v
    rows = np.concatenate([u[not_loop], v[not_loop]])
    cols = np.concatenate([v[not_loop], u[not_loop]])
    data = np.concatenate([w[not_loop], w[not_loop]])
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    rows, cols, data = rows[first], cols[first], data[first]
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n))]
    return sp.csr_matrix((data, cols.astype(np.int32), indptr.astype(np.int32)), shape=(n, n))


def build_network(
    streets: gpd.GeoDataFrame,
    *,
    node_crossings: bool = True,
    snap_tolerance_m: float = SNAP_TOLERANCE_M,
    crs: pyproj.CRS | None = None,
) -> StreetNetwork:
    """Build the walkable graph of street centre lines.

    Parameters
    ----------
    streets : GeoDataFrame
        LineStrings/MultiLineStrings, EPSG:4326 (any CRS it declares; none means 4326). Other
        geometry types and empty rows are skipped. Filter to walkable highways beforehand.
    node_crossings : bool, default True
        True: every crossing of two lines is a node (shapely.node; overlapping stretches are
        merged). False: lines are joined only where they share a vertex (OSM ways sharing a
        node), so a bridge over a road stays unconnected to it.
    crs : pyproj.CRS, optional
        Metric CRS to work in; by default ``metric_crs_for(streets)``.

    Returns
    -------
    StreetNetwork
        Nodes, CSR graph and edges in metres in ``crs``; edges keep their input row position.
    """
    crs = crs if crs is not None else metric_crs_for(streets)
    lines, line_row = _line_parts(streets, crs)
    if len(lines) == 0:
        return _empty_network(crs)
    if snap_tolerance_m > 0:
        lines = _join_ends(lines, snap_tolerance_m, t_junctions=node_crossings)
    pieces = _node_all_crossings(lines) if node_crossings else _split_at_shared_vertices(lines)
    pieces = pieces[shapely.length(pieces) > 0]
    street = _source_rows(pieces, lines, line_row)
    ends = np.concatenate(
        [
            shapely.get_coordinates(shapely.get_point(pieces, 0)),
            shapely.get_coordinates(shapely.get_point(pieces, -1)),
        ]
    )
    first_at, node_of, _ = _unique_xy(np.round(ends / NODE_TOLERANCE_M))
    node_xy = ends[first_at]
    u, v = node_of[: len(pieces)], node_of[len(pieces) :]
    length = shapely.length(pieces)
    return StreetNetwork(
        crs=crs,
        node_xy=node_xy,
        graph=_csr(len(first_at), u, v, length),
        edge_u=u,
        edge_v=v,
        edge_length_m=length,
        edge_geoms=pieces,
        edge_street=street,
    )


def _empty_network(crs: pyproj.CRS) -> StreetNetwork:
    empty_i = np.zeros(0, dtype=np.int64)
    return StreetNetwork(
        crs=crs,
        node_xy=np.zeros((0, 2)),
        graph=sp.csr_matrix((0, 0)),
        edge_u=empty_i,
        edge_v=empty_i,
        edge_length_m=np.zeros(0),
        edge_geoms=np.zeros(0, dtype=object),
        edge_street=empty_i,
    )


# ---------------------------------------------------------------- snapping


def to_network_crs(net: StreetNetwork, geoms: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Geometries of ``geoms`` (EPSG:4326 when it declares no CRS) in the network's metric CRS."""
    series = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
    if series.crs is None:
        series = series.set_crs(WGS84)
    return np.asarray(series.to_crs(net.crs).values, dtype=object)


def _nearest_edges(net: StreetNetwork, geoms: np.ndarray, search_m: float) -> np.ndarray:
    """Nearest edge of each geometry (ties: the smallest edge index). A bulk ``dwithin``
    query over ``search_m`` settles most places; the rest fall back to STRtree nearest."""
    best = np.full(len(geoms), -1, dtype=np.int64)
    g_idx, e_idx = net.edge_tree.query(geoms, predicate="dwithin", distance=search_m)
    if len(g_idx):
        d = shapely.distance(geoms[g_idx], net.edge_geoms[e_idx])
        order = np.lexsort((e_idx, d, g_idx))
        g_sorted = g_idx[order]
        first = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
        best[g_sorted[first]] = e_idx[order][first]
    rest = np.flatnonzero(best < 0)
    if len(rest):
        (r_idx, e_near), d_near = net.edge_tree.query_nearest(
            geoms[rest], all_matches=True, return_distance=True
        )
        order = np.lexsort((e_near, d_near, r_idx))
        r_sorted = r_idx[order]
        first = np.r_[True, r_sorted[1:] != r_sorted[:-1]]
        best[rest[r_sorted[first]]] = e_near[order][first]
    return best


def snap_metric(net: StreetNetwork, geoms: np.ndarray, *, search_m: float = 60.0) -> Snapped:
    """:func:`snap` for shapely geometries already in ``net.crs`` (metres)."""
    k = len(geoms)
    edge = np.full(k, -1, dtype=np.int64)
    pos = np.full(k, np.nan)
    dist = np.full(k, np.inf)
    xy = np.full((k, 2), np.nan)
    ok = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    if net.n_edges == 0 or len(ok) == 0:
        return Snapped(edge, pos, dist, xy)
    e_idx = _nearest_edges(net, geoms[ok], search_m)
    edges = net.edge_geoms[e_idx]
    is_point = shapely.get_type_id(geoms[ok]) == 0
    at = np.empty(len(ok))
    at[is_point] = shapely.line_locate_point(edges[is_point], geoms[ok][is_point])
    if not is_point.all():  # a line or polygon attaches from its point nearest the street
        other = ~is_point
        near = shapely.get_point(shapely.shortest_line(edges[other], geoms[ok][other]), 0)
        at[other] = shapely.line_locate_point(edges[other], near)
    at = np.clip(at, 0.0, net.edge_length_m[e_idx])
    on_street = shapely.line_interpolate_point(edges, at)
    edge[ok], pos[ok] = e_idx, at
    dist[ok] = shapely.distance(on_street, geoms[ok])
    xy[ok] = shapely.get_coordinates(on_street)
    return Snapped(edge, pos, dist, xy)


def snap(net: StreetNetwork, points: gpd.GeoSeries | gpd.GeoDataFrame) -> Snapped:
    """Attach places to their nearest street point.

    Parameters
    ----------
    net : StreetNetwork
    points : GeoSeries or GeoDataFrame
        Points (EPSG:4326; any declared CRS is transformed). A line or polygon attaches from
        its point nearest to the street.

    Returns
    -------
    Snapped
        Nearest edge, position along it (m from its ``edge_u`` end), straight distance to the
        street (m), and the attachment point (metric). Entries keep the input order.
    """
    return snap_metric(net, to_network_crs(net, points))


# ---------------------------------------------------------------- searches
