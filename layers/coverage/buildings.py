"""Coverage of buildings by a facility kind within a service radius, by two metrics.

- **straight**: the straight distance from the building *footprint* to the facility point
  (0 when the facility lies on or inside the footprint), in metres in the area's metric CRS.
  It is what ``geopandas.sjoin_nearest`` measures, and the demo town's planted gaps use it.
- **network**: the walk from the footprint's point nearest the street (straight to the street),
  along the streets (:mod:`layers.network`), then straight from the facility's street point
  to the facility. Never shorter than the straight distance.

The standards (radius, spacing, thresholds) are parameters: the Django side passes the town's
numbers (FacilityKind.service_radius_m ...). Per-grid gap tables weight coverage by
households. Rules other than a radius (spacing along streets, curb ramps, tactile paving,
accessible parking) live in ``layers.coverage.spacing`` and ``layers.coverage.access``; uncovered areas as
polygons in ``layers.coverage.area``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from layers.network import StreetNetwork, nearest_by_network_snapped, snap_metric
from layers.projection import WGS84, metric_crs_for

__all__ = ["METRICS", "building_coverage", "gap_table", "nearest_straight", "nearest_straight_metric"]

METRICS = ("straight", "network")


def _metric_geoms(frame: gpd.GeoDataFrame | gpd.GeoSeries, crs: pyproj.CRS) -> np.ndarray:
    series = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if series.crs is None:
        series = series.set_crs(WGS84)
    return np.asarray(series.to_crs(crs).values, dtype=object)


def nearest_straight_metric(
    geoms_m: np.ndarray, facility_xy_m: np.ndarray, *, cells: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest facility point to each geometry, all in one metric CRS.

    Each geometry stands as the centre ``c`` of its bounding box and ``R``, half the box
    diagonal: every point of the geometry lies within ``R`` of ``c``, so a facility ``f`` can
    only come as near as the exact distance ``d*`` to another facility when ``|f - c| - R <= d*``.
    The facility nearest to ``c`` is measured exactly first (shapely/GEOS distance, as
    ``sjoin_nearest``); when no other facility passes that test it is the answer, else every
    facility that passes is measured exactly and the nearest kept (smallest row on ties).

    The facilities near each ``c`` come from a grid of square cells (:func:`_cell_candidates`):
    per cell, a short list holding every facility that can pass the test for a geometry centred
    in it, so the work per geometry is a few numpy operations on its cell's list. Where the
    lists would be long (facilities much denser than the cells), a KD-tree query per geometry
    finds the nearest two instead and a ball query the rest for the uncertain ones.

    Parameters
    ----------
    geoms_m : ndarray of shapely geometries
        Buildings (any geometry type) in a metric CRS, metres.
    facility_xy_m : ndarray, shape (m, 2)
        Facility points in the same CRS.
    cells : bool
        False skips the cells: a KD-tree query per geometry (the same answer; for comparison).

    Returns
    -------
    index : ndarray of int
        Row of ``facility_xy_m`` nearest to each geometry (ties: the smallest row); -1 for a
        missing/empty geometry or no facilities.
    distance_m : ndarray of float
        Geometry-to-point distance in metres (0 when the point is on/inside); inf where -1.
    """
    geoms_m = np.asarray(geoms_m, dtype=object)
    facility_xy_m = np.asarray(facility_xy_m, dtype=float).reshape(-1, 2)
    n, m = len(geoms_m), len(facility_xy_m)
    index = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    if n == 0 or m == 0:
        return index, dist
    box = shapely.bounds(geoms_m)
    finite = np.isfinite(box).all(axis=1)
    ok = None if finite.all() else np.flatnonzero(finite)
    if ok is not None:
        if len(ok) == 0:
            return index, dist
        box = box[ok]
    geoms = geoms_m if ok is None else geoms_m[ok]
    x0, y0, x1, y1 = box.T
    cx, cy = (x0 + x1) * 0.5, (y0 + y1) * 0.5
    radius = np.hypot(x1 - x0, y1 - y0) * 0.5
    fx, fy = facility_xy_m[:, 0].copy(), facility_xy_m[:, 1].copy()
    tree = cKDTree(facility_xy_m)
    pairs = _cell_candidates(cx, cy, radius, fx, fy, tree) if cells else None
    row, fac, d2, first = pairs if pairs is not None else _kd_candidates(cx, cy, tree, min(2, m))
    points = shapely.points(facility_xy_m)
    best = fac[first]
    exact = shapely.distance(geoms, points[best])
    reach = exact + radius + 1e-9 * (1.0 + exact + radius)  # |f - c| - R <= d*, with slack
    rival = d2 <= (reach * reach)[row]
    rival[first] = False
    if rival.any():
        if pairs is not None:  # the lists hold every facility within reach
            unsure, cand = row[rival], fac[rival]
        else:
            unsure = np.unique(row[rival])
            unsure, cand = _within(tree, np.column_stack([cx, cy])[unsure], reach[unsure], unsure)
        d = shapely.distance(geoms[unsure], points[cand])
        once = np.unique(unsure)  # the nearest of the rivals and the one measured first
        unsure, cand, d = np.r_[unsure, once], np.r_[cand, best[once]], np.r_[d, exact[once]]
        order = np.lexsort((cand, d, unsure))
        unsure, cand, d = unsure[order], cand[order], d[order]
        head = np.r_[True, unsure[1:] != unsure[:-1]]
        best[unsure[head]], exact[unsure[head]] = cand[head], d[head]
    out = slice(None) if ok is None else ok
    index[out], dist[out] = best, exact
    return index, dist


CELL_PAIRS_PER_GEOMETRY = 16
"""Above this many (geometry, facility) candidate pairs per geometry on average, the cells
give way to a KD-tree query per geometry (facilities far denser than the geometries' cells)."""

CELL_LIST_MAX = 512
"""Likewise when a cell's list would hold more facilities than this."""


def _cell_candidates(
    cx: np.ndarray, cy: np.ndarray, radius: np.ndarray, fx: np.ndarray, fy: np.ndarray, tree: cKDTree
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Candidate facilities of each centre from a grid of square cells; None when too many.

    A cell of side ``s`` with middle ``q`` holds centres within ``h = s/√2`` of ``q``. Let ``D``
    be the distance from ``q`` to its nearest facility and ``Rmax`` the largest ``R`` in the cell.
    For a centre ``c`` in it, the facility nearest to ``c`` is within ``D + h`` of ``c``, the
    exact distance to it within ``D + h + R`` (``c`` may lie outside the geometry), so every
    facility that passes ``|f - c| - R <= d*`` lies within ``D + 2h + 2·Rmax`` of ``q``: the
    cell's list is the facilities within that reach (plus a relative slack for rounding).

    Returns ``(row, fac, d2, first)``: pairs grouped by row (every row has at least one), the
    squared distance from the centre to the facility, and for each row the position of the
    pair whose facility is nearest to the centre.
    """
    n, m = len(cx), len(fx)
    lo = (cx.min(), cy.min())
    width, height = cx.max() - lo[0], cy.max() - lo[1]
    if not (np.isfinite(width) and np.isfinite(height)):
        return None
    area = max(width, 1.0) * max(height, 1.0)
    # about a third of the facilities' spacing (a few candidates a cell), at most ~n/8 cells
    side = max(0.35 * np.sqrt(area / m), np.sqrt(area * 8.0 / n), (width + height) / (4.0 * n), 1e-3)
    nx, ny = int(width // side) + 1, int(height // side) + 1
    ix = np.minimum(((cx - lo[0]) // side).astype(np.int64), nx - 1)
    iy = np.minimum(((cy - lo[1]) // side).astype(np.int64), ny - 1)
    cell = iy * nx + ix
    used = np.flatnonzero(np.bincount(cell, minlength=nx * ny))
    rmax = np.zeros(nx * ny)
    np.maximum.at(rmax, cell, radius)
    q = np.column_stack([lo[0] + (used % nx + 0.5) * side, lo[1] + (used // nx + 0.5) * side])
    near, _ = tree.query(q, k=1)
    reach = near + np.sqrt(2.0) * side + 2.0 * rmax[used]
    reach = reach * (1.0 + 1e-9) + 1e-9 * (1.0 + np.abs(q).sum(axis=1))
    # the facilities within reach of each cell, as arrays (no per-cell Python lists): the
    # nearest 8, and for the cells where the 8th is still within reach, 4 times more, ...
    at_cell, found = [], []
    rows, want = np.arange(len(q)), min(8, m)
    while len(rows):
        if want > CELL_LIST_MAX:
            return None  # facilities far denser than the cells
        near, idx = (a.reshape(len(rows), want) for a in tree.query(q[rows], k=want))
        full = near[:, -1] <= reach[rows] if want < m else np.zeros(len(rows), dtype=bool)
        r, j = np.nonzero((near <= reach[rows, None]) & ~full[:, None])
        at_cell.append(rows[r])
        found.append(idx[r, j])
        rows, want = rows[full], min(4 * want, m)
    at_cell = np.concatenate(at_cell)
    order = np.argsort(at_cell, kind="stable")
    flat = np.concatenate(found)[order]
    counts = np.zeros(nx * ny, dtype=np.int64)
    counts[used] = np.bincount(at_cell, minlength=len(q))
    k = counts[cell]
    total = int(k.sum())
    if total > CELL_PAIRS_PER_GEOMETRY * n + 1024:
        return None
    starts = np.zeros(nx * ny, dtype=np.int64)
    starts[used] = np.cumsum(counts[used]) - counts[used]
    row_start = np.cumsum(k) - k
    row = np.repeat(np.arange(n), k)
    fac = flat[np.arange(total) - np.repeat(row_start - starts[cell], k)]
    dx, dy = fx[fac] - np.repeat(cx, k), fy[fac] - np.repeat(cy, k)
    d2 = dx * dx + dy * dy
    at_min = np.flatnonzero(d2 == np.minimum.reduceat(d2, row_start)[row])
    first = at_min[np.r_[True, row[at_min[1:]] != row[at_min[:-1]]]]
    return row, fac, d2, first


def _kd_candidates(
    cx: np.ndarray, cy: np.ndarray, tree: cKDTree, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` facilities nearest to each centre, as pairs like :func:`_cell_candidates`."""
    d, idx = tree.query(np.column_stack([cx, cy]), k=k)
    n = len(cx)
    return np.repeat(np.arange(n), k), idx.reshape(n * k), d.reshape(n * k) ** 2, np.arange(n) * k


def _within(
    tree: cKDTree, centre: np.ndarray, reach: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every facility within ``reach`` of ``centre``, as (row, facility) pairs."""
    cands = tree.query_ball_point(centre, r=reach)
    sizes = np.fromiter((len(c) for c in cands), dtype=np.int64, count=len(cands))
    fac = np.fromiter((f for c in cands for f in c), dtype=np.int64, count=int(sizes.sum()))
    return np.repeat(rows, sizes), fac


def nearest_straight(
    buildings: gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    crs: pyproj.CRS | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest facility to each building as the crow flies.

    Parameters
    ----------
    buildings : GeoDataFrame or GeoSeries
        Footprints (or points), EPSG:4326.
    facilities : GeoDataFrame or GeoSeries
        EPSG:4326. Points take the fast path; other geometries are measured with an STRtree.
    crs : pyproj.CRS, optional
        Metric CRS; by default ``metric_crs_for(buildings)``.

    Returns
    -------
    (index, distance_m)
        Position (``iloc``) in ``facilities`` of the nearest one (-1 if none) and the
        footprint-to-facility distance in metres (inf if none). Ties: the smallest position.
    """
    crs = crs if crs is not None else metric_crs_for(buildings)
    return _nearest_straight_m(_metric_geoms(buildings, crs), _metric_geoms(facilities, crs))


def _nearest_straight_m(geoms: np.ndarray, fac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nearest_straight` on geometries already in one metric CRS."""
    fac_ok = np.flatnonzero(~shapely.is_missing(fac) & ~shapely.is_empty(fac))
    if len(fac_ok) == 0:
        return np.full(len(geoms), -1, dtype=np.int64), np.full(len(geoms), np.inf)
    if np.all(shapely.get_type_id(fac[fac_ok]) == 0):
        idx, d = nearest_straight_metric(geoms, shapely.get_coordinates(fac[fac_ok]))
    else:
        idx, d = _nearest_any(geoms, fac[fac_ok])
    return np.where(idx >= 0, fac_ok[np.maximum(idx, 0)], -1), d


def _nearest_any(geoms: np.ndarray, fac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    index = np.full(len(geoms), -1, dtype=np.int64)
    dist = np.full(len(geoms), np.inf)
    ok = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    if len(fac) == 0 or len(ok) == 0:
        return index, dist
    (g, f), d = shapely.STRtree(fac).query_nearest(geoms[ok], all_matches=True, return_distance=True)
    order = np.lexsort((f, d, g))
    g, f, d = g[order], f[order], d[order]
    first = np.r_[True, g[1:] != g[:-1]]
    index[ok[g[first]]], dist[ok[g[first]]] = f[first], d[first]
    return index, dist


def _ids(frame: gpd.GeoDataFrame | gpd.GeoSeries, id_col: str | None) -> np.ndarray:
    if id_col is not None and isinstance(frame, gpd.GeoDataFrame) and id_col in frame.columns:
        return frame[id_col].to_numpy(dtype=object)
    return frame.index.to_numpy(dtype=object)


def building_coverage(
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    radius_m: float,
    net: StreetNetwork | None = None,
    facility_id_col: str | None = "id",
) -> gpd.GeoDataFrame:
    """Nearest facility, distance and coverage of every building, by one or both metrics.

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints, EPSG:4326; every column is kept.
    facilities : GeoDataFrame or GeoSeries
        Facilities of one kind, EPSG:4326.
    radius_m : float
        Service radius in metres; a building is covered when its distance is ``<= radius_m``.
    net : StreetNetwork, optional
        With a network, the walking metric is computed too (in ``net.crs``).
    facility_id_col : str, optional
        Column naming the facility in the result; the index when absent.

    Returns
    -------
    GeoDataFrame
        ``buildings`` (EPSG:4326) plus ``straight_facility``, ``straight_m``,
        ``straight_covered`` and, with ``net``, ``network_facility``, ``network_m``,
        ``network_covered``. Facility None and distance inf/NaN-free (inf) when there is none.
    """
    if radius_m < 0 or not np.isfinite(radius_m):
        raise ValueError("radius_m must be a finite number >= 0")
    out = buildings.copy()
    ids = _ids(facilities, facility_id_col)
    if buildings.geometry.is_empty.all() or buildings.geometry.isna().all():  # also no rows
        none = np.full(len(out), -1, dtype=np.int64)
        for metric in METRICS[: 1 + (net is not None)]:
            _put(out, metric, ids, none, np.full(len(out), np.inf), radius_m)
        return out
    crs = net.crs if net is not None else metric_crs_for(buildings)
    # projected once, for both metrics (the network's CRS when there is one)
    b_m, f_m = _metric_geoms(buildings, crs), _metric_geoms(facilities, crs)
    idx, dist = _nearest_straight_m(b_m, f_m)
    _put(out, "straight", ids, idx, dist, radius_m)
    if net is not None:
        b_snap = snap_metric(net, b_m)
        f_snap = snap_metric(net, f_m)
        n_idx, n_dist = nearest_by_network_snapped(net, b_snap, f_snap)
        _put(out, "network", ids, n_idx, n_dist, radius_m)
    return out


def _put(
    out: gpd.GeoDataFrame, metric: str, ids: np.ndarray, idx: np.ndarray, dist: np.ndarray, radius_m: float
) -> None:
    found = idx >= 0
    facility = np.full(len(idx), None, dtype=object)
    facility[found] = ids[idx[found]]
    out[f"{metric}_facility"] = facility
    out[f"{metric}_m"] = dist
    out[f"{metric}_covered"] = dist <= radius_m


def gap_table(
    coverage: pd.DataFrame, *, grid_col: str = "grid", households_col: str = "households"
) -> pd.DataFrame:
    """Per-grid coverage a planner can sort.

    Parameters
    ----------
    coverage : DataFrame
        The result of :func:`building_coverage` with a grid column (None = in no grid) and a
        households column.

    Returns
    -------
    DataFrame, one row per grid (``""`` for buildings in no grid), sorted by uncovered
    households (most first), with ``buildings``, ``households`` and per metric present:
    ``uncovered_<metric>`` (buildings), ``uncovered_households_<metric>``,
    ``household_share_<metric>`` (covered households / households; NaN with no households),
    ``building_share_<metric>`` and ``max_<metric>_m`` (the farthest building).
    """
    frame = pd.DataFrame(
        {
            "grid": coverage[grid_col].fillna("").astype(str).to_numpy(),
            "households": pd.to_numeric(coverage[households_col], errors="coerce").fillna(0).to_numpy(),
        }
    )
    metrics = [m for m in METRICS if f"{m}_covered" in coverage.columns]
    for m in metrics:
        frame[f"unc_{m}"] = ~coverage[f"{m}_covered"].to_numpy(dtype=bool)
        frame[f"dist_{m}"] = coverage[f"{m}_m"].to_numpy(dtype=float)
    groups = frame.groupby("grid", sort=True)
    table = pd.DataFrame({"buildings": groups.size(), "households": groups["households"].sum()})
    for m in metrics:
        unc_hh = frame["households"].where(frame[f"unc_{m}"], 0)
        table[f"uncovered_{m}"] = groups[f"unc_{m}"].sum().astype(int)
        table[f"uncovered_households_{m}"] = unc_hh.groupby(frame["grid"]).sum()
        hh = table["households"].where(table["households"] > 0)
        table[f"household_share_{m}"] = (table["households"] - table[f"uncovered_households_{m}"]) / hh
        table[f"building_share_{m}"] = 1 - table[f"uncovered_{m}"] / table["buildings"]
        table[f"max_{m}_m"] = groups[f"dist_{m}"].max()
    table = table.reset_index()
    if metrics:
        first = metrics[0]
        table = table.sort_values(
            [f"uncovered_households_{first}", f"uncovered_{first}", "grid"], ascending=[False, False, True]
        )
    return table.reset_index(drop=True)
