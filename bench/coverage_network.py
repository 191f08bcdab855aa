"""Walking-distance coverage on a ~48k-node street graph: distance from every node to its
nearest of 500 facilities.

Ours: layers.network.nearest_by_network_snapped — one scipy.sparse.csgraph Dijkstra with
``min_only=True`` from virtual facility nodes, then each origin through the ends of its edge.
Anchor: networkx.multi_source_dijkstra (and its lighter _path_length variant) on the same
noded edges. Same graph (a jittered 220 x 220 lattice, ~90 m blocks, 8 % of the edges
removed, built with layers.network.build_network from EPSG:4326 lines), same facilities (500
random nodes), same process. Distances must be identical (to 1e-6 m). The full API call with
snapping of 48k origin points is reported too.

    .venv/bin/python bench/coverage_network.py [--side 220] [--facilities 500] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.timing import interleaved, peak_mib  # noqa: E402
from layers.network import StreetNetwork, build_network, nearest_by_network, nearest_by_network_snapped, snap  # noqa: E402

X0, Y0 = 560_000.0, 3_490_000.0


def lattice(side: int, step_m: float, drop: float, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), axis=-1) * step_m
    xy = xy + rng.uniform(-0.25, 0.25, xy.shape) * step_m + [X0, Y0]
    a = np.concatenate([xy[:-1, :, :].reshape(-1, 2), xy[:, :-1, :].reshape(-1, 2)])
    b = np.concatenate([xy[1:, :, :].reshape(-1, 2), xy[:, 1:, :].reshape(-1, 2)])
    keep = rng.random(len(a)) > drop
    lines = shapely.linestrings(np.stack([a[keep], b[keep]], axis=1))
    return gpd.GeoDataFrame(geometry=lines, crs="EPSG:4549").to_crs(4326)


def nx_graph(net: StreetNetwork) -> nx.Graph:
    graph = nx.Graph()
    for u, v, w in zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length_m.tolist(), strict=True):
        if u != v and not (graph.has_edge(u, v) and graph[u][v]["weight"] <= w):
            graph.add_edge(u, v, weight=w)
    return graph


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--side", type=int, default=220)
    parser.add_argument("--facilities", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    t0 = time.perf_counter()
    streets = lattice(args.side, 90.0, 0.08, 20261124)
    net = build_network(streets)
    t_build = time.perf_counter() - t0
    graph = nx_graph(net)
    rng = np.random.default_rng(7)
    sources = rng.choice(net.n_nodes, args.facilities, replace=False)
    node_points = gpd.GeoSeries(shapely.points(net.node_xy), crs=net.crs).to_crs(4326)
    origins, facilities = snap(net, node_points), snap(net, node_points.iloc[sources])
    src_list = sources.tolist()

    def ours() -> tuple[np.ndarray, np.ndarray]:
        return nearest_by_network_snapped(net, origins, facilities)

    def anchor() -> Any:
        return nx.multi_source_dijkstra(graph, src_list, weight="weight")

    def anchor_lengths() -> Any:
        return nx.multi_source_dijkstra_path_length(graph, src_list, weight="weight")

    def ours_full() -> tuple[np.ndarray, np.ndarray]:
        return nearest_by_network(net, node_points, node_points.iloc[sources])

    timed = interleaved([ours, anchor, anchor_lengths], args.repeat)
    (t_ours, (idx, dist)), (t_anchor, (nx_dist, nx_paths)), (t_lengths, _) = timed
    t_full, _ = interleaved([ours_full], max(2, args.repeat // 2))[0]

    expected = np.array([nx_dist.get(i, np.inf) for i in range(net.n_nodes)])
    reach = np.isfinite(expected)
    same_reach = bool((np.isfinite(dist) == reach).all())
    max_diff = float(np.abs(dist[reach] - expected[reach]).max())
    nx_source = np.array([nx_paths[i][0] if i in nx_paths else -1 for i in range(net.n_nodes)])
    # where two facilities are equally near either answer is right; count real disagreements
    differ = (sources[np.maximum(idx, 0)] != nx_source) & reach
    mem_ours, mem_anchor = peak_mib(ours), peak_mib(anchor)

    print(
        f"walking-distance coverage: {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
        f"{args.facilities} facilities (network built in {t_build:.2f} s)"
    )
    print(
        f"  ours   scipy multi-source Dijkstra (min_only)   {t_ours * 1000:8.1f} ms   peak {mem_ours:6.1f} MiB"
    )
    print(
        f"  anchor networkx multi_source_dijkstra          {t_anchor * 1000:8.1f} ms   peak {mem_anchor:6.1f} MiB"
    )
    print(f"  anchor networkx multi_source_dijkstra_path_length {t_lengths * 1000:5.1f} ms")
    print(
        f"  ratio  {t_anchor / t_ours:.1f}x faster than multi_source_dijkstra, "
        f"{t_lengths / t_ours:.1f}x than _path_length; target >= 20x"
    )
    print(
        f"  identical distances: reach {same_reach}, max difference {max_diff:.3g} m; nearest differs {differ.sum()}"
    )
    print(f"  full API with snapping of {net.n_nodes:,} origin points: {t_full * 1000:.1f} ms")
    print(f"  (best of {args.repeat} interleaved runs; load average {os.getloadavg()[0]:.1f})")
    if not same_reach or max_diff > 1e-6:
        raise SystemExit("distances differ from networkx")


if __name__ == "__main__":
    main()
