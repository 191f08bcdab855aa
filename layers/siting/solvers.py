"""Set cover and maximal covering on a building × candidate reach matrix (PuLP/CBC, greedy).

``solve_set_cover`` picks the fewest candidates reaching every coverable building;
``solve_max_cover`` the ``p`` candidates reaching the most weight. Both first drop dominated
candidates and buildings, then solve the ILP with CBC under a time limit (starting from the greedy
answer), or fall back to greedy with its stated bound (H(d) for set cover, 1 − (1 − 1/p)^p for
maximal covering) when the instance is too large or CBC finds nothing in time.
"""

from __future__ import annotations

import heapq
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pulp
import scipy.sparse as sp

ILP_MAX_NONZEROS = 150_000  # building-candidate pairs; beyond, "auto" goes greedy (CBC may need minutes)
METHODS = ("auto", "ilp", "greedy")


@dataclass(frozen=True)
class Solution:
    """Chosen columns (candidate positions, sorted) and how good they are known to be."""

    chosen: np.ndarray
    method: str  # "ilp", "greedy" or "none" (nothing to choose)
    optimal: bool
    bound: str  # the guarantee, in words


def _ilp(a: sp.csr_matrix, weights: np.ndarray | None, p: int | None, time_limit_s: float) -> Solution | None:
    """Set cover (weights None) or max cover (at most p columns) by CBC, on the reduced matrix
    and started from the greedy answer; None if CBC found nothing in time."""
    red, cols, w = _reduce(a, weights)
    start = set(_greedy(red, w, p).tolist())
    prob = pulp.LpProblem("siting", pulp.LpMinimize if weights is None else pulp.LpMaximize)
    x = [prob.add_variable(f"x{j}", cat=pulp.LpBinary) for j in range(red.shape[1])]
    for j, v in enumerate(x):
        v.setInitialValue(1 if j in start else 0)
    rows = [red.indices[red.indptr[i] : red.indptr[i + 1]] for i in range(red.shape[0])]
    if weights is None:
        prob += pulp.lpSum(x)
        for r in rows:
            prob += pulp.lpSum(x[j] for j in r) >= 1
    else:
        assert p is not None
        y = [prob.add_variable(f"y{i}", lowBound=0, upBound=1) for i in range(len(rows))]
        # Fewer sites only between equal covered weights: exact for integer weights.
        eps = 0.5 * float(w.min()) / (p + 1)
        prob += pulp.lpSum(float(wi) * v for wi, v in zip(w, y, strict=True)) - eps * pulp.lpSum(x)
        for v, r in zip(y, rows, strict=True):
            prob += v <= pulp.lpSum(x[j] for j in r)
        prob += pulp.lpSum(x) <= p
    with warnings.catch_warnings():
        # PuLP 3 deprecates its bundled CBC (PULP_CBC_CMD) for a system one; use it while bundled.
        warnings.simplefilter("ignore", DeprecationWarning)
        options = {"msg": False, "timeLimit": time_limit_s, "threads": 1, "warmStart": True}
        solver = pulp.COIN_CMD(**options)
        if not solver.available():
            solver = pulp.PULP_CBC_CMD(**options)
        prob.solve(solver)
    if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return None
    chosen = np.sort(cols[[j for j, v in enumerate(x) if (v.value() or 0) > 0.5]]).astype(np.int64)
    optimal = prob.sol_status == pulp.LpSolutionOptimal
    bound = "proven optimal (CBC)" if optimal else "time limit: feasible, not proven optimal"
    return Solution(chosen, "ilp", optimal, bound)


def _greedy(a: sp.csr_matrix, weights: np.ndarray, p: int | None) -> np.ndarray:
    """Columns by largest newly covered weight (lazy heap; ties: the smallest column)."""
    csc = a.tocsc()
    open_rows = np.ones(a.shape[0], dtype=bool)
    heap = [
        (-float(weights[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]].sum()), j) for j in range(a.shape[1])
    ]
    heapq.heapify(heap)
    chosen: list[int] = []
    while heap and (p is None or len(chosen) < p):
        neg, j = heapq.heappop(heap)
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        gain = float(weights[rows[open_rows[rows]]].sum())
        if gain <= 0:
            continue
        if gain < -neg:
            heapq.heappush(heap, (-gain, j))
            continue
        chosen.append(j)
        open_rows[rows] = False
    return np.array(sorted(chosen), dtype=np.int64)


def _reduce(a: sp.csr_matrix, weights: np.ndarray | None) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Drop dominated columns (a column whose rows another one covers too; of identical ones the
    first stays) and, for set cover (``weights`` None), rows that cover a smaller row implies;
    for max cover, merge identical rows adding their weights. Optimal values do not change.

    Returns the reduced matrix, the original position of each column and the row weights.
    """
    cols = np.arange(a.shape[1])
    w = np.ones(a.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    while True:
        before = a.shape
        ints = a.astype(np.int32)
        size = np.asarray(ints.sum(axis=0)).ravel()
        inter = (ints.T @ ints).tocoo()
        j, k, n = inter.row, inter.col, inter.data
        dominated = (j != k) & (n == size[j]) & ((size[k] > size[j]) | (k < j))
        keep = size > 0
        keep[j[dominated]] = False
        a, cols = a[:, keep], cols[keep]
        ints = a.astype(np.int32)
        size = np.asarray(ints.sum(axis=1)).ravel()
        inter = (ints @ ints.T).tocoo()
        i, i2, n = inter.row, inter.col, inter.data
        same = (i != i2) & (n == size[i2]) & (n == size[i]) & (i2 < i)  # row i repeats row i2
        implied = (i != i2) & (n == size[i2]) & ((size[i2] < size[i]) | (i2 < i))  # i2 ⊆ i
        drop = np.zeros(a.shape[0], dtype=bool)
        if weights is None:
            drop[i[implied]] = True
        else:
            first = np.arange(a.shape[0])
            np.minimum.at(first, i[same], i2[same])
            w = np.bincount(first, weights=w, minlength=a.shape[0])
            drop[i[same]] = True
        a, w = a[~drop], w[~drop]
        if a.shape == before:
            return a.tocsr(), cols, w


def _use_ilp(a: sp.csr_matrix, method: str) -> bool:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    return method == "ilp" or (method == "auto" and a.nnz <= ILP_MAX_NONZEROS)


def solve_set_cover(reach: sp.spmatrix, *, method: str = "auto", time_limit_s: float = 60.0) -> Solution:
    """Fewest columns of ``reach`` (rows × columns, nonzero = reaches) covering every row that
    any column reaches; rows no column reaches are ignored (the caller reports them)."""
    a = sp.csr_matrix(reach, dtype=bool)
    a = a[np.flatnonzero(a.getnnz(axis=1) > 0)]
    if a.shape[0] == 0:
        return Solution(np.zeros(0, dtype=np.int64), "none", True, "nothing to cover")
    if _use_ilp(a, method) and (found := _ilp(a, None, None, time_limit_s)) is not None:
        return found
    chosen = _greedy(a, np.ones(a.shape[0]), None)
    d = int(a.getnnz(axis=0).max())
    h = sum(1.0 / i for i in range(1, d + 1))
    bound = f"greedy: at most H({d}) = {h:.2f} × optimum, so optimum ≥ {math.ceil(len(chosen) / h)}"
    return Solution(chosen, "greedy", len(chosen) <= 1, bound)


def solve_max_cover(
    reach: sp.spmatrix, weights: np.ndarray, p: int, *, method: str = "auto", time_limit_s: float = 60.0
) -> Solution:
    """At most ``p`` columns maximising the total weight (> 0 each) of the rows they reach;
    among equal weights, the fewest columns."""
    if p < 0:
        raise ValueError("p must be >= 0")
    a = sp.csr_matrix(reach, dtype=bool)
    keep = np.flatnonzero(a.getnnz(axis=1) > 0)
    a, w = a[keep], np.asarray(weights, dtype=float)[keep]
    if p == 0 or a.shape[0] == 0:
        return Solution(np.zeros(0, dtype=np.int64), "none", True, "nothing to choose")
    if np.any(w <= 0):
        raise ValueError("weights must be > 0")
    if _use_ilp(a, method) and (found := _ilp(a, w, p, time_limit_s)) is not None:
        return found
    chosen = _greedy(a, w, p)
    factor = 1 - (1 - 1 / p) ** p
    return Solution(chosen, "greedy", False, f"greedy: at least {factor:.3f} × optimum")
