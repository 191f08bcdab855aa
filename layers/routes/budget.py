"""The most valuable stops that fit in a time budget, and the order to walk them in.

A prize-collecting walk: each stop has a weight (its priority) and a service time; walking
time is distance / speed. The heuristic, all in metres, minutes and the caller's weights:

0. **Everything fits?** If the walk through every stop (from :func:`layers.routes.order.plan_route`)
   fits, that is the answer; a minimum-spanning-tree lower bound skips the try when it cannot.
1. **Greedy insertion.** Start from the mandatory stops (start, end). Repeatedly insert the
   stop with the best score ``weight / (added walking minutes + service minutes) ** alpha`` at
   its cheapest position, among those that still fit in the budget, until none fits.
2. **Re-sequence.** Order the chosen stops with :func:`layers.routes.order.plan_route`; this
   usually shortens the walk a good deal and frees time. **Add** greedily again.
3. **Swap.** For each stop left out, heaviest first: remove one chosen stop of lower weight
   and insert the left-out one where it costs least, if the walk still fits; of the swaps that
   fit, the one that gains most weight (then the shortest) is made. The cost of inserting into
   the walk without the removed stop is exact: the best of the three cheapest current positions
   not next to the removed stop, or the gap it leaves. **Add** greedily again.
4. **Drop and refill.** Remove one chosen stop (lightest first) and add greedily into the time
   it frees; kept only when the total weight grows (one stop out, several in).

Steps 2–4 repeat while the total weight grows (at most ``MAX_ROUNDS`` rounds), then a last
re-sequence; a re-sequenced order is taken only when it is shorter, so the budget always
holds. The whole run is made for each greedy exponent ``alpha`` in ``GREEDY_ALPHAS`` (1: value
per minute; 0.5: leaning to heavy stops; 2: leaning to cheap ones), each with its share of
``time_budget_s``; the heaviest result wins (ties: the shorter). Stops of weight 0 are never
added. On 24 random 9-stop instances checked against every subset walked optimally (the
tests), the result was optimal in most and never below 80 % of the best weight.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import minimum_spanning_tree

from layers.routes.insertion import Walk
from layers.routes.order import checked_symmetric, plan_route, route_length_m

__all__ = ["MAX_ROUNDS", "plan_route_with_budget", "route_duration_min"]

MAX_ROUNDS = 5
GREEDY_ALPHAS = (1.0, 0.5, 2.0)  # one full run per greedy score; the heaviest result wins
EPS_MIN = 1e-9


def route_duration_min(
    dist_m: np.ndarray,
    order: Sequence[int],
    *,
    walk_speed_m_s: float,
    service_min: float | np.ndarray,
    closed: bool = False,
) -> float:
    """Walking plus service minutes of visiting ``order`` (service of every stop in it)."""
    service = np.broadcast_to(np.asarray(service_min, dtype=np.float64), (dist_m.shape[0],))
    walk = route_length_m(dist_m, order, closed=closed) / walk_speed_m_s / 60.0
    return float(walk + service[np.asarray(order, dtype=np.intp)].sum()) if len(order) else 0.0


class _Planner:
    def __init__(
        self,
        d: np.ndarray,
        *,
        speed: float,
        service: np.ndarray,
        budget: float,
        weights: np.ndarray,
        mandatory: list[int],
        walk: Walk,
        deadline: float,
        alpha: float = 1.0,
    ):
        self.d, self.speed, self.service, self.budget, self.w = d, speed, service, budget, weights
        self.mandatory = set(mandatory)
        self.walk = walk
        self.deadline = deadline
        self.resequenced: list[int] | None = None  # the last walk re-sequenced (or kept): no need twice
        self.alpha = alpha  # greedy score: weight / extra minutes ** alpha

    def minutes(self, metres: np.ndarray | float) -> np.ndarray | float:
        return metres / self.speed / 60.0

    def total_min(self) -> float:
        return float(self.minutes(self.walk.length_m()) + self.service[self.walk.seq].sum())

    def left_out(self) -> np.ndarray:
        inside = np.zeros(len(self.w), dtype=bool)
        inside[self.walk.seq] = True
        return np.flatnonzero(~inside & (self.w > 0))

    def add_greedily(self, exclude: int | None = None) -> None:
        total = self.total_min()
        cands = self.left_out()
        if exclude is not None:
            cands = cands[cands != exclude]
        while len(cands):
            added_m, pos = self.walk.insertion(cands)
            extra = self.minutes(added_m) + self.service[cands]
            fits = total + extra <= self.budget + EPS_MIN
            if not fits.any():
                return
            ratio = np.where(fits, self.w[cands] / np.maximum(extra, EPS_MIN) ** self.alpha, -np.inf)
            best = int(np.argmax(ratio))
            self.walk.seq.insert(int(pos[best]), int(cands[best]))
            total += float(extra[best])
            cands = np.delete(cands, best)

    def swap_once(self, k: int, total: float) -> bool:
        """Swap left-out ``k`` for a lighter chosen stop if the walk still fits."""
        if not self.walk.seq:  # nothing chosen that could make room
            return False
        seq = np.asarray(self.walk.seq)
        m = len(seq)
        removable = np.array([s not in self.mandatory for s in seq]) & (self.w[seq] < self.w[k])
        if not removable.any():
            return False
        costs = self.walk.position_costs(np.array([k]))[:, 0]
        top = np.argsort(costs)[:3]
        idx = np.arange(m)
        adj_a = np.where(self.walk.cyclic & (idx == 0), m, idx)
        adj_b = idx + 1
        usable = (top[None, :] != adj_a[:, None]) & (top[None, :] != adj_b[:, None])
        elsewhere = np.where(usable, costs[top][None, :], np.inf).min(axis=1)
        insert_m = np.minimum(elsewhere, self.walk.gap_costs_m(k))
        new_total = (
            total
            - (self.minutes(self.walk.removal_savings_m()) + self.service[seq])
            + (self.minutes(insert_m) + self.service[k])
        )
        ok = removable & (new_total <= self.budget + EPS_MIN)
        if not ok.any():
            return False
        gain = np.where(ok, self.w[k] - self.w[seq], -np.inf)
        best = int(np.lexsort((new_total, -gain))[0])
        del self.walk.seq[best]
        _, pos = self.walk.insertion(np.array([k]))
        self.walk.seq.insert(int(pos[0]), k)
        return True

    def swap_all(self) -> None:
        cands = self.left_out()
        for k in cands[np.argsort(-self.w[cands], kind="stable")]:
            if time.monotonic() > self.deadline:
                return
            self.swap_once(int(k), self.total_min())

    def drop_and_refill(self) -> None:
        """Remove one chosen stop (lightest first) and add greedily; keep it if weight grows."""
        for stop in sorted(set(self.walk.seq) - self.mandatory, key=lambda s: self.w[s]):
            if time.monotonic() > self.deadline:
                return
            before = list(self.walk.seq)
            weight = float(self.w[before].sum())
            self.walk.seq.remove(stop)
            self.add_greedily(exclude=stop)
            if float(self.w[self.walk.seq].sum()) <= weight + EPS_MIN:
                self.walk.seq = before

    def resequence(self, *, start: int | None, end: int | None, closed: bool) -> None:
        seq = list(self.walk.seq)
        if len(seq) < 4 or seq == self.resequenced:
            return
        local = {stop: i for i, stop in enumerate(seq)}
        order = plan_route(
            self.d[np.ix_(seq, seq)],
            start=local[start] if start is not None else None,
            end=local[end] if end is not None and not closed else None,
            closed=closed,
            time_budget_s=max(0.01, self.deadline - time.monotonic()),
        )
        candidate = [seq[i] for i in order]
        if route_length_m(self.d, candidate, closed=closed) < self.walk.length_m():
            self.walk.seq = candidate
        self.resequenced = list(self.walk.seq)

    def run(self, *, start: int | None, end: int | None, closed: bool) -> None:
        """Greedy insertion, then rounds of re-sequence, add, swap, add while weight grows."""
        self.add_greedily()
        weight = -1.0
        for _ in range(MAX_ROUNDS):
            self.resequence(start=start, end=end, closed=closed)
            self.add_greedily()
            self.swap_all()
            self.add_greedily()
            self.drop_and_refill()
            now = float(self.w[self.walk.seq].sum())
            if now <= weight + EPS_MIN or time.monotonic() > self.deadline:
                break
            weight = now
        self.resequence(start=start, end=end, closed=closed)


@dataclass(frozen=True)
class _Problem:
    """A checked budget problem: metres between stops, minutes and weights per stop, fixed ends."""

    d: np.ndarray
    weights: np.ndarray
    service: np.ndarray
    speed: float  # metres per second
    budget: float  # minutes
    start: int | None
    end: int | None  # None on a closed walk: it ends at its start
    closed: bool

    @property
    def mandatory(self) -> list[int]:
        """The stops every walk holds: the start and the end."""
        return [a for a in dict.fromkeys((self.start, self.end)) if a is not None]


def _check_numbers(w: np.ndarray, service: np.ndarray, speed: float, budget_min: float, n: int) -> None:
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be n finite numbers >= 0")
    if not np.isfinite(service).all() or (service < 0).any():
        raise ValueError("service minutes must be finite numbers >= 0")
    if not (np.isfinite(speed) and speed > 0):
        raise ValueError("walking speed must be a positive number of metres per second")
    if not (np.isfinite(budget_min) and budget_min >= 0):
        raise ValueError("the budget must be a finite number of minutes >= 0")


def _checked_ends(start: int | None, end: int | None, closed: bool) -> tuple[int | None, int | None]:
    """Start and end as the planner takes them: a closed walk starts at its end and has no end."""
    if closed and start is None and end is not None:
        start = end
    if closed and end is not None and end != start:
        raise ValueError("a closed walk ends where it starts; give no end, or end == start")
    if not closed and start is not None and start == end:
        raise ValueError("start and end are the same stop: ask for a closed walk")
    return start, None if closed else end


def _checked_problem(
    dist_m: np.ndarray,
    walk_speed_m_s: float,
    service_min: float | Sequence[float] | np.ndarray,
    budget_min: float,
    weights: Sequence[float] | np.ndarray,
    *,
    start: int | None,
    end: int | None,
    closed: bool,
) -> _Problem:
    d = checked_symmetric(dist_m)
    n = d.shape[0]
    w = np.asarray(weights, dtype=np.float64)
    service = np.broadcast_to(np.asarray(service_min, dtype=np.float64), (n,)).copy()
    _check_numbers(w, service, walk_speed_m_s, budget_min, n)
    start, end = _checked_ends(start, end, closed)
    return _Problem(d, w, service, walk_speed_m_s, budget_min, start, end, closed)


def _all_if_they_fit(p: _Problem) -> list[int] | None:
    """The walk through every stop of positive weight, when it fits in the budget."""
    stops = sorted(set(p.mandatory) | set(np.flatnonzero(p.weights > 0).tolist()))
    sub = p.d[np.ix_(stops, stops)]
    # any walk through all of them is at least as long as their minimum spanning tree
    positive = np.where(sub > 0, sub, 1e-9)  # the MST routine reads 0 as "no edge"
    if minimum_spanning_tree(positive).sum() / p.speed / 60.0 + p.service[stops].sum() > p.budget + EPS_MIN:
        return None
    local = {stop: i for i, stop in enumerate(stops)}
    order = plan_route(
        sub,
        start=local[p.start] if p.start is not None else None,
        end=local[p.end] if p.end is not None else None,
        closed=p.closed,
    )
    walk = [stops[i] for i in order]
    total = route_duration_min(p.d, walk, walk_speed_m_s=p.speed, service_min=p.service, closed=p.closed)
    return walk if total <= p.budget + EPS_MIN else None


def _heaviest_walk(p: _Problem, time_budget_s: float) -> list[int]:
    """The improvement heuristic once per greedy exponent; the heaviest walk wins (ties: the shorter)."""
    t0 = time.monotonic()
    best: tuple[float, float, list[int]] | None = None
    for i, alpha in enumerate(GREEDY_ALPHAS):
        walk = Walk(p.d, p.mandatory, cyclic=p.closed, free_head=p.start is None, free_tail=p.end is None)
        share = t0 + time_budget_s * (i + 1) / len(GREEDY_ALPHAS)
        planner = _Planner(
            p.d, speed=p.speed, service=p.service, budget=p.budget, weights=p.weights,
            mandatory=p.mandatory, walk=walk, deadline=share, alpha=alpha,
        )  # fmt: skip
        if planner.total_min() > p.budget + EPS_MIN:
            raise ValueError(
                f"the budget of {p.budget:g} min is shorter than the mandatory walk "
                f"({planner.total_min():.1f} min)"
            )
        planner.run(start=p.start, end=p.end, closed=p.closed)
        key = (float(p.weights[walk.seq].sum()), -walk.length_m(), walk.seq)
        if best is None or key[:2] > best[:2]:
            best = key
    assert best is not None
    return list(best[2])


def plan_route_with_budget(
    dist_m: np.ndarray,
    walk_speed_m_s: float,
    service_min: float | Sequence[float] | np.ndarray,
    budget_min: float,
    weights: Sequence[float] | np.ndarray,
    *,
    start: int | None = None,
    end: int | None = None,
    closed: bool = False,
    time_budget_s: float = 2.0,
) -> tuple[list[int], np.ndarray]:
    """The heaviest set of stops that can be walked and served within ``budget_min``.

    Parameters
    ----------
    dist_m : ndarray, shape (n, n)
        Walking distances, metres (finite, symmetric; see :func:`layers.routes.order.plan_route`).
    walk_speed_m_s : float
        Walking speed, metres per second (4.5 km/h = 1.25 m/s).
    service_min : float or array of shape (n,)
        Minutes spent at each stop (also counted for ``start``/``end``; give 0 for a depot).
    budget_min : float
        Minutes available for walking and service together.
    weights : array of shape (n,)
        Priority of each stop (>= 0; 0 is never added). ``start``/``end`` are always in.
    start, end, closed :
        As in :func:`layers.routes.order.plan_route`.
    time_budget_s : float
        Most time the improvement steps may take.

    Returns
    -------
    order : list of int
        The chosen stops in walking order (starting with ``start``, ending with ``end``).
    chosen : ndarray of bool, shape (n,)
        True for the stops in ``order``.

    Raises
    ------
    ValueError
        On bad input, or when the mandatory stops alone do not fit in the budget.
    """
    p = _checked_problem(
        dist_m, walk_speed_m_s, service_min, budget_min, weights, start=start, end=end, closed=closed
    )
    order = _all_if_they_fit(p)
    if order is None:
        order = _heaviest_walk(p, time_budget_s)
    chosen = np.zeros(p.d.shape[0], dtype=bool)
    chosen[order] = True
    return order, chosen
