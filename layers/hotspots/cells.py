"""Cells for hotspot statistics: square cells and H3 hexagons over a study area, point counts and
street length per cell. Inputs and outputs in EPSG:4326; areas and lengths in metres, computed in
the metric CRS of ``layers.projection.metric_crs_for``.
"""

from __future__ import annotations

import math

import geopandas as gpd
import h3
import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from layers.assign.areas import assign_areas
from layers.projection import WGS84, metric_crs_for

MAX_CELLS = 1_000_000


def _region_m(area: gpd.GeoDataFrame | gpd.GeoSeries, crs: pyproj.CRS) -> BaseGeometry:
    geoms = area.geometry if isinstance(area, gpd.GeoDataFrame) else area
    region = shapely.union_all(geoms.to_crs(crs).values)
    if region.is_empty:
        raise ValueError("the study area is empty")
    return region


def _clipped_frame(
    ids: list[str], cells_m: np.ndarray, region: BaseGeometry, crs: pyproj.CRS
) -> gpd.GeoDataFrame:
    shapely.prepare(region)
    hit = shapely.intersects(cells_m, region)
    full = cells_m[hit]
    clipped = shapely.intersection(full, region)
    frame = gpd.GeoDataFrame(
        {
            "cell_id": np.asarray(ids, dtype=object)[hit],
            "cell_area_m2": shapely.area(full),
            "area_m2": shapely.area(clipped),
        },
        geometry=gpd.GeoSeries(clipped, crs=crs),
    )
    frame = frame[frame["area_m2"] > 0].reset_index(drop=True)
    return frame.to_crs(WGS84)


def square_cells(
    area: gpd.GeoDataFrame | gpd.GeoSeries, *, cell_m: float, crs: pyproj.CRS | None = None
) -> gpd.GeoDataFrame:
    """Square cells of ``cell_m`` metres covering a study area, clipped to it.

    Parameters
    ----------
    area : GeoDataFrame or GeoSeries of polygons (any CRS; usually EPSG:4326)
        The study area (the union of its geometries).
    cell_m : float
        Side of a cell in metres. Cells are aligned on multiples of ``cell_m`` in the metric CRS.
    crs : pyproj.CRS, optional
        Metric CRS; by default ``metric_crs_for(area)``.

    Returns
    -------
    GeoDataFrame (EPSG:4326)
        ``cell_id`` ("sq<cell_m>_<column>_<row>"), ``cell_area_m2`` (the full square),
        ``area_m2`` (the part inside the study area) and the clipped cell as geometry; only
        cells overlapping the area.
    """
    if not (math.isfinite(cell_m) and cell_m > 0):
        raise ValueError("cell_m must be a positive number of metres")
    crs = crs or metric_crs_for(area)
    region = _region_m(area, crs)
    x0, y0, x1, y1 = region.bounds
    cols = np.arange(math.floor(x0 / cell_m), math.ceil(x1 / cell_m))
    rows = np.arange(math.floor(y0 / cell_m), math.ceil(y1 / cell_m))
    if len(cols) * len(rows) > MAX_CELLS:
        raise ValueError(f"more than {MAX_CELLS} cells of {cell_m:g} m; choose larger cells")
    cc, rr = (a.ravel() for a in np.meshgrid(cols, rows))
    boxes = shapely.box(cc * cell_m, rr * cell_m, (cc + 1) * cell_m, (rr + 1) * cell_m)
    ids = [f"sq{cell_m:g}_{c}_{r}" for c, r in zip(cc, rr, strict=True)]
    return _clipped_frame(ids, boxes, region, crs)


def h3_cells(
    area: gpd.GeoDataFrame | gpd.GeoSeries, *, resolution: int, crs: pyproj.CRS | None = None
) -> gpd.GeoDataFrame:
    """H3 hexagons of a resolution overlapping a study area, clipped to it.

    Parameters
    ----------
    area : GeoDataFrame or GeoSeries of polygons (any CRS; usually EPSG:4326)
    resolution : int
        H3 resolution 0–15 (res 9 ≈ 0.105 km², res 10 ≈ 0.015 km², res 11 ≈ 0.002 km²).
    crs : pyproj.CRS, optional
        Metric CRS for the areas; by default ``metric_crs_for(area)``.

    Returns
    -------
    GeoDataFrame (EPSG:4326)
        ``cell_id`` (the H3 index), ``cell_area_m2``, ``area_m2`` (inside the area) and the
        clipped hexagon as geometry.
    """
    if int(resolution) != resolution or not 0 <= resolution <= 15:
        raise ValueError("resolution must be an integer from 0 to 15")
    crs = crs or metric_crs_for(area)
    region = _region_m(area, crs)
    geoms = area.geometry if isinstance(area, gpd.GeoDataFrame) else area
    lonlat = shapely.union_all(geoms.to_crs(WGS84).values)
    estimate = region.area / (h3.average_hexagon_area(int(resolution), unit="m^2"))
    if estimate > MAX_CELLS:
        raise ValueError(f"about {estimate:.0f} hexagons at resolution {resolution}; choose a coarser one")
    shape = h3.geo_to_h3shape(lonlat.__geo_interface__)
    ids = sorted(h3.h3shape_to_cells_experimental(shape, int(resolution), contain="overlap"))
    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in ids]
    hexes = gpd.GeoSeries(shapely.polygons(rings) if rings else [], crs=WGS84).to_crs(crs)
    return _clipped_frame(ids, np.asarray(hexes.values), region, crs)


def count_points(points: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, *, id_col: str = "cell_id") -> np.ndarray:
    """Points per cell (EPSG:4326 both); a point on a shared edge goes to the smallest id.

    Returns
    -------
    ndarray of int64 aligned with ``cells``.
    """
    where = assign_areas(points.geometry, cells, code_col=id_col)
    counts = where.dropna().value_counts()
    return cells[id_col].astype(str).map(counts).fillna(0).to_numpy(dtype=np.int64)


def street_length_m(cells_m: np.ndarray, streets_m: np.ndarray) -> np.ndarray:
    """Length in metres of street centre lines inside each cell (both in the same metric CRS)."""
    out = np.zeros(len(cells_m), dtype=np.float64)
    if len(cells_m) == 0 or len(streets_m) == 0:
        return out
    tree = shapely.STRtree(streets_m)
    cell_idx, street_idx = tree.query(cells_m, predicate="intersects")
    if len(cell_idx):
        lengths = shapely.length(shapely.intersection(streets_m[street_idx], cells_m[cell_idx]))
        out += np.bincount(cell_idx, weights=lengths, minlength=len(cells_m))
    return out


def cell_frame_m(cells: gpd.GeoDataFrame, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell polygons in the metric ``crs``, their areas (m²) and centroids (x, y in metres)."""
    polys = np.asarray(cells.geometry.to_crs(crs).values)
    return polys, shapely.area(polys), shapely.get_coordinates(shapely.centroid(polys))
