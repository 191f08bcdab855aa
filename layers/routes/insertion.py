"""A walk under construction for insertion heuristics: cheapest insertion positions, the
saving of removing each stop, and the cost of filling the gap a removed stop leaves (metres).
"""

from __future__ import annotations

import numpy as np

from layers.routes.exact import route_length_m

__all__ = ["Walk"]


class Walk:
    """A walk under construction: ``seq`` in order; ends fixed or free; a cycle when closed.

    Positions are "insert before ``seq[pos]``", ``pos`` in 0..m; with a cycle, ``m`` is the gap
    between the last stop and the first, and 0 is not used (the first stop stays first).
    """

    def __init__(self, d: np.ndarray, seq: list[int], *, cyclic: bool, free_head: bool, free_tail: bool):
        self.d, self.seq = d, seq
        self.cyclic, self.free_head, self.free_tail = cyclic, free_head, free_tail

    def length_m(self) -> float:
        return route_length_m(self.d, self.seq, closed=self.cyclic)

    def position_costs(self, cands: np.ndarray) -> np.ndarray:
        """Added metres of inserting each candidate at each position, shape (m + 1, k)."""
        d, m = self.d, len(self.seq)
        costs = np.full((m + 1, len(cands)), np.inf)
        if m == 0:
            costs[0] = 0.0
            return costs
        s = np.asarray(self.seq)
        if m >= 2:
            a, b = s[:-1], s[1:]
            costs[1:m] = d[np.ix_(a, cands)] + d[np.ix_(b, cands)] - d[a, b][:, None]
        if self.free_head and not self.cyclic:
            costs[0] = d[s[0], cands]
        if self.cyclic:
            costs[m] = d[s[-1], cands] + d[s[0], cands] - d[s[-1], s[0]]
        elif self.free_tail:
            costs[m] = d[s[-1], cands]
        return costs

    def insertion(self, cands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cheapest added metres and position for each candidate."""
        costs = self.position_costs(cands)
        pos = np.argmin(costs, axis=0)
        return costs[pos, np.arange(len(cands))], pos

    def neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        """Stop before and after each position of ``seq`` (-1 where there is none)."""
        s = np.asarray(self.seq)
        m = len(s)
        if self.cyclic:
            return (np.roll(s, 1), np.roll(s, -1)) if m >= 2 else (np.full(m, -1), np.full(m, -1))
        prev = np.r_[-1, s[:-1]] if m else s
        nxt = np.r_[s[1:], -1] if m else s
        return prev, nxt

    def removal_savings_m(self) -> np.ndarray:
        """Metres saved by removing each stop of ``seq``."""
        s = np.asarray(self.seq)
        prev, nxt = self.neighbours()
        return self._leg(prev, s) + self._leg(s, nxt) - self._leg(prev, nxt)

    def gap_costs_m(self, k: int) -> np.ndarray:
        """Added metres of putting ``k`` in the gap left by removing each stop of ``seq``."""
        prev, nxt = self.neighbours()
        kk = np.full(len(prev), k)
        return self._leg(prev, kk) + self._leg(kk, nxt) - self._leg(prev, nxt)

    def _leg(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ok = (a >= 0) & (b >= 0)
        return np.where(ok, self.d[np.maximum(a, 0), np.maximum(b, 0)], 0.0)
