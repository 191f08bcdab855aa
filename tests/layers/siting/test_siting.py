"""Siting: optimal set cover and maximal covering, checked against brute force on tiny cases."""

import itertools
import math

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
import shapely

import layers.siting.solvers as siting_solvers
from layers.network import build_network
from layers.siting.sites import (
    siting_problem,
    solve_max_cover,
    solve_set_cover,
    street_candidates,
    suggest_best,
    suggest_cover_all,
)

CRS_M = 4549  # CGCS2000 / 3-degree GK CM 120E: local metres, as the demo town
X0, Y0 = 500_000.0, 3_500_000.0


def frame(geoms_m, **cols):
    """A GeoDataFrame in EPSG:4326 from geometries given in local metres (offsets from X0, Y0)."""
    moved = [shapely.affinity.translate(g, X0, Y0) for g in geoms_m]
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries(moved, crs=CRS_M)).to_crs(4326)


def square(x, y, side=10.0):
    return shapely.box(x - side / 2, y - side / 2, x + side / 2, y + side / 2)


def random_reach(rng, rows, cols, density):
    a = rng.random((rows, cols)) < density
    return sp.csr_matrix(a)


def brute_cover(a):
    """Smallest column subsets covering every coverable row (by trying all subsets by size)."""
    coverable = a.any(axis=1)
    for k in range(a.shape[1] + 1):
        for combo in itertools.combinations(range(a.shape[1]), k):
            if np.all(a[:, list(combo)].any(axis=1) | ~coverable):
                return k
    raise AssertionError("unreachable")


def brute_best(a, w, p):
    best = 0.0
    for k in range(min(p, a.shape[1]) + 1):
        for combo in itertools.combinations(range(a.shape[1]), k):
            best = max(best, float(w[a[:, list(combo)].any(axis=1)].sum()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_set_cover_ilp_is_optimal_and_greedy_within_its_bound(seed):
    rng = np.random.default_rng(seed)
    a = random_reach(rng, rng.integers(4, 13), rng.integers(3, 10), 0.25)
    dense = a.toarray()
    optimum = brute_cover(dense)
    for method in ("ilp", "greedy"):
        sol = solve_set_cover(a, method=method)
        covered = dense[:, sol.chosen].any(axis=1) if len(sol.chosen) else np.zeros(len(dense), bool)
        assert np.all(covered | ~dense.any(axis=1)), method
        if method == "ilp":
            assert len(sol.chosen) == optimum and sol.optimal
        else:
            d = int(dense.sum(axis=0).max()) if optimum else 1
            assert optimum <= len(sol.chosen) <= math.ceil(sum(1 / i for i in range(1, d + 1)) * optimum)


@pytest.mark.parametrize("seed", range(8))
def test_max_cover_ilp_matches_brute_force_for_every_p(seed):
    rng = np.random.default_rng(100 + seed)
    a = random_reach(rng, 10, 8, 0.2)
    dense = a.toarray()
    w = rng.integers(1, 50, size=10).astype(float)
    needed = brute_cover(dense)
    for p in range(0, needed + 3):
        sol = solve_max_cover(a, w, p, method="ilp")
        value = float(w[dense[:, sol.chosen].any(axis=1)].sum()) if len(sol.chosen) else 0.0
        assert value == brute_best(dense, w, p)
        assert len(sol.chosen) <= p
        if p >= needed:  # everything reachable is covered, with the fewest sites
            assert value == float(w[dense.any(axis=1)].sum()) and len(sol.chosen) == needed
        greedy = solve_max_cover(a, w, p, method="greedy")
        g_value = float(w[dense[:, greedy.chosen].any(axis=1)].sum()) if len(greedy.chosen) else 0.0
        assert g_value >= (1 - (1 - 1 / p) ** p) * value - 1e-9 if p else g_value == 0


def test_solver_edge_cases():
    empty = sp.csr_matrix((3, 4), dtype=bool)
    assert len(solve_set_cover(empty).chosen) == 0
    assert len(solve_max_cover(empty, np.ones(3), 2).chosen) == 0
    a = sp.csr_matrix(np.eye(3, dtype=bool))
    assert len(solve_max_cover(a, np.ones(3), 0).chosen) == 0
    with pytest.raises(ValueError):
        solve_max_cover(a, np.ones(3), -1)
    with pytest.raises(ValueError):
        solve_max_cover(a, np.array([1.0, 0.0, 1.0]), 1)
    with pytest.raises(ValueError):
        solve_set_cover(a, method="magic")


# A street along y = 0 from x = 0 to 400 m; buildings 10 m squares centred 15 m north of it.
STREET = shapely.LineString([(0, 0), (400, 0)])
HOUSES = {"b40": (40, 10), "b120": (120, 10), "b260": (260, 50), "b360": (360, 5), "far": (200, 400)}


@pytest.fixture
def town():
    streets = frame([STREET], id=["s1"], highway=["residential"])
    buildings = frame(
        [square(x, 15) if k != "far" else square(200, 400) for k, (x, _) in HOUSES.items()],
        id=list(HOUSES),
        households=[h for _, h in HOUSES.values()],
    )
    hydrant = frame([shapely.Point(380, 0)], id=["h1"])  # covers b360 already
    return streets, buildings, hydrant


def covered_by(sites_m, buildings_m, radius_m):
    return {i for i, b in buildings_m.items() if any(b.distance(s) <= radius_m for s in sites_m)}


def test_cover_all_matches_brute_force_over_candidate_subsets(town):
    streets, buildings, hydrant = town
    candidates = street_candidates(streets, spacing_m=25)
    problem = siting_problem(buildings, hydrant, candidates, radius_m=60)
    assert set(problem.demand["id"]) == {"b40", "b120", "b260", "far"}
    result = suggest_cover_all(problem)
    # Brute force on the geometry itself: the smallest candidate subset covering every
    # uncovered building that any candidate reaches.
    cand_m = list(candidates.to_crs(CRS_M).geometry)
    bm = dict(zip(buildings["id"], buildings.to_crs(CRS_M).geometry, strict=True))
    demand = {k: bm[k] for k in ("b40", "b120", "b260", "far")}
    reachable = covered_by(cand_m, demand, 60)
    assert reachable == {"b40", "b120", "b260"}
    optimum = next(
        k
        for k in range(1, 4)
        for combo in itertools.combinations(cand_m, k)
        if covered_by(combo, demand, 60) == reachable
    )
    assert optimum == 2 and len(result.sites) == 2 and result.summary["optimal"]
    assert covered_by(list(result.sites.to_crs(CRS_M).geometry), demand, 60) == reachable
    assert list(result.unreachable["id"]) == ["far"] and list(result.uncovered["id"]) == ["far"]
    newly = sorted(i for ids in result.sites["building_ids"] for i in ids)
    assert newly == ["b120", "b260", "b40"]  # each building once, at its nearest site
    assert result.sites.crs.to_epsg() == 4326 and list(result.sites["site"]) == [1, 2]
    assert result.summary["demand_buildings"] == 4 and result.summary["unreachable_buildings"] == 1


def test_best_p_weights_households_and_handles_p_zero_and_large_p(town):
    streets, buildings, hydrant = town
    problem = siting_problem(buildings, hydrant, street_candidates(streets, spacing_m=25), radius_m=60)
    none = suggest_best(problem, 0)
    assert none.sites.empty and none.summary["covered_buildings"] == 0 and len(none.uncovered) == 4
    one = suggest_best(problem, 1)
    assert list(one.sites["building_ids"].iloc[0]) == ["b260"] and one.summary["covered_households"] == 50
    many = suggest_best(problem, 10)
    assert len(many.sites) == 2 and many.summary["covered_buildings"] == 3  # no useless extra site
    assert list(many.unreachable["id"]) == ["far"]


def test_buildings_without_households_still_count(town):
    streets, buildings, _ = town
    buildings = buildings.assign(households=0)
    result = suggest_best(
        siting_problem(buildings, None, street_candidates(streets, spacing_m=25), radius_m=60), 1
    )
    assert result.summary["covered_buildings"] == 2  # two shops beat one, though no one lives there


def test_greedy_fallback_for_huge_instances(town, monkeypatch):
    streets, buildings, hydrant = town
    problem = siting_problem(buildings, hydrant, street_candidates(streets, spacing_m=25), radius_m=60)
    monkeypatch.setattr(siting_solvers, "ILP_MAX_NONZEROS", 0)
    result = suggest_cover_all(problem)
    assert result.summary["method"] == "greedy" and "H(" in result.summary["bound"]
    assert result.summary["covered_buildings"] == 3 and len(result.sites) >= 2


def test_candidates_along_streets():
    streets = frame(
        [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(100, 0), (100, 30)])], id=["a", "b"]
    )
    cand = street_candidates(streets, spacing_m=25)
    xy = np.round(shapely.get_coordinates(cand.to_crs(CRS_M).geometry.values) - [X0, Y0], 3)
    assert cand.crs.to_epsg() == 4326
    assert sorted(map(tuple, xy.tolist())) == [
        (0, 0),
        (25, 0),
        (50, 0),
        (75, 0),
        (100, 0),
        (100, 15),
        (100, 30),
    ]
    assert list(cand["candidate"]) == list(range(7)) and set(cand["street"]) == {"a", "b"}
    area = frame([shapely.box(-1, -1, 60, 1)]).geometry.iloc[0]
    assert len(street_candidates(streets, spacing_m=25, area=area)) == 3
    with pytest.raises(ValueError):
        street_candidates(streets, spacing_m=0)


def test_network_metric_does_not_cross_the_river():
    # Two streets 100 m apart with no link (a river between); the house is 10 m from the north
    # street. Candidates only on the south street: straight they reach it, walking they do not.
    south = shapely.LineString([(0, 0), (200, 0)])
    north = shapely.LineString([(0, 100), (200, 100)])
    streets = frame([south, north], id=["south", "north"], highway=["residential"] * 2)
    house = frame([square(100, 115)], id=["h"], households=[3])
    net = build_network(streets)
    south_area = frame([shapely.box(-5, -5, 205, 5)]).geometry.iloc[0]
    cand = street_candidates(streets, spacing_m=20, area=south_area, net=net)
    straight = suggest_cover_all(siting_problem(house, None, cand, radius_m=150))
    assert len(straight.sites) == 1 and straight.unreachable.empty
    walk = suggest_cover_all(siting_problem(house, None, cand, radius_m=150, metric="network", net=net))
    assert walk.sites.empty and list(walk.unreachable["id"]) == ["h"]
    everywhere = street_candidates(streets, spacing_m=20, net=net)
    walk_all = suggest_cover_all(
        siting_problem(house, None, everywhere, radius_m=150, metric="network", net=net)
    )
    assert len(walk_all.sites) == 1 and walk_all.sites["street"].iloc[0] == "north"


def test_bad_problem_input(town):
    streets, buildings, hydrant = town
    cand = street_candidates(streets, spacing_m=25)
    with pytest.raises(ValueError):
        siting_problem(buildings, hydrant, cand, radius_m=60, metric="network")
    with pytest.raises(ValueError):
        siting_problem(buildings, hydrant, cand, radius_m=-1)
    with pytest.raises(ValueError):
        siting_problem(buildings, hydrant, cand, radius_m=60, metric="crow")
