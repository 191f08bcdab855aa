"""Density clusters of problems (DBSCAN, HDBSCAN) in metres, summarised per cluster.

Points come in EPSG:4326 and are clustered on their coordinates in the metric CRS of
``layers.projection.metric_crs_for`` (x = easting, y = northing, metres). DBSCAN is
``layers.hotspots.dbscan.dbscan_labels`` (scikit-learn's labels, faster); HDBSCAN is
scikit-learn's ``sklearn.cluster.HDBSCAN``.

Every cluster's outline is one valid Polygon, so a hotspots layer has one geometry type (a
GeoPackage or Shapefile layer, a QGIS layer): the hull of points that coincide is a Point and of
collinear points a LineString, and a hull thinner than ``SLIVER_M`` is a hairline on a map that
may not survive the way back to degrees as a valid polygon; such outlines are widened by ``PAD_M``
metres all round (a disc around one spot, a strip along a line), in the metric CRS.
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from layers.hotspots.dbscan import dbscan_labels
from layers.projection import WGS84, metric_crs_for

Method = Literal["dbscan", "hdbscan"]
Outline = Literal["convex", "concave"]
METHODS = ("dbscan", "hdbscan")
OUTLINES = ("convex", "concave")
PAD_M = 5.0  # metres added all round a degenerate outline
SLIVER_M = 0.5  # an outline thinner than this (twice its area over its perimeter) is degenerate
CLUSTER_COLUMNS = [
    "cluster_id",
    "size",
    "centroid_lon",
    "centroid_lat",
    "area_m2",
    "top_category",
    "category_counts",
    "category_shares",
    "first_reported_at",
    "last_reported_at",
    "geometry",
]


def cluster_labels(
    xy_m: np.ndarray,
    *,
    method: Method = "dbscan",
    eps_m: float = 50.0,
    min_samples: int = 5,
    min_cluster_size: int = 10,
) -> np.ndarray:
    """Cluster number of each point, -1 for noise.

    Parameters
    ----------
    xy_m : array (n, 2)
        Coordinates in metres (metric CRS).
    method : "dbscan" or "hdbscan"
        DBSCAN with ``eps_m`` (metres) and ``min_samples`` (points within ``eps_m``, the point
        itself included, that make it core); or HDBSCAN with ``min_cluster_size`` (its
        ``min_samples`` defaults to ``min_cluster_size``, as scikit-learn's).

    Returns
    -------
    ndarray of int64 (n,)
    """
    xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
    if method == "dbscan":
        return dbscan_labels(xy, eps_m=eps_m, min_samples=min_samples)
    if method != "hdbscan":
        raise ValueError(f"method must be one of {METHODS}")
    if int(min_cluster_size) != min_cluster_size or min_cluster_size < 2:
        raise ValueError("min_cluster_size must be an integer >= 2")
    if len(xy) < min_cluster_size:
        return np.full(len(xy), -1, dtype=np.int64)
    from sklearn.cluster import HDBSCAN  # imported here: scikit-learn takes ~1 s to import

    labels = HDBSCAN(min_cluster_size=int(min_cluster_size), copy=True).fit_predict(xy)
    return np.where(labels >= 0, labels, -1).astype(np.int64)


def _mix(codes: pd.Series, labels: np.ndarray) -> tuple[dict, dict, dict]:
    """Per cluster: {code: count} (most frequent first, then by code), {code: share}, top code."""
    table = pd.DataFrame({"c": labels, "code": codes.astype(str).to_numpy()})
    sizes = table.groupby(["c", "code"]).size().reset_index(name="n")
    sizes = sizes.sort_values(["c", "n", "code"], ascending=[True, False, True])
    counts: dict[int, dict[str, int]] = {}
    for c, code, n in sizes.itertuples(index=False):
        counts.setdefault(int(c), {})[code] = int(n)
    shares = {c: {k: round(v / sum(m.values()), 4) for k, v in m.items()} for c, m in counts.items()}
    return counts, shares, {c: next(iter(m)) for c, m in counts.items()}


def _widen(shapes: np.ndarray) -> np.ndarray:
    """Outlines (metres) widened by ``PAD_M``, each one Polygon."""
    shapes = shapely.buffer(shapes, PAD_M, quad_segs=4)
    pieces = shapely.get_type_id(shapes) != shapely.GeometryType.POLYGON  # an invalid hull widened
    shapes[pieces] = shapely.convex_hull(shapes[pieces])
    return shapes


def _bad(shapes: np.ndarray) -> np.ndarray:
    return (shapely.get_type_id(shapes) != shapely.GeometryType.POLYGON) | ~shapely.is_valid(shapes)


def _outlines(hulls: np.ndarray, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    """Hulls (metres) as valid Polygons, in metres and in degrees: points, lines, hulls thinner
    than ``SLIVER_M`` (twice the area over the perimeter) and any that is not valid in both CRSs
    widened by ``PAD_M`` (see the module docstring)."""
    shapes = np.asarray(hulls, dtype=object).copy()
    thin = _bad(shapes)
    thin[~thin] = 2 * shapely.area(shapes[~thin]) < SLIVER_M * shapely.length(shapes[~thin])
    shapes[thin] = _widen(shapes[thin])
    degrees = gpd.GeoSeries(shapes, crs=crs).to_crs(WGS84).values
    broken = _bad(np.asarray(degrees, dtype=object))
    if broken.any():
        shapes[broken] = _widen(shapes[broken])
        degrees[broken] = gpd.GeoSeries(shapes[broken], crs=crs).to_crs(WGS84).values
    return shapes, degrees


def summarise_clusters(
    points: gpd.GeoDataFrame,
    labels: np.ndarray,
    *,
    outline: Outline = "convex",
    concave_ratio: float = 0.3,
    category_col: str = "category",
    time_col: str = "reported_at",
    crs: pyproj.CRS | None = None,
) -> gpd.GeoDataFrame:
    """One row per cluster of ``labels`` (noise, -1, left out), largest first.

    Parameters
    ----------
    points : GeoDataFrame of Points, EPSG:4326, with ``category_col`` and ``time_col`` when
        the category mix and the first/last report are wanted (missing columns give None).
    labels : array (n,) of cluster numbers aligned with ``points``.
    outline : "convex" or "concave"
        Convex hull, or shapely's concave hull with ``concave_ratio`` (0 = tightest, 1 = convex).
        An outline that is not a valid Polygon at least ``SLIVER_M`` thick (points that coincide
        or are collinear) is widened by ``PAD_M`` metres: every outline is a valid Polygon.

    Returns
    -------
    GeoDataFrame (EPSG:4326), columns ``CLUSTER_COLUMNS``: ``cluster_id`` (the label), ``size``,
    the centroid (mean of the metric coordinates) as ``centroid_lon``/``centroid_lat``,
    ``area_m2`` of the outline, ``top_category``, ``category_counts`` {code: n} and
    ``category_shares`` {code: share of size}, ``first_reported_at``, ``last_reported_at``,
    and the outline as geometry.
    """
    if outline not in OUTLINES:
        raise ValueError(f"outline must be one of {OUTLINES}")
    labels = np.asarray(labels, dtype=np.int64)
    inside = labels >= 0
    if not inside.any():
        return gpd.GeoDataFrame({c: [] for c in CLUSTER_COLUMNS[:-1]}, geometry=[], crs=WGS84)
    crs = crs or metric_crs_for(points)
    xy = shapely.get_coordinates(points.geometry.to_crs(crs).values)[inside]
    lab = labels[inside]
    order = np.argsort(lab, kind="stable")
    ids, size = np.unique(lab, return_counts=True)
    clouds = shapely.multipoints(xy[order], indices=np.repeat(np.arange(len(ids)), size))
    if outline == "convex":
        shapes = shapely.convex_hull(clouds)
    else:
        shapes = shapely.concave_hull(clouds, ratio=concave_ratio)
    shapes, outlines = _outlines(shapes, crs)
    cx = np.bincount(np.searchsorted(ids, lab), weights=xy[:, 0]) / size
    cy = np.bincount(np.searchsorted(ids, lab), weights=xy[:, 1]) / size
    centroid = gpd.GeoSeries(shapely.points(cx, cy), crs=crs).to_crs(WGS84)
    out = pd.DataFrame({"cluster_id": ids, "size": size})
    out["centroid_lon"], out["centroid_lat"] = centroid.x.to_numpy(), centroid.y.to_numpy()
    out["area_m2"] = shapely.area(shapes)
    if category_col in points:
        counts, shares, top = _mix(points[category_col][inside], lab)
        out["top_category"] = out["cluster_id"].map(top)
        out["category_counts"] = out["cluster_id"].map(counts)
        out["category_shares"] = out["cluster_id"].map(shares)
    else:
        out["top_category"] = out["category_counts"] = out["category_shares"] = None
    if time_col in points:
        times = pd.to_datetime(points[time_col]).iloc[np.flatnonzero(inside)].set_axis(lab)
        out["first_reported_at"] = out["cluster_id"].map(times.groupby(level=0).min())
        out["last_reported_at"] = out["cluster_id"].map(times.groupby(level=0).max())
    else:
        out["first_reported_at"] = out["last_reported_at"] = None
    frame = gpd.GeoDataFrame(out, geometry=outlines, crs=WGS84)
    return frame.sort_values(["size", "cluster_id"], ascending=[False, True]).reset_index(drop=True)


def density_clusters(
    points: gpd.GeoDataFrame,
    *,
    method: Method = "dbscan",
    eps_m: float = 50.0,
    min_samples: int = 5,
    min_cluster_size: int = 10,
    outline: Outline = "convex",
    concave_ratio: float = 0.3,
    category_col: str = "category",
    time_col: str = "reported_at",
) -> gpd.GeoDataFrame:
    """Cluster points in metres and summarise each cluster (``cluster_labels`` +
    ``summarise_clusters``; parameters as there). ``attrs["noise"]`` is the number of points in
    no cluster; ``cluster_labels`` gives the label of every point."""
    if len(points) == 0:
        empty = summarise_clusters(points, np.empty(0, dtype=np.int64))
        empty.attrs.update(noise=0)
        return empty
    crs = metric_crs_for(points)
    xy = shapely.get_coordinates(points.geometry.to_crs(crs).values)
    labels = cluster_labels(
        xy, method=method, eps_m=eps_m, min_samples=min_samples, min_cluster_size=min_cluster_size
    )
    frame = summarise_clusters(
        points,
        labels,
        outline=outline,
        concave_ratio=concave_ratio,
        category_col=category_col,
        time_col=time_col,
        crs=crs,
    )
    frame.attrs.update(noise=int((labels < 0).sum()))
    return frame
