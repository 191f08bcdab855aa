"""Getis-Ord Gi* hot and cold spots of problems on cells (unit grids, H3 hexagons, squares).

Counts per cell, normalised per km² or per km of street, binary weights (queen contiguity,
distance band in metres, k nearest), then ``layers.hotspots.stats`` (the formulas and the
conventions: esda's ``G_Local(star=True, transform="B")`` z-scores, two-sided normal p-values,
hot/cold at 90/95/99 %). Inputs and outputs in EPSG:4326; metres in ``metric_crs_for``.
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import pyproj
from scipy.sparse import csr_matrix

from layers.hotspots.cells import cell_frame_m, count_points, street_length_m
from layers.hotspots.stats import HOTSPOT_LABELS, gi_bins, gistar, p_two_sided
from layers.hotspots.weights import WEIGHTS, distance_band_weights, knn_weights, queen_weights
from layers.projection import metric_crs_for

Normalise = Literal["area", "street", "none"]
Weights = Literal["queen", "band", "knn"]
NORMALISE = ("area", "street", "none")
VALUE_COLUMNS = {"area": "problems_per_km2", "street": "problems_per_street_km", "none": "count"}


def weights_for(
    polys_m: np.ndarray, centroids_m: np.ndarray, *, weights: Weights, band_m: float | None, k: int
) -> csr_matrix:
    """Binary weights of the named kind: ``queen`` contiguity of the polygons, ``band``
    (centroids within ``band_m`` metres) or ``knn`` (the ``k`` nearest centroids)."""
    if weights == "queen":
        return queen_weights(polys_m)
    if weights == "band":
        if band_m is None:
            raise ValueError("band weights need band_m (metres)")
        return distance_band_weights(centroids_m, band_m=band_m)
    if weights == "knn":
        return knn_weights(centroids_m, k=k)
    raise ValueError(f"weights must be one of {WEIGHTS}")


def gistar_cells(
    points: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    id_col: str = "cell_id",
    normalise: Normalise = "area",
    streets: gpd.GeoDataFrame | None = None,
    weights: Weights = "queen",
    band_m: float | None = None,
    k: int = 8,
    min_area_m2: float = 0.0,
    min_street_m: float = 20.0,
    fdr: bool = False,
    crs: pyproj.CRS | None = None,
) -> gpd.GeoDataFrame:
    """Gi* hot and cold spots of point counts per cell, normalised per area or street length.

    Parameters
    ----------
    points : GeoDataFrame of Points, EPSG:4326 (e.g. problems).
    cells : GeoDataFrame of polygons, EPSG:4326, with an ``id_col`` column (unit grids,
        ``square_cells`` or ``h3_cells``).
    normalise : "area", "street" or "none"
        The value tested: problems per km² of the cell's area, per km of street centre line
        inside the cell (``streets``, LineStrings in EPSG:4326, required), or the raw count.
    weights : "queen", "band" or "knn"
        Binary neighbours: cells sharing a boundary point; cells whose centroids lie within
        ``band_m`` metres; or each cell's ``k`` nearest centroids.
    min_area_m2, min_street_m : float
        Cells with a smaller area (m²), or with "street" less street (m), are left out of the
        test (their densities are unstable): reported with their counts, ``tested`` False,
        z/p NaN and ``hotspot`` "not_tested".
    fdr : bool
        Benjamini–Hochberg thresholds instead of plain p < 0.10/0.05/0.01.
    crs : pyproj.CRS, optional
        Metric CRS; by default ``metric_crs_for(cells)``.

    Returns
    -------
    GeoDataFrame (EPSG:4326), one row per cell in the input order
        ``id_col``, ``count``, ``area_m2``, ``street_m`` ("street" only), the tested value
        (``problems_per_km2``, ``problems_per_street_km`` or ``count``; its name is in
        ``attrs["value_column"]``), ``tested``, ``n_neighbours``, ``gi``, ``z``, ``p_value``
        (two-sided), ``gi_bin`` and ``hotspot`` (hot_99 … cold_99, none, not_tested).
    """
    if normalise not in NORMALISE:
        raise ValueError(f"normalise must be one of {NORMALISE}")
    crs = crs or metric_crs_for(cells)
    polys, area, centroids = cell_frame_m(cells, crs)
    out = gpd.GeoDataFrame(
        {id_col: cells[id_col].to_numpy()}, geometry=cells.geometry.to_numpy(), crs=cells.crs
    )
    out["count"] = count_points(points, cells, id_col=id_col)
    out["area_m2"] = area
    tested = area >= min_area_m2
    if normalise == "area":
        value = out["count"].to_numpy() / (area / 1e6)
    elif normalise == "street":
        if streets is None:
            raise ValueError('normalise="street" needs the streets')
        street = street_length_m(polys, np.asarray(streets.geometry.to_crs(crs).values))
        out["street_m"] = street
        tested &= street >= min_street_m
        with np.errstate(divide="ignore", invalid="ignore"):
            value = out["count"].to_numpy() / (street / 1000.0)
    else:
        value = out["count"].to_numpy(dtype=np.float64)
    column = VALUE_COLUMNS[normalise]
    out[column] = np.where(tested | (normalise == "none"), value, np.nan)
    idx = np.flatnonzero(tested)
    if len(idx) < 2:
        raise ValueError(f"only {len(idx)} cell(s) can be tested; Gi* needs at least two")
    w = weights_for(polys[idx], centroids[idx], weights=weights, band_m=band_m, k=k)
    g, z = gistar(value[idx], w)
    p = p_two_sided(z)
    out["tested"] = tested
    for name, fill, data in (
        ("n_neighbours", 0, np.diff(w.indptr)),
        ("gi", np.nan, g),
        ("z", np.nan, z),
        ("p_value", np.nan, p),
        ("gi_bin", 0, gi_bins(z, p, fdr=fdr)),
    ):
        column_data = np.full(len(out), fill, dtype=np.asarray(data).dtype if fill == 0 else np.float64)
        column_data[idx] = data
        out[name] = column_data
    out["hotspot"] = np.where(tested, out["gi_bin"].map(HOTSPOT_LABELS), "not_tested")
    out = out[[c for c in out.columns if c != "geometry"] + ["geometry"]]
    out.attrs.update(value_column=column, weights=weights, band_m=band_m, k=k, fdr=fdr)
    return out
