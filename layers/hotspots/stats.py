"""Getis-Ord Gi* statistic, z-scores, p-values and hot/cold classes: numpy + scipy.sparse only
(imports in milliseconds, no compilation; the first call is as fast as any other).

Convention (the one of esda's ``G_Local(y, w, star=True, transform="B")``, Getis & Ord 1992 /
Ord & Getis 1995 with binary weights): the weights are binary (1 for a neighbour, 0 otherwise)
and each cell is also its own neighbour with weight 1 (*star*: the focal value is included).
With ``W*`` that matrix, ``n`` cells, ``ȳ`` the mean and ``s² = Σy²/n − ȳ²`` the population
variance of the values, and ``c_i = Σ_j W*_ij`` (neighbours + 1):

    G*_i = Σ_j W*_ij y_j / Σ_j y_j
    z_i  = (Σ_j W*_ij y_j − ȳ c_i) / (s · sqrt(c_i (n − c_i) / (n − 1)))

which equals esda's ``Zs`` (a test holds them equal to 1e-9) and ArcGIS's Gi* z-score for binary
weights. p-values are **two-sided** from the standard normal, ``p = 2 · Φ(−|z|)``, i.e. twice
esda's one-sided ``p_norm``. A cell is hot (cold) at 90/95/99 % confidence when z > 0 (z < 0) and
p < 0.10/0.05/0.01; ``gi_bin`` is +3/+2/+1 (hot 99/95/90 %), 0, −1/−2/−3 (cold) as ArcGIS's
Gi_Bin. With ``fdr=True`` the thresholds come from the Benjamini–Hochberg false discovery rate
procedure at each level instead (fewer false alarms among thousands of cells).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import ndtr

LEVELS = ((0.10, 1), (0.05, 2), (0.01, 3))
HOTSPOT_LABELS = {
    3: "hot_99",
    2: "hot_95",
    1: "hot_90",
    0: "none",
    -1: "cold_90",
    -2: "cold_95",
    -3: "cold_99",
}


def gistar(y: np.ndarray, w: csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Gi* statistic and z-score of each cell (see the module docstring for the formulas).

    Parameters
    ----------
    y : array (n,)
        The value of each cell (a count or a density; any unit).
    w : csr_matrix (n, n)
        Binary neighbour weights with a zero diagonal (``layers.hotspots.weights``); the self
        weight 1 is added here.

    Returns
    -------
    (G, z) : two float arrays (n,)
        z is NaN where it is undefined: all values equal, fewer than 2 cells, or a cell
        neighbouring every other one.
    """
    y = np.asarray(y, dtype=np.float64).ravel()
    n = len(y)
    if w.shape != (n, n):
        raise ValueError(f"weights of shape {w.shape} do not match {n} values")
    if w.nnz and not np.all(w.data == 1.0):
        raise ValueError("weights must be binary (0/1)")
    if w.diagonal().any():
        raise ValueError("weights must have a zero diagonal (Gi* adds the self weight)")
    if n < 2:
        return np.full(n, np.nan), np.full(n, np.nan)
    lag = w @ y + y
    card = np.asarray(w.sum(axis=1)).ravel() + 1.0
    total = y.sum()
    g = lag / total if total != 0 else np.full(n, np.nan)
    mean = total / n
    var = (y * y).sum() / n - mean * mean
    spread = var * card * (n - card) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (lag - mean * card) / np.sqrt(spread)
    z[~(spread > 0)] = np.nan
    return g, z


def p_two_sided(z: np.ndarray) -> np.ndarray:
    """Two-sided p-value from the standard normal: ``2 Φ(−|z|)`` (NaN stays NaN)."""
    return 2.0 * ndtr(-np.abs(np.asarray(z, dtype=np.float64)))


def _bh_cut(p: np.ndarray, alpha: float) -> float:
    """Benjamini–Hochberg: the largest p-value declared significant at FDR ``alpha`` (-1: none)."""
    valid = np.sort(p[np.isfinite(p)])
    if len(valid) == 0:
        return -1.0
    ok = valid <= alpha * np.arange(1, len(valid) + 1) / len(valid)
    return float(valid[ok].max()) if ok.any() else -1.0


def gi_bins(z: np.ndarray, p: np.ndarray, *, fdr: bool = False) -> np.ndarray:
    """+3/+2/+1 for hot spots at 99/95/90 % confidence, −3/−2/−1 for cold spots, 0 otherwise."""
    z, p = np.asarray(z, dtype=np.float64), np.asarray(p, dtype=np.float64)
    bins = np.zeros(len(z), dtype=np.int64)
    for alpha, level in LEVELS:
        significant = p <= _bh_cut(p, alpha) if fdr else p < alpha
        bins[significant & (z > 0)] = level
        bins[significant & (z < 0)] = -level
    return bins
