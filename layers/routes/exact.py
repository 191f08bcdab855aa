"""Exact shortest walks for a few stops: Held-Karp dynamic programming, and brute force for
three or fewer. Float metres, same conventions as :func:`layers.routes.order.plan_route`; used in
production for small walks and by the tests to hold the heuristic to the optimum.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

__all__ = ["HELD_KARP_MAX_N", "brute_force", "held_karp", "route_length_m"]

HELD_KARP_MAX_N = 14  # 2^13 * 13 states: ~0.2 s; beyond, the DP is too slow to be useful


def route_length_m(dist_m: np.ndarray, order: Sequence[int], *, closed: bool = False) -> float:
    """Length in metres of visiting ``order`` (returning to its first stop when ``closed``)."""
    idx = np.asarray(order, dtype=np.intp)
    if len(idx) < 2:
        return 0.0
    legs = dist_m[idx[:-1], idx[1:]].sum()
    return float(legs + (dist_m[idx[-1], idx[0]] if closed else 0.0))


def held_karp(
    dist_m: np.ndarray, *, start: int | None = None, end: int | None = None, closed: bool = False
) -> tuple[float, list[int]]:
    """The exact shortest walk by dynamic programming over subsets (float metres).

    Same conventions as :func:`layers.routes.order.plan_route`; at most ``HELD_KARP_MAX_N`` stops.

    Returns
    -------
    (length_m, order)
    """
    d = np.asarray(dist_m, dtype=np.float64)
    n = d.shape[0]
    if n > HELD_KARP_MAX_N:
        raise ValueError(f"Held-Karp is limited to {HELD_KARP_MAX_N} stops, got {n}")
    if n == 0:
        return 0.0, []
    if closed and start is None:
        start = 0
    if n == 1:
        return 0.0, [0]
    others = [i for i in range(n) if i != start]
    m = len(others)
    sub = d[np.ix_(others, others)]
    full = (1 << m) - 1
    cost = np.full((1 << m, m), np.inf)
    parent = np.full((1 << m, m), -1, dtype=np.int64)
    first = d[start, others] if start is not None else np.zeros(m)
    for j in range(m):
        cost[1 << j, j] = first[j]
    bits = 1 << np.arange(m)
    for mask in range(1, full + 1):
        inside = np.flatnonzero(mask & bits)
        if len(inside) < 2:
            continue
        prev = mask ^ bits[inside]  # the mask before each j was added last
        via = cost[prev[:, None], inside[None, :]] + sub[np.ix_(inside, inside)].T
        k = np.argmin(via, axis=1)
        cost[mask, inside] = via[np.arange(len(inside)), k]
        parent[mask, inside] = inside[k]
    last_cost = cost[full].copy()
    if closed:
        last_cost += d[others, start]
    if end is not None and not closed:
        allowed = np.full(m, np.inf)
        allowed[others.index(end)] = 0.0
        last_cost += allowed
    j = int(np.argmin(last_cost))
    length = float(last_cost[j])
    path: list[int] = []
    mask = full
    while j >= 0:
        path.append(others[j])
        mask, j = mask ^ (1 << j), int(parent[mask, j])
    path.reverse()
    return length, ([start, *path] if start is not None else path)


def brute_force(d: np.ndarray, start: int | None, end: int | None, closed: bool) -> list[int]:
    n = d.shape[0]
    best: tuple[float, list[int]] = (np.inf, list(range(n)))
    for perm in itertools.permutations(range(n)):
        if closed and perm[0] != (start or 0):
            continue
        if not closed and ((start is not None and perm[0] != start) or (end is not None and perm[-1] != end)):
            continue
        length = route_length_m(d, perm, closed=closed)
        if length < best[0] - 1e-9:
            best = (length, list(perm))
    return best[1]
