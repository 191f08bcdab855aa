"""Class breaks for graduated maps: Fisher's natural breaks and whole-number classes of counts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def natural_breaks(values: Sequence[float] | np.ndarray, k: int = 5) -> list[float]:
    """Upper class bounds of Fisher's natural breaks (Jenks) of the finite ``values``.

    The exact optimum: of all ways to cut the sorted values into at most ``k`` runs, the one with
    the least sum of squared deviations from the run means (dynamic programming over the distinct
    values, weighted by their counts; O(k n) vector steps for n distinct values). Fewer distinct
    values than ``k`` give one class per value.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0 or k < 1:
        return []
    x, w = np.unique(v, return_counts=True)
    n, k = len(x), min(k, len(x))
    if k == n:
        return x.tolist()
    s0 = np.concatenate([[0.0], np.cumsum(w)])
    s1 = np.concatenate([[0.0], np.cumsum(w * x)])
    s2 = np.concatenate([[0.0], np.cumsum(w * x * x)])

    def ssd(a: np.ndarray, b: int) -> np.ndarray:  # runs x[a:b] for every a
        return (s2[b] - s2[a]) - (s1[b] - s1[a]) ** 2 / (s0[b] - s0[a])

    cost = np.full(n + 1, np.inf)
    cost[1:] = ssd(np.zeros(n, dtype=int), np.arange(1, n + 1)) if n else []
    cuts = np.zeros((k + 1, n + 1), dtype=int)
    for c in range(2, k + 1):
        nxt = np.full(n + 1, np.inf)
        for b in range(c, n + 1):
            a = np.arange(c - 1, b)
            total = cost[a] + ssd(a, b)
            best = int(np.argmin(total))
            nxt[b], cuts[c, b] = total[best], a[best]
        cost = nxt
    bounds, b = [], n
    for c in range(k, 0, -1):
        bounds.append(float(x[b - 1]))
        b = cuts[c, b] if c > 1 else 0
    return sorted(bounds)


def count_breaks(values: np.ndarray, classes: int = 5) -> list[float]:
    """Upper bounds of up to ``classes`` classes of the positive whole counts in ``values``.

    Natural breaks (:func:`natural_breaks`) rounded up to whole numbers, so each class is a range
    the data really has gaps around (quantiles of counts bunched on a few values gave "1–24, 25,
    26, 27"). Classes run from 1 (or the bound before) to their bound, and two single-value
    classes are never left side by side: the lower joins the next ("1–2, 3–4, 5–100", not "1, 2,
    3, 4, 5–100").
    """
    v = np.asarray(values, dtype=float)
    positive = v[np.isfinite(v) & (v > 0)]
    if len(positive) == 0:
        return []
    breaks = sorted({float(np.ceil(b)) for b in natural_breaks(positive, classes)})
    while True:  # classes run from 1 (the legend's first class starts there) to their bound
        lows = [1.0] + [b + 1 for b in breaks[:-1]]
        single = [i for i, (lo, b) in enumerate(zip(lows, breaks, strict=True)) if lo >= b]
        pair = next((i for i in single if i + 1 in single), None)
        if pair is None:
            return breaks
        del breaks[pair]
