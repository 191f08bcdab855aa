"""Emerging hotspots: this period against the one before, per cell.

Two equal windows end at ``end``: *now* is ``[end − days, end)`` and *before* is
``[end − 2·days, end − days)``. Gi* (``layers.hotspots.getis_ord.gistar_cells``, same cells, same
weights, same normalisation) runs on each window's points. At confidence ``c`` (α = 1 − c):

- *hot now* / *hot before*: Gi* z > 0 with two-sided p < α in that window;
- *rise* / *fall*: the cell's share of the two windows' problems moved against the town-wide
  share. With ``t = count_before + count_now`` and ``π = N_now / (N_before + N_now)`` over all
  cells, the conditional binomial test of ``count_now ~ Binomial(t, π)`` gives the two-sided
  ``change_p = min(1, 2·min(P(X ≥ count_now), P(X ≤ count_now)))``; rise when ``change_p < α``
  and ``count_now > t·π``, fall when ``change_p < α`` and ``count_now < t·π``. Comparing
  against the town-wide share keeps a general rise in reporting from looking like a local one.

Classes (``emerging``), checked in this order:

- ``new``: hot now, not hot before;
- ``intensifying``: hot in both windows, with a rise;
- ``diminishing``: hot before, and now either not hot or hot with a fall;
- ``persistent``: hot in both windows, no significant change;
- ``sporadic``: hot in neither window but with a rise (a surge in one cell, not a cluster yet);
- ``none``: everything else (also cells not tested in either window).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.special import bdtr, bdtrc

from layers.hotspots.getis_ord import gistar_cells

EMERGING_CLASSES = ("new", "intensifying", "diminishing", "persistent", "sporadic", "none")


def change_test(before: np.ndarray, now: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided conditional binomial test of each cell's change against the overall change.

    Returns
    -------
    (change_p, direction) : float array (1 where nothing was reported), and +1/-1/0 for a
        count above/below/at its expected share ``t·π``.
    """
    before, now = np.asarray(before, dtype=np.int64), np.asarray(now, dtype=np.int64)
    total = before + now
    grand = int(total.sum())
    if grand == 0:
        return np.ones(len(now)), np.zeros(len(now), dtype=np.int64)
    share = now.sum() / grand
    upper = np.where(now > 0, bdtrc(now - 1, total, share), 1.0)  # P(X >= now)
    lower = bdtr(now, total, share)  # P(X <= now)
    p = np.minimum(1.0, 2.0 * np.minimum(upper, lower))
    p[total == 0] = 1.0
    return p, np.sign(now - total * share).astype(np.int64)


def classify_emerging(
    hot_before: np.ndarray, hot_now: np.ndarray, rise: np.ndarray, fall: np.ndarray
) -> np.ndarray:
    """The ``emerging`` class of each cell from the four booleans (rule in the module docstring)."""
    hb, hn, up, down = (np.asarray(a, dtype=bool) for a in (hot_before, hot_now, rise, fall))
    conditions = [hn & ~hb, hn & hb & up, hb & (~hn | down), hn & hb, ~hn & ~hb & up]
    return np.select(conditions, list(EMERGING_CLASSES[:5]), default="none")


def emerging_hotspots(
    points: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    end: pd.Timestamp | str,
    days: float = 30.0,
    time_col: str = "reported_at",
    id_col: str = "cell_id",
    confidence: float = 0.95,
    **gistar_options: Any,
) -> gpd.GeoDataFrame:
    """Classify cells as new, intensifying, diminishing, persistent, sporadic or none.

    Parameters
    ----------
    points : GeoDataFrame of Points, EPSG:4326, with a timezone-aware ``time_col``.
    cells : GeoDataFrame of polygons, EPSG:4326, with ``id_col``.
    end : timestamp
        End of the current window (exclusive); a naive timestamp is read as UTC.
    days : float
        Length of each window in days.
    confidence : float
        Confidence for "hot" and for a significant change (0.90, 0.95 or 0.99 usually).
    **gistar_options
        Passed to ``gistar_cells`` (normalise, streets, weights, band_m, k, min_area_m2, ...).

    Returns
    -------
    GeoDataFrame (EPSG:4326), one row per cell
        ``id_col``, ``count_before``, ``count_now``, ``change`` (now − before),
        ``z_before``, ``z_now``, ``p_before``, ``p_now`` (two-sided), ``hot_before``,
        ``hot_now``, ``change_p``, ``emerging``, geometry; ``attrs`` hold the window bounds.
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie between 0 and 1")
    if not days > 0:
        raise ValueError("days must be positive")
    end_ts = pd.Timestamp(end)
    end_ts = end_ts.tz_localize("UTC") if end_ts.tzinfo is None else end_ts
    span = pd.Timedelta(days=days)
    times = pd.to_datetime(points[time_col])
    alpha = 1.0 - confidence
    windows = {}
    for name, lo, hi in (("before", end_ts - 2 * span, end_ts - span), ("now", end_ts - span, end_ts)):
        chosen = points[((times >= lo) & (times < hi)).to_numpy()]
        windows[name] = gistar_cells(chosen, cells, id_col=id_col, **gistar_options)
    before, now = windows["before"], windows["now"]
    out = gpd.GeoDataFrame({id_col: now[id_col].to_numpy()}, geometry=now.geometry.values, crs=now.crs)
    out["count_before"] = before["count"].to_numpy()
    out["count_now"] = now["count"].to_numpy()
    out["change"] = out["count_now"] - out["count_before"]
    for name, frame in windows.items():
        out[f"z_{name}"] = frame["z"].to_numpy()
        out[f"p_{name}"] = frame["p_value"].to_numpy()
        out[f"hot_{name}"] = (frame["z"].to_numpy() > 0) & (frame["p_value"].to_numpy() < alpha)
    change_p, direction = change_test(out["count_before"].to_numpy(), out["count_now"].to_numpy())
    out["change_p"] = change_p
    significant = change_p < alpha
    out["emerging"] = classify_emerging(
        out["hot_before"], out["hot_now"], significant & (direction > 0), significant & (direction < 0)
    )
    out = out[[c for c in out.columns if c != "geometry"] + ["geometry"]]
    out.attrs.update(
        before_start=str(end_ts - 2 * span),
        now_start=str(end_ts - span),
        end=str(end_ts),
        confidence=confidence,
        value_column=now.attrs.get("value_column"),
    )
    return out
