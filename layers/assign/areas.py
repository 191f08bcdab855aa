"""Batch placement of points: which area holds each point, which facility is nearest.

The rule for a point on a shared edge is the one the database selectors use too: among the
areas whose closed polygon intersects the point (boundary included), the one with the smallest
code wins. So the answer is deterministic and identical in batch and per row.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.assign.raster import assign_areas_fast
from layers.projection import metric_crs_for

# From this many points on, the raster path (layers.assign.raster: same rule, same answer, tested
# equal) is faster than one STRtree query per point; its raster is cached per set of areas.
FAST_MIN_POINTS = 10_000


def assign_areas(points: gpd.GeoSeries, areas: gpd.GeoDataFrame, *, code_col: str = "code") -> pd.Series:
    """Code of the area holding each point, or None outside all of them.

    Parameters
    ----------
    points : GeoSeries of Points, EPSG:4326.
    areas : GeoDataFrame with polygons (EPSG:4326) and a ``code_col`` column.

    Returns
    -------
    Series aligned with ``points``: the smallest code among the areas that intersect the
    point (a point on a shared edge intersects both), None where no area does.
    """
    if len(points) >= FAST_MIN_POINTS and len(areas) > 0:
        return assign_areas_fast(points, areas, code_col=code_col)
    return assign_areas_strtree(points, areas, code_col=code_col)


def assign_areas_strtree(
    points: gpd.GeoSeries, areas: gpd.GeoDataFrame, *, code_col: str = "code"
) -> pd.Series:
    """``assign_areas`` by one STRtree ``intersects`` query per point (the reference path)."""
    result = pd.Series([None] * len(points), index=points.index, dtype=object)
    if len(points) == 0 or len(areas) == 0:
        return result
    tree = shapely.STRtree(areas.geometry.values)
    point_idx, area_idx = tree.query(points.values, predicate="intersects")
    if len(point_idx) == 0:
        return result
    codes = areas[code_col].astype(str).to_numpy()[area_idx]
    hits = pd.DataFrame({"p": point_idx, "code": codes}).groupby("p")["code"].min()
    result.iloc[hits.index.to_numpy()] = hits.to_numpy()
    return result


def nearest_within(
    points: gpd.GeoSeries,
    targets: gpd.GeoDataFrame,
    *,
    max_distance_m: float | np.ndarray,
    id_col: str = "id",
) -> pd.DataFrame:
    """The nearest target (any geometry) of each point within a distance, in metres.

    Parameters
    ----------
    points : GeoSeries of Points, EPSG:4326.
    targets : GeoDataFrame (EPSG:4326) with an ``id_col`` column.
    max_distance_m : one distance for all points, or one per point (metres).

    Returns
    -------
    DataFrame indexed like ``points`` with ``id`` (None when nothing lies within the
    distance) and ``distance_m``. Ties go to the smallest id.
    """
    out = pd.DataFrame({"id": [None] * len(points), "distance_m": np.nan}, index=points.index)
    if len(points) == 0 or len(targets) == 0:
        return out
    wgs84_points = gpd.GeoSeries(points.values, crs="EPSG:4326")
    crs = metric_crs_for(wgs84_points)
    pts = wgs84_points.to_crs(crs).values
    tgt = targets.geometry.set_crs("EPSG:4326", allow_override=True).to_crs(crs).values
    limit = np.broadcast_to(np.asarray(max_distance_m, dtype=float), (len(points),))
    tree = shapely.STRtree(tgt)
    p_idx, t_idx = tree.query(pts, predicate="dwithin", distance=float(limit.max()))
    if len(p_idx) == 0:
        return out
    dist = shapely.distance(pts[p_idx], tgt[t_idx])
    ids = targets[id_col].to_numpy()[t_idx]
    pairs = pd.DataFrame({"p": p_idx, "id": ids, "d": dist})
    pairs = pairs[pairs["d"] <= limit[pairs["p"].to_numpy()]]
    best = pairs.sort_values(["p", "d", "id"]).drop_duplicates("p")
    out.iloc[best["p"].to_numpy(), 0] = best["id"].to_numpy()
    out.iloc[best["p"].to_numpy(), 1] = best["d"].to_numpy()
    return out
