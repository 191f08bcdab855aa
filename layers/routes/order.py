"""Ordering inspection stops to walk as little as possible (a travelling-salesman order).

Input is a square matrix of walking distances in metres between stops (straight lines in a
metric CRS, or walks along the street network from :mod:`layers.network`). The order comes
from fast-tsp (MIT; an Or-opt / Lin-Kernighan style local search in Rust, exact below 21
nodes), which works on a symmetric matrix of unsigned 16-bit integers: metres are scaled to
integers (at most 10 units per metre, fewer when the longest distance would not fit), so the
length of a returned order is within ``n / scale`` metres of the best the solver could find on
the exact matrix.

Open walks and fixed ends are turned into plain tours:

* free ends: a dummy node at distance 0 from every stop; the tour is cut at it;
* a fixed start and/or end: the edge dummy–start (dummy–end), or start–end when both are
  fixed and there is no dummy, is *forced*: every other edge gets a constant ``K`` larger than
  any distance added. All tours have the same number of edges, so the constant changes no
  comparison between tours that keep the forced edges, and any tour missing one is improved by
  a 2-opt move that puts it back; the optimum (and any 2-opt local optimum) keeps them.

:func:`layers.routes.exact.held_karp` is the exact dynamic programme (float metres,
O(2^n n^2)), used for ``n <= EXACT_MAX_N`` and by the tests to hold the heuristic to the
exhaustive optimum.
Distances are metres everywhere; a matrix that is not quite symmetric (floating-point noise
of a network search) is averaged with its transpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import fast_tsp
import numpy as np
from scipy.sparse.csgraph import connected_components

from layers.routes.exact import HELD_KARP_MAX_N, brute_force, held_karp, route_length_m

__all__ = [
    "EXACT_MAX_N",
    "checked_symmetric",
    "HELD_KARP_MAX_N",
    "held_karp",
    "integer_matrix",
    "nearest_neighbour_route",
    "plan_route",
    "reachable_mask",
    "route_length_m",
]

EXACT_MAX_N = 10  # plan_route(method="auto") solves up to this many stops exactly
UINT16_MAX = 65_535
MAX_UNITS_PER_M = 10.0  # decimetres when they fit

Method = Literal["auto", "heuristic", "exact"]


def reachable_mask(dist_m: np.ndarray, anchors: Sequence[int] = ()) -> np.ndarray:
    """Stops that can all be visited in one walk (finite distances both ways between them).

    Parameters
    ----------
    dist_m : ndarray, shape (n, n)
        Metres; ``inf`` (or NaN) where no walk joins two stops.
    anchors : sequence of int
        Stops that must be in the walk (a start, an end). Without anchors the largest group of
        mutually reachable stops is kept (ties: the group holding the lowest index).

    Returns
    -------
    ndarray of bool, shape (n,)
        True for the stops of the anchors' group.

    Raises
    ------
    ValueError
        When the anchors are not reachable from one another.
    """
    n = dist_m.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    _, labels = connected_components(np.isfinite(dist_m), directed=True, connection="strong")
    if anchors:
        groups = {int(labels[a]) for a in anchors}
        if len(groups) > 1:
            raise ValueError("the start and the end cannot be reached from one another")
        return labels == groups.pop()
    counts = np.bincount(labels)
    return labels == int(np.argmax(counts))


def checked_symmetric(dist_m: np.ndarray) -> np.ndarray:
    """A float copy of a distance matrix, averaged with its transpose, zero diagonal; raises
    ValueError when it is not square, not finite or negative."""
    d = np.asarray(dist_m, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"the distance matrix must be square, got shape {d.shape}")
    if not np.isfinite(d).all():
        raise ValueError("the distance matrix has non-finite entries; drop unreachable stops first")
    if (d < 0).any():
        raise ValueError("the distance matrix has negative distances")
    d = (d + d.T) / 2.0
    np.fill_diagonal(d, 0.0)
    return d


def integer_matrix(dist_m: np.ndarray, forced: Sequence[tuple[int, int]] = ()) -> tuple[np.ndarray, float]:
    """fast-tsp's input: distances as integers that fit an unsigned 16-bit value.

    Parameters
    ----------
    dist_m : ndarray, shape (n, n)
        Symmetric metres, finite and non-negative.
    forced : sequence of (i, j)
        Edges every tour must use: all *other* edges get the constant ``K = max + 1`` added
        (see the module docstring), so the scale leaves room for twice the longest distance.

    Returns
    -------
    units : ndarray of int64, shape (n, n)
        ``round(dist_m * scale)`` (+ K off the forced edges); symmetric, zero diagonal.
    scale : float
        Units per metre (at most 10).
    """
    longest = float(dist_m.max()) if dist_m.size else 0.0
    room = (UINT16_MAX - 1) // 2 if forced else UINT16_MAX
    scale = MAX_UNITS_PER_M if longest * MAX_UNITS_PER_M <= room else room / longest
    units = np.rint(dist_m * scale).astype(np.int64)
    np.minimum(units, room, out=units)  # guard against rounding up past the room
    if forced:
        units += int(units.max()) + 1
        for i, j in forced:
            units[i, j] = units[j, i] = 0
        np.fill_diagonal(units, 0)
    return units, scale


def _tour(units: np.ndarray, duration_s: float) -> list[int]:
    n = units.shape[0]
    if n <= 3:
        return list(range(n))
    return [int(i) for i in fast_tsp.find_tour(units, duration_s, 1, "auto", False)]


def _rotate_to(tour: list[int], first: int, then: int | None = None) -> list[int]:
    """``tour`` (a cycle) read from ``first``; in the direction that puts ``then`` next or,
    with ``then=None``, in the direction it was given."""
    i = tour.index(first)
    out = tour[i:] + tour[:i]
    if then is not None and len(out) > 2 and out[1] != then:
        out = [out[0], *out[:0:-1]]
    return out


def _default_duration_s(n: int, cap_s: float) -> float:
    """fast-tsp searches until its deadline: 0.05 s + 1 ms per stop (0.55 s at 500 stops, where
    the benchmark shows it level with LKH from about 0.2 s), at most ``cap_s``."""
    return max(0.01, min(cap_s, 0.05 + 0.001 * n))


def _heuristic(d: np.ndarray, start: int | None, end: int | None, closed: bool, cap_s: float) -> list[int]:
    n = d.shape[0]
    duration = _default_duration_s(n, cap_s)
    if closed:
        units, _ = integer_matrix(d)
        return _rotate_to(_tour(units, duration), 0 if start is None else start)
    if start is not None and end is not None:
        units, _ = integer_matrix(d, forced=[(start, end)])
        # the cycle holds the edge end–start; read it from start away from end
        order = _rotate_to(_tour(units, duration), start)
        return order if order[-1] == end else [order[0], *order[:0:-1]]
    dummy = n
    padded = np.zeros((n + 1, n + 1))
    padded[:n, :n] = d
    forced = [(dummy, a) for a in (start, end) if a is not None]
    units, _ = integer_matrix(padded, forced=forced)
    order = _rotate_to(_tour(units, duration), dummy)[1:]
    if (start is not None and order[0] != start) or (end is not None and order[-1] != end):
        order.reverse()
    return order


def plan_route(
    dist_m: np.ndarray,
    *,
    start: int | None = None,
    end: int | None = None,
    closed: bool = False,
    time_budget_s: float = 1.0,
    method: Method = "auto",
) -> list[int]:
    """The order to visit every stop in, walking as little as possible.

    Parameters
    ----------
    dist_m : ndarray, shape (n, n)
        Walking distances in metres; finite (drop unreachable stops first, see
        :func:`reachable_mask`), non-negative, symmetric (small asymmetry is averaged out).
    start, end : int, optional
        Index of the stop to begin (end) at. For an open walk either, both or none may be
        fixed; a free end finishes wherever is shortest. A closed walk returns to ``start``
        (index 0 by default) and takes no ``end`` other than ``start``.
    closed : bool
        A round trip (the length includes the leg back to the first stop).
    time_budget_s : float
        Most time the heuristic may take; it uses 0.05 s + 1 ms per stop up to this cap.
    method : {"auto", "heuristic", "exact"}
        ``auto``: Held-Karp up to ``EXACT_MAX_N`` stops, fast-tsp above. ``exact``: always
        Held-Karp (at most ``HELD_KARP_MAX_N`` stops). ``heuristic``: always fast-tsp.

    Returns
    -------
    list of int
        Every index once, in walking order, beginning with ``start`` (and ending with ``end``)
        when given; a closed walk's return leg is implied, not repeated.
    """
    d = checked_symmetric(dist_m)
    n = d.shape[0]
    for name, value in (("start", start), ("end", end)):
        if value is not None and not 0 <= value < n:
            raise ValueError(f"{name} {value} is not a stop index (0..{n - 1})")
    if closed and end is not None and end != start:
        raise ValueError("a closed walk ends where it starts; give no end, or end == start")
    if not closed and start is not None and start == end and n > 1:
        raise ValueError("start and end are the same stop: ask for a closed walk")
    if closed and start is None:
        start = 0
    if closed:
        end = None
    if n <= 3:
        return brute_force(d, start, end, closed) if n else []
    if method == "exact" or (method == "auto" and n <= EXACT_MAX_N):
        return held_karp(d, start=start, end=end, closed=closed)[1]
    return _heuristic(d, start, end, closed, time_budget_s)


def nearest_neighbour_route(dist_m: np.ndarray, *, start: int = 0) -> list[int]:
    """Greedy nearest-neighbour order from ``start`` (a reference: ~25% longer than optimal)."""
    d = np.asarray(dist_m, dtype=np.float64)
    n = d.shape[0]
    seen = np.zeros(n, dtype=bool)
    order = [start]
    seen[start] = True
    for _ in range(n - 1):
        row = np.where(seen, np.inf, d[order[-1]])
        nxt = int(np.argmin(row))
        order.append(nxt)
        seen[nxt] = True
    return order
