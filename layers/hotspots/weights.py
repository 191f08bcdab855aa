"""Spatial weights for hotspot statistics: binary, as scipy.sparse matrices, computed in metres.

Every builder returns a CSR matrix ``W`` of shape (n, n) with ``W[i, j] = 1`` when j is a
neighbour of i and 0 elsewhere; the diagonal is zero (a cell is not its own neighbour here:
Gi* adds the self weight itself). Positions are planar metric coordinates (x = easting,
y = northing, metres) or polygons in a metric CRS, as from ``layers.projection.to_metric``.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

WEIGHTS = ("queen", "band", "knn")


def _binary(rows: np.ndarray, cols: np.ndarray, n: int) -> csr_matrix:
    keep = rows != cols
    data = np.ones(int(keep.sum()), dtype=np.float64)
    w = csr_matrix((data, (rows[keep], cols[keep])), shape=(n, n))
    w.sum_duplicates()
    w.data[:] = 1.0
    return w


def distance_band_weights(xy_m: np.ndarray, *, band_m: float) -> csr_matrix:
    """Neighbours within a distance band (binary, symmetric).

    Parameters
    ----------
    xy_m : array (n, 2)
        Positions in metres (usually cell centroids in a metric CRS).
    band_m : float
        j is a neighbour of i when their distance is ``<= band_m`` metres (i != j).

    Returns
    -------
    csr_matrix (n, n) of 0/1, zero diagonal.
    """
    if not (math.isfinite(band_m) and band_m > 0):
        raise ValueError("band_m must be a positive number of metres")
    xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
    pairs = cKDTree(xy).query_pairs(float(band_m), output_type="ndarray")
    rows = np.r_[pairs[:, 0], pairs[:, 1]]
    cols = np.r_[pairs[:, 1], pairs[:, 0]]
    return _binary(rows.astype(np.int64), cols.astype(np.int64), len(xy))


def knn_weights(xy_m: np.ndarray, *, k: int) -> csr_matrix:
    """The k nearest other positions of each one (binary, not symmetric in general).

    Parameters
    ----------
    xy_m : array (n, 2)
        Positions in metres.
    k : int
        Neighbours per position (1 <= k < n). Ties at the k-th distance are broken by the KD-tree.

    Returns
    -------
    csr_matrix (n, n) of 0/1, zero diagonal; row i holds i's k neighbours.
    """
    xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
    n = len(xy)
    if int(k) != k or not 1 <= k < n:
        raise ValueError(f"k must be an integer from 1 to {n - 1} (the number of cells minus one)")
    dist, idx = cKDTree(xy).query(xy, k=int(k) + 1)
    # Drop each row's own index (not always first when positions coincide), else the farthest.
    own = idx == np.arange(n)[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
    keep = np.ones_like(idx, dtype=bool)
    keep[np.arange(n), drop] = False
    rows = np.repeat(np.arange(n), k)
    return _binary(rows, idx[keep].astype(np.int64), n)


def queen_weights(polygons_m: np.ndarray, *, snap_m: float = 0.0) -> csr_matrix:
    """Queen contiguity: polygons sharing at least one boundary point (binary, symmetric).

    Parameters
    ----------
    polygons_m : array of shapely polygons
        Cells in a metric CRS.
    snap_m : float, default 0
        Also count polygons within this many metres as touching (for layers with slivers of
        gap from rounding; 0 means exact contact).

    Returns
    -------
    csr_matrix (n, n) of 0/1, zero diagonal.
    """
    geoms = np.asarray(polygons_m, dtype=object)
    tree = shapely.STRtree(geoms)
    if snap_m > 0:
        rows, cols = tree.query(geoms, predicate="dwithin", distance=float(snap_m))
    else:
        rows, cols = tree.query(geoms, predicate="intersects")
    return _binary(rows.astype(np.int64), cols.astype(np.int64), len(geoms))


def nearest_neighbour_band_m(xy_m: np.ndarray) -> float:
    """The smallest distance band (metres) giving every position at least one neighbour."""
    xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
    if len(xy) < 2:
        raise ValueError("need at least two positions")
    dist, _ = cKDTree(xy).query(xy, k=2)
    return float(dist[:, 1].max())
