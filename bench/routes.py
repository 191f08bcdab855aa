"""Inspection route ordering: layers.routes.plan_route against OR-Tools and LKH.

Instances: stops in a 3 x 3 km town (metres), uniform at random or in 8 Gaussian clusters
(sigma 150 m), 50 / 100 / 200 / 500 stops, fixed seeds; straight-line distances in metres.
Every solver gets the same matrix in the same process and is scored on the same float metres:

- ours: ``plan_route(d, closed=True)`` with its default budget (fast-tsp for 0.05 s + 1 ms per
  stop, at most 1 s; the call's wall time is printed, including the matrix conversion);
- OR-Tools routing, PATH_CHEAPEST_ARC then GUIDED_LOCAL_SEARCH, time limits 1 s and 5 s
  (centimetre integer costs);
- LKH 2 via elkai (``DistanceMatrix.solve_tsp(runs=R)``, centimetres): the quality ceiling.
  LKH's licence is non-commercial: it is a reference here only, never used by gridmap;
- nearest neighbour from stop 0, for scale.

Figures are % above LKH's tour (negative: shorter than LKH's). Target (PERFORMANCE.md):
within 0.5 % of LKH in at most 1 s at 500 stops; OR-Tools' anchor figures were +2.9 % (100
stops, 1 s) and +4.6 % (500 stops, 5 s).

    .venv/bin/python bench/routes.py                       # ~3 min
    .venv/bin/python bench/routes.py --sizes 50 100 --lkh-runs 3 --no-ortools5
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.spatial.distance import cdist

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from layers.routes import nearest_neighbour_route, plan_route, route_length_m  # noqa: E402

SIDE_M = 3000.0


def stops_xy(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return rng.uniform(0, SIDE_M, (n, 2))
    centres = rng.uniform(300, SIDE_M - 300, (8, 2))
    return np.clip(centres[rng.integers(0, 8, n)] + rng.normal(0, 150, (n, 2)), 0, SIDE_M)


def tour_of(order: list[int], n: int) -> list[int]:
    """A tour as n distinct indices (drops a repeated start at the end)."""
    order = [int(i) for i in order]
    if len(order) == n + 1 and order[0] == order[-1]:
        order = order[:-1]
    assert sorted(order) == list(range(n)), "not a tour"
    return order


def lkh(d: np.ndarray, runs: int) -> list[int]:
    import elkai

    cm = np.rint(d * 100).astype(int).tolist()
    return tour_of(elkai.DistanceMatrix(cm).solve_tsp(runs=runs), len(d))


def ortools(d: np.ndarray, seconds: int) -> list[int]:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(d)
    cm = np.rint(d * 100).astype(np.int64)
    manager = pywrapcp.RoutingIndexManager(n, 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    cost = routing.RegisterTransitCallback(
        lambda i, j: int(cm[manager.IndexToNode(i), manager.IndexToNode(j)])
    )
    routing.SetArcCostEvaluatorOfAllVehicles(cost)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.seconds = seconds
    solution = routing.SolveWithParameters(params)
    order, index = [], routing.Start(0)
    while not routing.IsEnd(index):
        order.append(manager.IndexToNode(index))
        index = solution.Value(routing.NextVar(index))
    return tour_of(order, n)


def timed(solve: Callable[[], list[int]], d: np.ndarray) -> tuple[float, float]:
    t0 = time.perf_counter()
    order = solve()
    seconds = time.perf_counter() - t0
    return route_length_m(d, tour_of(order, len(d)), closed=True), seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200, 500])
    parser.add_argument("--kinds", nargs="+", default=["uniform", "clustered"])
    parser.add_argument("--lkh-runs", type=int, default=10)
    parser.add_argument("--no-ortools5", action="store_true", help="skip the 5 s OR-Tools run")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()

    header = (
        f"{'kind':<10}{'stops':>6}{'LKH m':>10}{'LKH s':>7} | {'ours':>8}{'ours s':>8} | "
        f"{'OR 1s':>8}{'OR 5s':>8} | {'NN':>8}"
    )
    print("% above LKH's tour length (negative = shorter); s = wall seconds")
    print(header)
    print("-" * len(header))
    worst_500: list[tuple[float, float]] = []
    for kind in args.kinds:
        for n in args.sizes:
            xy = stops_xy(kind, n, args.seed + n + (0 if kind == "uniform" else 1))
            d = cdist(xy, xy)
            ref, ref_s = timed(lambda d=d: lkh(d, args.lkh_runs), d)
            ours, ours_s = timed(lambda d=d: plan_route(d, closed=True), d)
            or1, _ = timed(lambda d=d: ortools(d, 1), d)
            or5 = None if args.no_ortools5 else timed(lambda d=d: ortools(d, 5), d)[0]
            nn, _ = timed(lambda d=d: nearest_neighbour_route(d), d)

            def pct(x: float | None, ref: float = ref) -> str:
                return "-" if x is None else f"{(x / ref - 1) * 100:+7.2f}%"

            print(
                f"{kind:<10}{n:>6}{ref:>10.0f}{ref_s:>7.1f} | {pct(ours)}{ours_s:>8.2f} | "
                f"{pct(or1)}{pct(or5)} | {pct(nn)}"
            )
            if n == 500:
                worst_500.append(((ours / ref - 1) * 100, ours_s))
    if worst_500:
        gap, secs = max(p for p, _ in worst_500), max(s for _, s in worst_500)
        verdict = "met" if gap <= 0.5 and secs <= 1.0 else "NOT met"
        print(f"\n500 stops: worst {gap:+.2f}% above LKH in at most {secs:.2f} s "
              f"(target <= +0.50% in <= 1 s): {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
