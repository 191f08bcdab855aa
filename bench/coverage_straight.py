"""Straight-line coverage: 100k building footprints x 500 litter bins in a ~20 x 20 km town.

Ours: layers.coverage.nearest_straight_metric (candidate bins per cell of a square grid, numpy on
the (footprint, bin) pairs, exact GEOS distances for the nearest and any rival). Anchor:
geopandas.sjoin_nearest (shapely STRtree), what a user would pick. Same data, same process,
metres (EPSG:4549); both measure footprint-to-point distance. The result must be identical:
nearest bin (smallest index on ties) and distance. Also timed in the same rounds, as "before":
the same function forced onto its KD-tree path (a KD-tree query per footprint, the method
used until the cells came; it stays as the fallback for facilities much denser than the cells).

    .venv/bin/python bench/coverage_straight.py [--buildings 100000] [--bins 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.timing import interleaved, peak_mib  # noqa: E402
from layers.coverage import nearest_straight_metric  # noqa: E402

CRS = "EPSG:4549"
X0, Y0 = 560_000.0, 3_490_000.0
SIDE_M = 20_000.0


def town(n_buildings: int, n_bins: int, seed: int = 20261124) -> tuple[np.ndarray, np.ndarray]:
    """Footprints clustered around 40 centres (rotated rectangles 6-40 m), bins half along the
    same clusters and half uniform."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(1000, SIDE_M - 1000, (40, 2))
    which = rng.integers(0, 40, n_buildings)
    xy = np.clip(centres[which] + rng.normal(0, 1500, (n_buildings, 2)), 0, SIDE_M)
    w, h = rng.uniform(6, 40, n_buildings), rng.uniform(6, 25, n_buildings)
    theta = rng.uniform(0, np.pi, n_buildings)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], dtype=float) / 2
    local = corners[None, :, :] * np.stack([w, h], axis=1)[:, None, :]
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    rot = np.stack(
        [local[..., 0] * cos - local[..., 1] * sin, local[..., 0] * sin + local[..., 1] * cos], axis=-1
    )
    rings = rot + xy[:, None, :] + [X0, Y0]
    footprints = shapely.polygons(rings)
    half = n_bins // 2
    bins = np.concatenate(
        [
            centres[rng.integers(0, 40, half)] + rng.normal(0, 1500, (half, 2)),
            rng.uniform(0, SIDE_M, (n_bins - half, 2)),
        ]
    ) + [X0, Y0]
    return footprints, bins


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--bins", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    footprints, bins_xy = town(args.buildings, args.bins)
    houses = gpd.GeoDataFrame(geometry=footprints, crs=CRS)
    bins = gpd.GeoDataFrame({"bin": np.arange(len(bins_xy))}, geometry=shapely.points(bins_xy), crs=CRS)

    def ours() -> tuple[np.ndarray, np.ndarray]:
        return nearest_straight_metric(footprints, bins_xy)

    def anchor() -> gpd.GeoDataFrame:
        return gpd.sjoin_nearest(houses, bins, distance_col="distance_m")

    def before() -> tuple[np.ndarray, np.ndarray]:
        return nearest_straight_metric(footprints, bins_xy, cells=False)

    ours(), anchor(), before()  # warm up (imports, allocator)
    (t_ours, (idx, dist)), (t_anchor, joined), (t_before, (idx_kd, dist_kd)) = interleaved(
        [ours, anchor, before], args.repeat
    )

    first = joined.reset_index().sort_values(["index", "distance_m", "bin"]).drop_duplicates("index")
    same_ids = bool((first["bin"].to_numpy() == idx).all())
    max_diff = float(np.abs(first["distance_m"].to_numpy() - dist).max())
    ties = len(joined) - len(houses)
    same_before = bool((idx_kd == idx).all() and (dist_kd == dist).all())

    mem_ours, mem_anchor = peak_mib(ours), peak_mib(anchor)
    print(
        f"straight-line coverage: {args.buildings:,} footprints x {args.bins} bins, {SIDE_M / 1000:.0f} km square"
    )
    print(
        f"  ours   nearest_straight_metric (cells + exact)   {t_ours * 1000:8.1f} ms   peak {mem_ours:6.1f} MiB"
    )
    print(f"  before the same, KD-tree per footprint          {t_before * 1000:8.1f} ms")
    print(
        f"  anchor geopandas.sjoin_nearest                {t_anchor * 1000:8.1f} ms   peak {mem_anchor:6.1f} MiB"
    )
    print(
        f"  ratio  {t_ours / t_anchor:.3f} of the anchor's time ({t_anchor / t_ours:.1f}x faster); target <= 0.2"
    )
    print(
        f"  before {t_before / t_anchor:.3f} of the anchor's time (KD-tree path; same answer: {same_before})"
    )
    print(f"  identical nearest ids: {same_ids}; max distance difference {max_diff:.3g} m; sjoin ties {ties}")
    load = os.getloadavg()[0]
    print(
        f"  (best of {args.repeat} interleaved runs; load average {load:.1f}; peak = allocations traced by tracemalloc)"
    )
    if not same_ids or max_diff > 1e-9 or not same_before:
        raise SystemExit("results differ from the anchor")


if __name__ == "__main__":
    main()
