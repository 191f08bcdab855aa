"""Tests of layers.routes: walk order, budget, walks from stops, output, GPX (no database).

The heuristic (fast-tsp with the forced-edge transformations) is held to the exhaustive optimum
(Held-Karp, itself held to brute force) on many small random instances, and to OR-Tools guided
local search (a strong reference computed here) on 200 stops.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from scipy.spatial.distance import cdist
from shapely.geometry import LineString, Point

from layers.network import build_network
from layers.routes.budget import plan_route_with_budget, route_duration_min
from layers.routes.exact import brute_force, held_karp, route_length_m
from layers.routes.gpx import GPX_NS, Waypoint, gpx_document, read_gpx
from layers.routes.order import (
    EXACT_MAX_N,
    UINT16_MAX,
    integer_matrix,
    nearest_neighbour_route,
    plan_route,
    reachable_mask,
)
from layers.routes.output import route_geojson, route_gpx, route_json, route_text
from layers.routes.walk import (
    OVER_BUDGET,
    UNREACHABLE,
    RouteError,
    RouteStop,
    plan_walk,
    stop_distances_m,
)

GK = pyproj.CRS.from_epsg(4549)  # the metric CRS metric_crs_for picks near Changshu
X0, Y0 = 580_000.0, 3_500_000.0
TO_LL = pyproj.Transformer.from_crs(GK, 4326, always_xy=True)

MODES = {
    "closed": {"closed": True},
    "closed_from_3": {"closed": True, "start": 3},
    "open_free": {},
    "open_start": {"start": 0},
    "open_end": {"end": 2},
    "open_start_end": {"start": 1, "end": 4},
}


def matrix(n: int, rng: np.random.Generator, side_m: float = 2000.0) -> np.ndarray:
    xy = rng.uniform(0, side_m, (n, 2))
    return cdist(xy, xy)


def check_order(order: list[int], n: int, kw: dict) -> None:
    assert sorted(order) == list(range(n))
    if kw.get("start") is not None:
        assert order[0] == kw["start"]
    if kw.get("end") is not None and not kw.get("closed"):
        assert order[-1] == kw["end"]


# ---------------------------------------------------------------- exact solvers


@pytest.mark.parametrize("mode", MODES)
def test_held_karp_equals_brute_force(mode):
    rng = np.random.default_rng(11)
    kw = MODES[mode]
    for n in range(5, 8):
        for _ in range(4):
            d = matrix(n, rng)
            length, order = held_karp(d, **kw)
            check_order(order, n, kw)
            best = brute_force(d, kw.get("start"), kw.get("end"), kw.get("closed", False))
            assert length == pytest.approx(route_length_m(d, best, closed=kw.get("closed", False)), abs=1e-6)
            assert route_length_m(d, order, closed=kw.get("closed", False)) == pytest.approx(length, abs=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_heuristic_equals_held_karp_on_small_instances(mode):
    """n = 5..11, 7 random instances each: fast-tsp with our transformations finds the optimum."""
    rng = np.random.default_rng(2024)
    kw = MODES[mode]
    closed = kw.get("closed", False)
    for n in range(5, 12):
        for _ in range(7):
            d = matrix(n, rng)
            optimum, _ = held_karp(d, **kw)
            order = plan_route(d, method="heuristic", time_budget_s=0.05, **kw)
            check_order(order, n, kw)
            _, scale = integer_matrix(d, forced=[(0, 1)])
            # rounding to integer units moves any walk by at most half a unit per leg
            assert route_length_m(d, order, closed=closed) <= optimum + (n + 1) / scale
            assert route_length_m(d, order, closed=closed) == pytest.approx(optimum, rel=1e-3)


def test_auto_method_is_exact_for_few_stops():
    rng = np.random.default_rng(5)
    d = matrix(EXACT_MAX_N, rng)
    assert route_length_m(d, plan_route(d, start=0)) == pytest.approx(held_karp(d, start=0)[0], abs=1e-9)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_trivial_sizes(n):
    d = matrix(n, np.random.default_rng(n))
    assert sorted(plan_route(d)) == list(range(n))
    if n >= 2:
        assert plan_route(d, start=1)[0] == 1
        assert plan_route(d, closed=True, start=1)[0] == 1
    if n == 3:
        order = plan_route(d, start=2, end=0)
        assert order == [2, 1, 0]
        # free ends: the longest of the three legs is the one left out
        legs = sorted([d[0, 1], d[1, 2], d[0, 2]])
        assert route_length_m(d, plan_route(d)) == pytest.approx(legs[0] + legs[1])


# ---------------------------------------------------------------- 200 stops against OR-Tools


def ortools_length(d: np.ndarray, *, start: int | None, end: int | None, seconds: int) -> float:
    """Guided local search in OR-Tools on metres scaled to centimetres (closed when no end)."""
    pywrapcp = pytest.importorskip("ortools.constraint_solver.pywrapcp")
    routing_enums = pytest.importorskip("ortools.constraint_solver.routing_enums_pb2")
    n = d.shape[0]
    cm = np.rint(d * 100).astype(np.int64)
    s = start or 0
    manager = pywrapcp.RoutingIndexManager(n, 1, [s], [end if end is not None else s])
    routing = pywrapcp.RoutingModel(manager)
    cost = routing.RegisterTransitCallback(
        lambda i, j: int(cm[manager.IndexToNode(i), manager.IndexToNode(j)])
    )
    routing.SetArcCostEvaluatorOfAllVehicles(cost)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.seconds = seconds
    solution = routing.SolveWithParameters(params)
    order, index = [], routing.Start(0)
    while not routing.IsEnd(index):
        order.append(manager.IndexToNode(index))
        index = solution.Value(routing.NextVar(index))
    if end is not None:
        order.append(end)
    return route_length_m(d, order, closed=end is None)


def test_200_stops_closed_within_1pct_of_ortools_and_far_better_than_nearest_neighbour():
    d = matrix(200, np.random.default_rng(200), side_m=3000.0)
    ours = route_length_m(d, plan_route(d, closed=True), closed=True)
    reference = ortools_length(d, start=0, end=None, seconds=2)
    assert ours <= 1.01 * reference
    greedy = route_length_m(d, nearest_neighbour_route(d), closed=True)
    assert ours < 0.9 * greedy


def test_200_stops_open_with_fixed_ends_within_1pct_of_ortools():
    d = matrix(200, np.random.default_rng(201), side_m=3000.0)
    order = plan_route(d, start=7, end=150)
    check_order(order, 200, {"start": 7, "end": 150})
    reference = ortools_length(d, start=7, end=150, seconds=2)
    assert route_length_m(d, order) <= 1.01 * reference
    free = plan_route(d)
    tour = route_length_m(d, plan_route(d, closed=True), closed=True)
    assert route_length_m(d, free) <= tour  # a tour minus a leg is an open walk


# ---------------------------------------------------------------- matrices and reachability


def test_integer_matrix_fits_uint16_and_forces_edges():
    rng = np.random.default_rng(3)
    far = matrix(30, rng, side_m=80_000.0)  # 80 km: fewer than 10 units per metre
    units, scale = integer_matrix(far)
    assert units.max() <= UINT16_MAX and scale < 10 and (units == units.T).all()
    units, scale = integer_matrix(far, forced=[(0, 5)])
    assert units.max() <= UINT16_MAX and units[0, 5] == units[5, 0] == 0
    assert (np.delete(units[0], [0, 5]) > np.rint(far.max() * scale)).all()
    near = matrix(30, rng, side_m=500.0)
    assert integer_matrix(near)[1] == 10.0


def test_bad_matrices_and_arguments_are_refused():
    d = matrix(6, np.random.default_rng(1))
    bad = d.copy()
    bad[0, 1] = np.inf
    for call in (
        lambda: plan_route(bad),
        lambda: plan_route(d[:, :5]),
        lambda: plan_route(-d),
        lambda: plan_route(d, start=6),
        lambda: plan_route(d, closed=True, start=0, end=2),
        lambda: plan_route(d, start=2, end=2),
    ):
        with pytest.raises(ValueError):
            call()
    skew = d.copy()
    skew[0, 1] += 1e-7  # float noise of a network search is averaged away
    assert sorted(plan_route(skew)) == list(range(6))


def test_reachable_mask_keeps_the_anchors_group():
    d = np.full((5, 5), np.inf)
    for group in ([0, 1], [2, 3, 4]):
        d[np.ix_(group, group)] = 1.0
    assert reachable_mask(d).tolist() == [False, False, True, True, True]
    assert reachable_mask(d, [1]).tolist() == [True, True, False, False, False]
    with pytest.raises(ValueError):
        reachable_mask(d, [0, 3])


# ---------------------------------------------------------------- time budget


def test_budget_is_respected_and_heavy_stops_are_preferred():
    # start at the origin; a heavy cluster 600 m east, a light cluster of more stops 600 m west
    east = [(600 + 20 * i, 20 * (i % 2)) for i in range(5)]
    west = [(-600 - 20 * i, 20 * (i % 2)) for i in range(8)]
    xy = np.array([(0.0, 0.0), *east, *west])
    d = cdist(xy, xy)
    weights = np.array([0.0] + [3.0] * 5 + [1.0] * 8)
    service = np.array([0.0] + [3.0] * 13)
    speed = 1.25  # 4.5 km/h
    budget = 40.0  # one cluster and back, not both
    order, chosen = plan_route_with_budget(d, speed, service, budget, weights, start=0, closed=True)
    assert order[0] == 0 and chosen[0]
    assert route_duration_min(d, order, walk_speed_m_s=speed, service_min=service, closed=True) <= budget
    assert chosen[1:6].all() and not chosen[6:].any()


def test_budget_heuristic_is_near_the_exhaustive_optimum():
    """Small instances against every subset walked optimally: never over budget, mostly optimal."""
    rng = np.random.default_rng(77)
    speed, ratios = 1.25, []
    for trial in range(24):
        n = 9
        d = matrix(n, rng, side_m=1500.0)
        kw = [{"start": 0}, {"start": 0, "end": 1}, {"closed": True, "start": 0}, {}][trial % 4]
        fixed = sorted({kw.get("start"), kw.get("end")} - {None})
        weights = rng.integers(1, 6, n).astype(float)
        weights[fixed] = 0.0
        service = np.full(n, 3.0)
        service[fixed] = 0.0
        budget = float(rng.uniform(15, 50))
        closed = kw.get("closed", False)
        order, chosen = plan_route_with_budget(d, speed, service, budget, weights, **kw)
        assert set(order) == set(np.flatnonzero(chosen)) and set(fixed) <= set(order)
        assert (
            route_duration_min(d, order, walk_speed_m_s=speed, service_min=service, closed=closed) <= budget
        )
        best = 0.0
        others = [i for i in range(n) if i not in fixed]
        for r in range(len(others) + 1):
            for subset in itertools.combinations(others, r):
                if weights[list(subset)].sum() <= best:
                    continue
                nodes = fixed + list(subset)
                local = {v: i for i, v in enumerate(nodes)}
                length, _ = held_karp(
                    d[np.ix_(nodes, nodes)],
                    start=local.get(kw.get("start")) if "start" in kw else None,
                    end=local.get(kw.get("end")) if "end" in kw else None,
                    closed=closed,
                )
                if length / speed / 60 + service[nodes].sum() <= budget:
                    best = float(weights[list(subset)].sum())
        ratios.append(weights[chosen].sum() / best if best else 1.0)
    assert min(ratios) >= 0.8 and np.mean(ratios) >= 0.97
    assert sum(r == 1.0 for r in ratios) >= 0.75 * len(ratios)


def test_budget_all_fit_and_too_small():
    d = matrix(12, np.random.default_rng(4), side_m=300.0)
    w = np.ones(12)
    order, chosen = plan_route_with_budget(d, 1.25, 1.0, 1e4, w)
    assert chosen.all() and sorted(order) == list(range(12))
    with pytest.raises(ValueError, match="budget"):
        plan_route_with_budget(d, 1.25, 1.0, 0.5, w, start=0, end=1)


@pytest.mark.parametrize("closed", [False, True])
def test_budget_below_every_stop_gives_an_empty_walk(closed):
    """Without a start or an end nothing is mandatory: when no stop fits, the walk is empty."""
    d = matrix(5, np.random.default_rng(5), side_m=300.0)
    order, chosen = plan_route_with_budget(d, 1.25, 3.0, 0.5, np.ones(5), closed=closed)
    assert order == [] and not chosen.any()
    stops = stops_at((100, 0), (300, 0))
    route = plan_walk(stops, closed=closed, budget_min=0.5)
    assert route.stops == [] and route.length_m == 0.0
    assert [(s.id, why) for s, why in route.dropped] == [("s0", OVER_BUDGET), ("s1", OVER_BUDGET)]


# ---------------------------------------------------------------- walks from stops


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_LL.transform(X0 + x, Y0 + y)
    return float(lon), float(lat)


def stops_at(*xy: tuple[float, float]) -> list[RouteStop]:
    return [RouteStop(f"s{i}", *lonlat(x, y), desc=f"stop {i}") for i, (x, y) in enumerate(xy)]


def test_plan_walk_straight_open_closed_and_budget():
    stops = stops_at((100, 0), (300, 0), (200, 0), (400, 0))
    route = plan_walk(stops, start=lonlat(0, 0), end=lonlat(500, 0))
    assert [s.id for s in route.stops] == ["s0", "s2", "s1", "s3"]
    assert route.length_m == pytest.approx(500.0, abs=0.01)
    assert route.leg_m == pytest.approx([100, 100, 100, 100, 100], abs=0.01)
    assert route.duration_min == pytest.approx(500 / 1.25 / 60 + 4 * 3)
    loop = plan_walk(stops, start=lonlat(0, 0), end=lonlat(0, 0))  # same place: a round trip
    assert loop.closed and loop.end is None and loop.length_m == pytest.approx(800.0, abs=0.01)
    assert len(loop.leg_m) == 5 and loop.path_lonlat[0] == loop.path_lonlat[-1]
    short = plan_walk(stops, start=lonlat(0, 0), budget_min=9.0)  # 2 stops: 200 m walk + 6 min
    assert [s.id for s in short.stops] == ["s0", "s2"] and short.duration_min <= 9.0
    assert {s.id for s, why in short.dropped if why == OVER_BUDGET} == {"s1", "s3"}
    empty = plan_walk([])
    assert empty.stops == [] and empty.length_m == 0.0


def test_plan_walk_on_the_network_drops_unreachable_stops_and_follows_streets():
    # an L of streets, and one street far off on its own
    lines = [[(0, 0), (400, 0)], [(400, 0), (400, 400)], [(1000, 1000), (1200, 1000)]]
    frame = gpd.GeoDataFrame(
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines], crs=GK
    ).to_crs(4326)
    net = build_network(frame)
    stops = stops_at((100, 5), (400, 300), (1100, 1005))
    route = plan_walk(stops, start=lonlat(0, 0), metric="network", network=net)
    assert [s.id for s in route.stops] == ["s0", "s1"]
    assert [(s.id, why) for s, why in route.dropped] == [("s2", UNREACHABLE)]
    # 5 m out to s0 and back, along to the corner, up 300 m
    assert route.length_m == pytest.approx(100 + 5 + 5 + 300 + 300, abs=0.05)
    path = gpd.GeoSeries([LineString(route.path_lonlat)], crs=4326).to_crs(GK).iloc[0]
    assert path.length == pytest.approx(route.length_m, abs=0.05)
    assert Point(X0 + 400, Y0).distance(path) < 0.01  # it turns at the corner
    with pytest.raises(RouteError):
        plan_walk(stops, start=lonlat(0, 0), end=lonlat(1100, 1000), metric="network", network=net)
    with pytest.raises(RouteError):
        plan_walk(stops, metric="network", network=None)


def test_outputs_json_geojson_text():
    stops = stops_at((100, 0), (300, 0))
    route = plan_walk(stops, start=lonlat(0, 0), budget_min=4.0, service_min=2.0)
    data = route_json(route)
    assert set(data) >= {"stops", "length_m", "duration_min"}
    assert [set(s) for s in data["stops"]] == [{"id", "lon", "lat"}]
    assert data["dropped"] == [{"id": "s1", "reason": OVER_BUDGET}]
    features = route_geojson(route)["features"]
    roles = [f["properties"]["role"] for f in features]
    assert roles == ["start", "stop", "path"]
    assert features[1]["properties"]["seq"] == 1 and features[2]["geometry"]["type"] == "LineString"
    text = route_text(route, title="grid 1")
    assert "grid 1" in text and "[s0] stop 0" in text and "left out (1)" in text


# ---------------------------------------------------------------- GPX


def test_gpx_round_trip_and_schema_essentials():
    import xml.etree.ElementTree as ET

    stops = stops_at((100, 0), (300, 0), (200, 50))
    route = plan_walk(stops, start=lonlat(0, 0), closed=True)
    text = route_gpx(route, name="grid 320581107001001")
    root = ET.fromstring(text.encode("utf-8"))
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert root.tag == f"{{{GPX_NS}}}gpx" and root.attrib["version"] == "1.1"
    assert root.attrib["creator"] == "gridmap"
    children = [child.tag.split("}")[1] for child in root]
    assert children == ["metadata", "wpt", "wpt", "wpt", "trk"]  # the order gpx.xsd requires
    wpt = root.find(f"{{{GPX_NS}}}wpt")
    assert set(wpt.attrib) == {"lat", "lon"}
    assert [c.tag.split("}")[1] for c in wpt] == ["name", "desc"]
    waypoints, track = read_gpx(text)
    assert [w.name for w in waypoints] == [f"{n}. #{s.id}" for n, s in enumerate(route.stops, start=1)]
    got = np.array([(w.lon, w.lat) for w in waypoints])
    assert np.abs(got - [(s.lon, s.lat) for s in route.stops]).max() < 1e-7
    assert np.abs(np.array(track) - np.array(route.path_lonlat)).max() < 1e-7
    assert track[0] == track[-1]  # a round trip ends where it starts


def test_gpx_refuses_impossible_coordinates():
    with pytest.raises(ValueError):
        gpx_document([Waypoint("a", 1e308, 31.0)], [])
    with pytest.raises(ValueError):
        gpx_document([], [(120.0, 95.0)])


def test_two_cases_at_one_place_off_the_street_are_no_walk_apart():
    """Cases reported at one spot 20 m from the street: the network's way from one to the other
    would walk to the street and back (40 m) where there is no walk at all, and the drawn path,
    which has no such leg, would then be shorter than the length the walk reports."""
    line = LineString([(X0, Y0), (X0 + 400, Y0)])
    net = build_network(gpd.GeoDataFrame(geometry=[line], crs=GK).to_crs(4326))
    stops = stops_at((100, 20), (100, 20), (300, 0))
    d = stop_distances_m(np.array([[s.lon, s.lat] for s in stops]), metric="network", network=net)
    assert d[0, 1] == 0.0 and d[1, 0] == 0.0
    assert d[0, 2] == pytest.approx(20 + 200, abs=0.05)
    route = plan_walk(stops, start=lonlat(0, 0), metric="network", network=net)
    path = gpd.GeoSeries([LineString(route.path_lonlat)], crs=4326).to_crs(GK).iloc[0]
    assert path.length == pytest.approx(route.length_m, abs=0.05)
