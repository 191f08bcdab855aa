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

from layers.network import StreetNetwork, nearest_by_network_snapped, snap_metric, to_network_crs
from layers.projection import WGS84, metric_crs_for

__all__ = ["METRICS", "building_coverage", "gap_table", "nearest_straight", "nearest_straight_metric"]

METRICS = ("straight", "network")


def _metric_geoms(frame: gpd.GeoDataFrame | gpd.GeoSeries, crs: pyproj.CRS) -> np.ndarray:
    series = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if series.crs is None:
        series = series.set_crs(WGS84)
    return np.asarray(series.to_crs(crs).values, dtype=object)


def nearest_straight_metric(geoms_m: np.ndarray, facility_xy_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest facility point to each geometry, all in one metric CRS.

    A KD-tree over the facility points is queried with the centre ``c`` of each geometry's
    bounding box; every point of the geometry lies within ``R`` (half the box diagonal) of
    ``c``, so a facility ``f`` can only beat the exact distance ``d*`` to the KD-nearest one
    when ``|f - c| - R <= d*``. Geometries whose second KD-neighbour passes that test get all
    such candidates measured exactly (shapely/GEOS distance, as ``sjoin_nearest``).

    Parameters
    ----------
    geoms_m : ndarray of shapely geometries
        Buildings (any geometry type) in a metric CRS, metres.
    facility_xy_m : ndarray, shape (m, 2)
        Facility points in the same CRS.

    Returns
    -------
    index : ndarray of int
        Row of ``facility_xy_m`` nearest to each geometry (ties: the smallest row); -1 for a
        missing/empty geometry or no facilities.
    distance_m : ndarray of float
        Geometry-to-point distance in metres (0 when the point is on/inside); inf where -1.
    """
    n, m = len(geoms_m), len(facility_xy_m)
    index = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    if n == 0 or m == 0:
        return index, dist
    box = shapely.bounds(geoms_m)
    ok = np.flatnonzero(np.isfinite(box).all(axis=1))
    centre = (box[ok, :2] + box[ok, 2:]) / 2
    radius = np.hypot(box[ok, 2] - box[ok, 0], box[ok, 3] - box[ok, 1]) / 2
    tree = cKDTree(facility_xy_m)
    points = shapely.points(facility_xy_m)
    k = min(2, m)
    kd_dist, kd_idx = tree.query(centre, k=k)
    kd_dist, kd_idx = kd_dist.reshape(len(ok), k), kd_idx.reshape(len(ok), k)
    exact = shapely.distance(geoms_m[ok], points[kd_idx[:, 0]])
    index[ok], dist[ok] = kd_idx[:, 0], exact
    if k == 1:
        return index, dist
    slack = 1e-9 * (1.0 + exact + radius)
    unsure = np.flatnonzero(kd_dist[:, 1] - radius <= exact + slack)
    if len(unsure):
        _resolve(
            geoms_m,
            points,
            tree,
            ok[unsure],
            centre[unsure],
            exact[unsure] + radius[unsure] + slack[unsure],
            index,
            dist,
        )
    return index, dist


def _resolve(
    geoms_m: np.ndarray,
    points: np.ndarray,
    tree: cKDTree,
    rows: np.ndarray,
    centre: np.ndarray,
    reach: np.ndarray,
    index: np.ndarray,
    dist: np.ndarray,
) -> None:
    """Measure every facility within ``reach`` of ``centre`` exactly; keep the nearest."""
    cands = tree.query_ball_point(centre, r=reach)
    sizes = np.fromiter((len(c) for c in cands), dtype=np.int64, count=len(cands))
    row = np.repeat(rows, sizes)
    fac = np.fromiter((f for c in cands for f in c), dtype=np.int64, count=int(sizes.sum()))
    d = shapely.distance(geoms_m[row], points[fac])
    order = np.lexsort((fac, d, row))
    row, fac, d = row[order], fac[order], d[order]
    first = np.r_[True, row[1:] != row[:-1]]
    index[row[first]], dist[row[first]] = fac[first], d[first]


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
    geoms = _metric_geoms(buildings, crs)
    fac = _metric_geoms(facilities, crs)
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
    idx, dist = nearest_straight(buildings, facilities, crs=crs)
    _put(out, "straight", ids, idx, dist, radius_m)
    if net is not None:
        b_snap = snap_metric(net, to_network_crs(net, buildings))
        f_snap = snap_metric(net, to_network_crs(net, facilities))
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
