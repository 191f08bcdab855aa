"""Uncovered area as polygons, per area (grid), for a service radius.

- **straight**: the area minus the union of discs of ``radius_m`` around the facilities
  (buffers of the facility geometry, 32 segments per quarter circle: a disc falls short of
  the true circle by at most 0.12 % of the radius).
- **network**: the same rule as for buildings: a place is covered when the walk straight to
  its nearest street point, then along the streets to a facility's street point, then to the
  facility, is at most ``radius_m``. Computed by cutting the streets near the areas into
  pieces of at most ``piece_m``; a place belongs to the piece whose midpoint is nearest
  (Voronoi cells of the midpoints: exact across the street, within ``piece_m / 2`` along it)
  and is covered within the *smallest* walk budget left anywhere on that piece. So the covered
  part is never overstated (up to the cell approximation), a river or a wall between a place
  and a reached street is respected (the place belongs to its own bank's street), and the
  result converges to the exact region as ``piece_m`` shrinks. Network-uncovered always
  contains straight-uncovered.

Metres in the network's (or the areas') metric CRS; geometry in and out EPSG:4326.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring

from layers.network import Snapped, StreetNetwork, snap_metric, to_network_crs
from layers.network.paths import _with_sources
from layers.projection import WGS84, metric_crs_for

__all__ = ["street_pieces", "uncovered_area"]

QUAD_SEGS = 32
GRID_M = 1e-3  # precision grid of the network overlay, metres


def _node_distance(net: StreetNetwork, fac: Snapped, limit_m: float) -> np.ndarray:
    rows = np.flatnonzero(fac.edge >= 0)
    if len(rows) == 0:
        return np.full(net.n_nodes, np.inf)
    graph = _with_sources(net, fac, rows)
    dist = dijkstra(
        graph, directed=True, indices=net.n_nodes + np.arange(len(rows)), min_only=True, limit=limit_m
    )
    return np.asarray(dist[: net.n_nodes])


def street_pieces(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    radius_m: float,
    piece_m: float = 10.0,
    edges: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Street edges cut into pieces of at most ``piece_m``, with the walk budget left on each.

    Parameters
    ----------
    edges : ndarray of int, optional
        Edges to cut (default: all).

    Returns
    -------
    (edge, lo_m, hi_m, budget_m)
        Per piece: its edge, its interval along the edge (metres from ``edge_u``) and
        ``radius_m`` minus an upper bound of the walk from the nearest facility to any point of
        the piece (negative: not entirely reached).
    """
    fac = snap_metric(net, to_network_crs(net, facilities))
    node_d = _node_distance(net, fac, radius_m)
    touched = np.arange(net.n_edges) if edges is None else np.asarray(edges, dtype=np.int64)
    length = net.edge_length_m[touched]
    count = np.maximum(1, np.ceil(length / piece_m).astype(np.int64))
    edge = np.repeat(touched, count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    step = np.repeat(length / count, count)
    lo, hi = k * step, (k + 1) * step
    full = net.edge_length_m[edge]
    # the walk to a point of [lo, hi] is at most the walk through either end of the edge (or
    # from a facility on the same edge) to the far end of the piece
    worst = np.minimum(node_d[net.edge_u[edge]] + hi, node_d[net.edge_v[edge]] + (full - lo))
    for f in np.flatnonzero(fac.edge >= 0):
        on = edge == fac.edge[f]
        reach = np.maximum(np.abs(lo[on] - fac.position_m[f]), np.abs(hi[on] - fac.position_m[f]))
        worst[on] = np.minimum(worst[on], fac.distance_m[f] + reach)
    return edge, lo, hi, radius_m - worst


def _covered_network(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    envelope: shapely.Geometry,
    radius_m: float,
    piece_m: float,
) -> shapely.Geometry:
    near = net.edge_tree.query(envelope.buffer(radius_m), predicate="intersects")
    if len(near) == 0:
        return shapely.Polygon()
    edge, lo, hi, budget = street_pieces(net, facilities, radius_m=radius_m, piece_m=piece_m, edges=near)
    mids = shapely.line_interpolate_point(net.edge_geoms[edge], (lo + hi) / 2)
    mid_xy = np.round(shapely.get_coordinates(mids), 6)
    _, first = np.unique(mid_xy, axis=0, return_index=True)  # Voronoi merges duplicate sites
    first = np.sort(first)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(mids[first]), extend_to=envelope.buffer(radius_m), ordered=True
        )
    )
    reached = np.flatnonzero(budget[first] >= 0)
    if len(reached) == 0:
        return shapely.Polygon()
    sel = first[reached]
    pieces = [substring(net.edge_geoms[e], a, b) for e, a, b in zip(edge[sel], lo[sel], hi[sel], strict=True)]
    discs = shapely.buffer(np.asarray(pieces, dtype=object), budget[sel], quad_segs=8)
    # snap-rounding to 1 mm keeps the union of thousands of cell pieces valid
    covered = shapely.union_all(
        shapely.intersection(cells[reached], discs, grid_size=GRID_M), grid_size=GRID_M
    )
    return polygonal(covered)


def polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of ``geom``: snap-rounding can leave a cell and a disc touching along a line
    (no area), and GEOS refuses an overlay with a mixed collection ("mixed-dimension")."""
    parts = shapely.get_parts(geom)
    keep = parts[
        np.isin(shapely.get_type_id(parts), [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
    ]
    return geom if len(keep) == len(parts) else shapely.union_all(keep, grid_size=GRID_M)


def uncovered_area(
    areas: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    radius_m: float,
    metric: str = "straight",
    net: StreetNetwork | None = None,
    code_col: str = "code",
    piece_m: float = 10.0,
) -> gpd.GeoDataFrame:
    """The part of each area farther than ``radius_m`` from every facility.

    Parameters
    ----------
    areas : GeoDataFrame
        Polygons (grids, a town outline), EPSG:4326, with ``code_col``.
    facilities : GeoDataFrame or GeoSeries
        EPSG:4326.
    radius_m : float
        Service radius, metres.
    metric : "straight" or "network"
        See the module docstring; "network" needs ``net``.
    piece_m : float
        Street piece length for the network metric (metres); smaller is finer and slower.

    Returns
    -------
    GeoDataFrame (EPSG:4326), one row per area: ``code``, ``area_m2``, ``uncovered_m2``,
    ``uncovered_share``, geometry (the uncovered part; empty when fully covered).
    """
    if metric not in ("straight", "network"):
        raise ValueError("metric must be 'straight' or 'network'")
    if metric == "network" and net is None:
        raise ValueError("the network metric needs a StreetNetwork")
    crs = net.crs if net is not None else metric_crs_for(areas)
    shapes = np.asarray(areas.geometry.to_crs(crs).values, dtype=object)
    fac_series = facilities.geometry if isinstance(facilities, gpd.GeoDataFrame) else facilities
    if len(shapes) == 0:
        covered = shapely.Polygon()
    elif metric == "straight":
        fac = np.asarray(fac_series.to_crs(crs).values, dtype=object)
        fac = fac[~shapely.is_missing(fac) & ~shapely.is_empty(fac)]
        covered = shapely.union_all(shapely.buffer(fac, radius_m, quad_segs=QUAD_SEGS))
    else:
        assert net is not None
        envelope = shapely.box(*shapely.total_bounds(shapes))
        covered = _covered_network(net, fac_series, envelope, radius_m, piece_m)
    shapely.prepare(covered)
    left = shapely.difference(shapes, covered, grid_size=GRID_M if metric == "network" else None)
    area = shapely.area(shapes)
    uncovered = shapely.area(left)
    share = np.full(len(area), np.nan)
    np.divide(uncovered, area, out=share, where=area > 0)
    out = gpd.GeoDataFrame(
        {
            "code": areas[code_col].to_numpy() if code_col in areas else areas.index.to_numpy(),
            "area_m2": area,
            "uncovered_m2": uncovered,
            "uncovered_share": share,
        },
        geometry=gpd.GeoSeries(left, crs=crs),
    )
    return out.to_crs(WGS84)
