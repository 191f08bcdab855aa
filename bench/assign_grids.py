"""Problems → grids: the raster path (layers.assign.raster) against geopandas sjoin, and one
problem's grid on intake (GridLocator.locate) against a PostGIS point-in-polygon round trip.

Data: bench.scale (1,100 Voronoi grids over 20 × 20 km, 1e6 clustered problems of which 1,000
lie exactly on grid vertices). Both batch paths run in this process on the same points,
interleaved; the figure is the median of the repeats. The answers are asserted identical: for
sjoin, the smallest code among each point's matches (what assign_areas returns).

- ours warm: GridLocator built beforehand (as assign_areas caches it per set of grids);
- ours cold: building the raster included (first call with new grids);
- anchor: geopandas.sjoin(points, grids, predicate="intersects"), raw (ties not yet resolved).
Peak memory: extra resident memory of one run in a fresh process (RSS high-water mark, reset
just before the run, minus the RSS then), so GEOS's own allocations count too.

Intake: GridLocator.locate(lon, lat) per point on 100k problems (all, interior cells, edge
cells), against a shapely STRtree query per point and, when a PostGIS server is reachable
(GRIDMAP_BENCH_PG, default postgis://postgres@127.0.0.1:5432/gridmap_bench_assign; the
database is created and dropped), a ``SELECT code ... WHERE ST_Intersects(geom, point) ORDER BY
code LIMIT 1`` round trip over a GiST index (psycopg2, loopback).

    .venv/bin/python bench/assign_grids.py [--repeats 5] [--no-postgis] [--with-strtree-path]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale import load_scale  # noqa: E402
from layers.assign import GridLocator, assign_areas_strtree  # noqa: E402

PG_URL = os.environ.get("GRIDMAP_BENCH_PG", "postgis://postgres@127.0.0.1:5432/gridmap_bench_assign")
TARGET_BATCH = 5.0
TARGET_INTAKE_US = 20.0


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def _measure_child(which: str) -> None:
    """In a fresh process: load the data, reset the RSS high-water mark, run once, print the peak
    extra resident memory in MB (GEOS's allocations included)."""
    city = load_scale()
    grids, points = city.grids[["code", "geometry"]], city.problems()
    frame = gpd.GeoDataFrame(geometry=points)
    locator = GridLocator(grids) if which == "ours" else None
    runs: dict[str, Callable[[], Any]] = {
        "sjoin": lambda: gpd.sjoin(frame, grids, predicate="intersects", how="left"),
        "ours": lambda: locator.assign(points),  # type: ignore[union-attr]
        "cold": lambda: GridLocator(grids).assign(points),
    }
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # give freed heap back, so reuse of it counts as growth
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)
    start = _status_mb("VmRSS")
    runs[which]()
    print(f"{_status_mb('VmHWM') - start:.1f}")


def peak_extra_mb(which: str) -> float:
    """Peak extra resident memory (MB) of one run of ``which``, measured in a fresh process."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure-memory", which], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def smallest_code(joined: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, n: int) -> np.ndarray:
    """Per point, the smallest code among its sjoin matches (None for no match)."""
    codes = grids["code"].astype(str).to_numpy()
    order = np.argsort(codes, kind="stable")
    rank_of = np.empty(len(codes), dtype=np.int64)
    rank_of[order] = np.arange(len(codes))
    hit = joined["index_right"].notna().to_numpy()
    best = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(
        best, joined.index.to_numpy()[hit], rank_of[joined["index_right"].to_numpy()[hit].astype(np.int64)]
    )
    out = np.full(n, None, dtype=object)
    found = best != np.iinfo(np.int64).max
    out[found] = codes[order][best[found]]
    return out


def batch(city: Any, repeats: int, with_strtree: bool) -> None:
    grids = city.grids[["code", "geometry"]]
    points = city.problems()
    frame = gpd.GeoDataFrame(geometry=points)
    n = len(points)
    print(f"batch: {n:,} problems → {len(grids):,} grids")

    def cold() -> Any:
        return GridLocator(grids).assign(points)

    def sjoin() -> gpd.GeoDataFrame:
        return gpd.sjoin(frame, grids, predicate="intersects", how="left")

    t_build, locator = timed(lambda: GridLocator(grids))
    ours_t, anchor_t, cold_t = [], [], []
    for _ in range(repeats):
        t, joined = timed(sjoin)
        anchor_t.append(t)
        t, ours = timed(lambda: locator.assign(points))
        ours_t.append(t)
        t, _ = timed(cold)
        cold_t.append(t)
    expected = smallest_code(joined, grids, n)
    got = ours.to_numpy()
    outside = np.array([v is None for v in got])
    assert np.array_equal(outside, np.array([v is None for v in expected]))
    assert (got[~outside] == expected[~outside]).all()
    ties = int(joined.index.duplicated().sum())
    print(
        f"  identical assignment: yes ({ties:,} points on shared edges resolved to the smallest code, "
        f"{int(outside.sum()):,} outside every grid)"
    )
    a, w, c = statistics.median(anchor_t), statistics.median(ours_t), statistics.median(cold_t)
    r = locator.raster
    assert r is not None
    share, ms = locator.boundary_share, t_build * 1e3
    print(f"  raster: {r.nx} × {r.ny} cells, {share:.1%} on edges, built in {ms:.0f} ms")
    print(f"  anchor geopandas sjoin      {a * 1e3:8.1f} ms   (median of {repeats})")
    print(f"  ours, raster built before   {w * 1e3:8.1f} ms   {a / w:5.1f}×   target ≥ {TARGET_BATCH:.0f}×")
    print(f"  ours, building it included  {c * 1e3:8.1f} ms   {a / c:5.1f}×")
    if with_strtree:
        t, plain = timed(lambda: assign_areas_strtree(points, grids))
        assert plain.equals(ours)
        print(f"  assign_areas_strtree (the path below the switch) {t * 1e3:8.1f} ms")
    mem_anchor, mem_ours, mem_cold = (peak_extra_mb(w) for w in ("sjoin", "ours", "cold"))
    print(f"  peak extra memory: sjoin {mem_anchor:.0f} MB, ours {mem_ours:.0f} MB (cold {mem_cold:.0f} MB)")


def _postgis(grids: gpd.GeoDataFrame) -> tuple[Any, Callable[[], None]] | None:
    """A cursor on a throwaway PostGIS database holding the grids, and its cleanup; None if no server."""
    try:
        import psycopg2
    except ImportError:
        return None
    url = PG_URL.replace("postgis://", "postgresql://", 1)
    base, name = url.rsplit("/", 1)
    try:
        admin = psycopg2.connect(base + "/postgres", connect_timeout=3)
    except psycopg2.OperationalError as exc:
        print(f"  PostGIS anchor skipped: {str(exc).strip()}")
        return None
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    cur.execute("CREATE TABLE grid (code varchar(15) PRIMARY KEY, geom geometry(Polygon, 4326))")
    rows = [(c, g.wkb) for c, g in zip(grids["code"], grids.geometry, strict=True)]
    cur.executemany("INSERT INTO grid VALUES (%s, ST_GeomFromWKB(%s, 4326))", rows)
    cur.execute("CREATE INDEX ON grid USING gist (geom)")
    cur.execute("ANALYZE grid")

    def cleanup() -> None:
        cur.close()
        conn.close()
        with admin.cursor() as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()

    return cur, cleanup


def intake(city: Any, use_postgis: bool) -> None:
    grids = city.grids[["code", "geometry"]]
    locator = GridLocator(grids)
    xy = city.problem_lonlat[:100_000]
    lons, lats = xy[:, 0].tolist(), xy[:, 1].tolist()
    r = locator.raster
    assert r is not None
    cell = r.cells[
        (np.floor((xy[:, 1] - r.y0) / r.dy) * r.nx + np.floor((xy[:, 0] - r.x0) / r.dx)).astype(np.int64)
    ]
    print(f"intake: one point at a time, {len(lons):,} problems ({(cell < -1).mean():.1%} in edge cells)")
    locate = locator.locate
    results = {}
    for label, idx in (
        ("all", range(len(lons))),
        ("interior cells", np.flatnonzero(cell >= -1)),
        ("edge cells", np.flatnonzero(cell < -1)),
    ):
        a, b = [lons[i] for i in idx], [lats[i] for i in idx]
        t0 = time.perf_counter()
        got = [locate(x, y) for x, y in zip(a, b, strict=True)]
        results[label] = (time.perf_counter() - t0) / len(a) * 1e6
        if label == "all":
            expected = locator.assign(city.problems(len(lons))).tolist()
            assert got == expected
    tree = locator.tree
    sample = list(zip(lons[:20_000], lats[:20_000], strict=True))
    t0 = time.perf_counter()
    for x, y in sample:
        tree.query(shapely.Point(x, y), predicate="intersects")
    strtree_us = (time.perf_counter() - t0) / len(sample) * 1e6
    for label, us in results.items():
        print(f"  GridLocator.locate, {label:<15} {us:7.2f} µs/point   target ≤ {TARGET_INTAKE_US:.0f} µs")
    print(f"  shapely STRtree query per point   {strtree_us:7.2f} µs/point")
    pg = _postgis(grids) if use_postgis else None
    if pg is None:
        return
    cur, cleanup = pg
    try:
        sql = (
            "SELECT code FROM grid WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) "
            "ORDER BY code LIMIT 1"
        )
        sample = list(zip(lons[:5_000], lats[:5_000], strict=True))
        for x, y in sample[:200]:  # warm the plan and the cache
            cur.execute(sql, (x, y))
            cur.fetchone()
        agree = 0
        t0 = time.perf_counter()
        answers = []
        for x, y in sample:
            cur.execute(sql, (x, y))
            row = cur.fetchone()
            answers.append(row[0] if row else None)
        pg_us = (time.perf_counter() - t0) / len(sample) * 1e6
        agree = sum(a == locate(x, y) for a, (x, y) in zip(answers, sample, strict=True))
        print(
            f"  PostGIS round trip (GiST, loopback) {pg_us:7.1f} µs/point   "
            f"{pg_us / results['all']:.0f}× slower than GridLocator; same grid for {agree}/{len(sample)}"
        )
    finally:
        cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-postgis", action="store_true", help="skip the PostGIS intake anchor")
    parser.add_argument("--with-strtree-path", action="store_true", help="also time assign_areas_strtree")
    parser.add_argument("--measure-memory", choices=["sjoin", "ours", "cold"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_memory:
        _measure_child(args.measure_memory)
        return 0
    city = load_scale()
    batch(city, args.repeats, args.with_strtree_path)
    intake(city, not args.no_postgis)
    return 0


if __name__ == "__main__":
    sys.exit(main())
