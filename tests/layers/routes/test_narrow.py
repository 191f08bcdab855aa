"""Tests of layers.routes.narrow and layers.network.walk_legs (no database).

The batched legs are held equal to the one-search-per-leg ``shortest_path_through`` and to
``network_distance_matrix`` on the same jittered street lattice; the narrowed plan is held to
its promises: only stops the budget reaches, heavier ones first, the budget kept with legs
measured exactly along the streets.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely.geometry import LineString, Point

from layers.network import build_network, network_distance_matrix, shortest_path_through, walk_legs
from layers.routes import (
    MAX_CANDIDATES,
    RouteStop,
    candidate_cap,
    narrow_stops,
    plan_narrowed_walk,
    plan_street_walk,
    reach_from,
)
from layers.routes import narrow as narrow_module

GK = pyproj.CRS.from_epsg(4549)
X0, Y0 = 580_000.0, 3_500_000.0
TO_LL = pyproj.Transformer.from_crs(GK, 4326, always_xy=True)


def lattice(n: int = 12, step_m: float = 100.0, seed: int = 3) -> gpd.GeoDataFrame:
    """A jittered n x n street lattice (metres from X0, Y0), as EPSG:4326."""
    rng = np.random.default_rng(seed)
    xy = np.stack(np.meshgrid(np.arange(n) * step_m, np.arange(n) * step_m), axis=-1)
    xy = xy + rng.normal(0, step_m * 0.1, xy.shape)
    lines = [LineString([xy[i, j], xy[i, j + 1]]) for i in range(n) for j in range(n - 1)]
    lines += [LineString([xy[i, j], xy[i + 1, j]]) for i in range(n - 1) for j in range(n)]
    frame = gpd.GeoDataFrame(geometry=[LineString(np.asarray(g.coords) + (X0, Y0)) for g in lines], crs=GK)
    return frame.to_crs(4326)


def lonlat_of(xy: np.ndarray) -> np.ndarray:
    lon, lat = TO_LL.transform(X0 + xy[:, 0], Y0 + xy[:, 1])
    return np.column_stack([lon, lat])


@pytest.fixture(scope="module")
def net():
    return build_network(lattice())


def test_walk_legs_equal_one_search_per_leg(net):
    rng = np.random.default_rng(7)
    places = lonlat_of(rng.uniform(-30, 1130, (25, 2)))
    series = gpd.GeoSeries([Point(p) for p in places], crs=4326)
    legs = walk_legs(net, series)
    full = network_distance_matrix(net, series, series)
    assert len(legs) == 24
    for i, leg in enumerate(legs):
        reference = shortest_path_through(net, series.iloc[i : i + 2])
        assert leg is not None
        assert leg.length_m == pytest.approx(full[i, i + 1], abs=1e-6)
        assert np.allclose(np.asarray(leg.coords), np.asarray(reference.coords), atol=1e-9)
        metres = gpd.GeoSeries([LineString(leg.coords)], crs=4326).to_crs(GK).iloc[0].length
        assert metres == pytest.approx(leg.length_m, abs=0.01)


def test_walk_legs_limit_cuts_longer_legs_only(net):
    places = gpd.GeoSeries([Point(p) for p in lonlat_of(np.array([[0, 0], [50, 0], [1000, 1000]]))], crs=4326)
    exact = [leg.length_m for leg in walk_legs(net, places)]
    cut = walk_legs(net, places, limit_m=np.array([exact[0] + 1, exact[1] - 1]))
    assert cut[0] is not None and cut[0].length_m == pytest.approx(exact[0])
    assert cut[1] is None


def test_candidate_cap():
    assert candidate_cap(None, 3.0) == MAX_CANDIDATES
    assert candidate_cap(30.0, 3.0) == 20
    assert candidate_cap(240.0, 0.0) == MAX_CANDIDATES
    assert candidate_cap(10_000.0, 3.0) == MAX_CANDIDATES


def test_narrowing_keeps_reachable_stops_heaviest_then_nearest():
    reach = np.array([100.0, 5000.0, 200.0, 50.0, 300.0, 900.0])
    weights = np.array([1.0, 3.0, 3.0, 2.0, 3.0, 1.0])
    # 10 min at 4.5 km/h with 3 min a stop: 7 min of walking, 525 m
    best, within = narrow_stops(reach, weights, budget_min=10.0, speed_kmh=4.5, service_min=3.0)
    assert within == 4 and list(best) == [2, 4, 3, 0]
    everything, within_all = narrow_stops(reach, weights, budget_min=None, speed_kmh=4.5, service_min=3.0)
    assert within_all == 6 and list(everything) == [2, 4, 1, 3, 0, 5]


def test_reach_from_uses_the_streets_and_straight_lines_where_none_join(net):
    places = lonlat_of(np.array([[0.0, 0.0], [500.0, 500.0]]))
    reach, on = reach_from(tuple(places[0]), places, net)
    full = network_distance_matrix(
        net, gpd.GeoSeries([Point(places[0])], crs=4326), gpd.GeoSeries([Point(p) for p in places], crs=4326)
    )[0]
    assert on.all() and reach == pytest.approx(full)
    straight, off = reach_from(tuple(places[0]), places, None)
    assert not off.any() and straight[1] == pytest.approx(np.hypot(500, 500), rel=1e-3)


def many_stops(n: int, seed: int = 11) -> tuple[list[RouteStop], np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1100, (n, 2))
    ll = lonlat_of(xy)
    weights = rng.choice([1.0, 2.0, 3.0], n)
    return [
        RouteStop(i, float(x), float(y), weight=float(w))
        for i, ((x, y), w) in enumerate(zip(ll, weights, strict=True))
    ], xy


@pytest.mark.parametrize("budget", [20.0, 60.0])
def test_narrowed_plan_keeps_the_budget_and_prefers_heavier_stops(net, budget):
    stops, _ = many_stops(3000)  # more than any matrix over all of them should see
    start = tuple(lonlat_of(np.array([[550.0, 550.0]]))[0])
    ll = np.array([[s.lon, s.lat] for s in stops])
    weights = np.array([s.weight for s in stops])
    reach, on = reach_from(start, ll, net)
    best, within = narrow_stops(reach, weights, budget_min=budget, speed_kmh=4.5, service_min=3.0)
    assert len(best) == candidate_cap(budget, 3.0) < within
    chosen = [stops[i] for i in best]
    walk = plan_narrowed_walk(
        chosen, start=start, origin_m=reach[best], origin_on_streets=on[best], network=net, budget_min=budget
    )
    assert 0 < len(walk.order) and walk.duration_min <= budget + 1e-6
    taken = np.array([chosen[i].weight for i in walk.order])
    assert taken.mean() > weights.mean()  # the heaviest go first
    assert all(leg.on_streets for leg in walk.legs)
    # the legs are exact walks along the streets, drawn as measured
    path = gpd.GeoSeries([LineString(walk.path_lonlat)], crs=4326).to_crs(GK).iloc[0]
    assert path.length == pytest.approx(walk.length_m, abs=0.05)
    places = gpd.GeoSeries(
        [Point(start)] + [Point(chosen[i].lon, chosen[i].lat) for i in walk.order], crs=4326
    )
    exact = network_distance_matrix(net, places, places)
    assert [leg.length_m for leg in walk.legs] == pytest.approx(
        [exact[i, i + 1] for i in range(len(walk.order))]
    )


def test_far_pairs_are_bounded_through_the_origin_and_the_plan_equals_the_unbounded_one(net, monkeypatch):
    stops, _ = many_stops(40, seed=5)
    start = tuple(lonlat_of(np.array([[0.0, 0.0]]))[0])
    ll = np.array([[s.lon, s.lat] for s in stops])
    reach, on = reach_from(start, ll, net)
    reference = plan_street_walk(stops, start=start, network=net)
    ours = plan_narrowed_walk(stops, start=start, origin_m=reach, origin_on_streets=on, network=net)
    assert sorted(ours.order) == sorted(reference.order) == list(range(40))
    assert ours.length_m <= reference.length_m * 1.05
    monkeypatch.setattr(narrow_module, "LEG_SEARCH_M", 150.0)  # most pairs through the origin now
    bounded = plan_narrowed_walk(stops, start=start, origin_m=reach, origin_on_streets=on, network=net)
    assert sorted(bounded.order) == list(range(40))
    places = gpd.GeoSeries(
        [Point(start)] + [Point(stops[i].lon, stops[i].lat) for i in bounded.order], crs=4326
    )
    exact = network_distance_matrix(net, places, places)
    # legs are still measured exactly, whatever bound planned them
    assert [leg.length_m for leg in bounded.legs] == pytest.approx([exact[i, i + 1] for i in range(40)])


def test_without_a_network_every_leg_is_straight():
    stops, xy = many_stops(30)
    reach, on = reach_from((stops[0].lon, stops[0].lat), np.array([[s.lon, s.lat] for s in stops]), None)
    walk = plan_narrowed_walk(
        stops, start=None, origin_m=reach, origin_on_streets=on, network=None, budget_min=30.0
    )
    assert walk.order and not walk.network and walk.duration_min <= 30.0 + 1e-6
    assert all(leg is None or not leg.on_streets for leg in walk.legs)
    assert walk.legs[0] is None  # no start: the walk begins at its first stop
    assert (
        plan_narrowed_walk(
            [], start=None, origin_m=np.zeros(0), origin_on_streets=np.zeros(0, bool), network=None
        ).order
        == []
    )
