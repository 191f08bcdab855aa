"""GeoJSON listing: our /api/v1/problems/ against a djangorestframework-gis GeoFeatureModelSerializer
ListAPIView (tests/api/drf_gis_reference.py) over the same rows and feature content.

Both run in-process through Django's test Client (the whole middleware stack, token auth, the
same scoping selector, bbox filter and paging) over a town of exactly N problems, all of them in
one page (page_size = N), in alternating blocks of about 0.1 s each; the figure is the median time per request, shown as
requests per second. Targets (docs PERFORMANCE.md): ≥ 8× the
anchor at 100 features, ≥ 18× at 800.

    .venv/bin/python bench/geojson_listing.py                  # PostGIS and SpatiaLite
    .venv/bin/python bench/geojson_listing.py --backends postgis --seconds 10

PostGIS: a database ``gridmap_bench_listing`` (GRIDMAP_BENCH_DB) is created on the server of
GRIDMAP_BENCH_PG (default postgis://postgres@127.0.0.1:5432/gridmap_bench) and dropped at the end.
SpatiaLite: a temp file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_data import (  # noqa: E402
    add_problems,
    build_town,
    create_database,
    drop_database,
    setup_django,
    town_box,  # noqa: E402
)

PG_URL = os.environ.get("GRIDMAP_BENCH_PG", "postgis://postgres@127.0.0.1:5432/gridmap_bench")
TARGETS = {100: 8.0, 800: 18.0}


def _time(client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.content[:300]
    return elapsed


def _same_rows(client, ours: str, anchor: str, n: int) -> None:
    a = json.loads(client.get(ours).content)["features"]
    b = json.loads(client.get(anchor).content)["features"]
    assert [f["id"] for f in a] == [f["id"] for f in b] and len(a) == n, "the two lists differ"
    assert set(a[0]["properties"]) == set(b[0]["properties"]), "the two feature contents differ"


def measure(sizes: list[int], seconds: float) -> list[dict]:
    from django.test import Client

    town = build_town()
    client = Client(HTTP_AUTHORIZATION=f"Token {town['admin_token']}")
    box = ",".join(f"{v:.6f}" for v in town_box())
    results, made = [], 0
    for n in sorted(sizes):
        add_problems(town, n - made, seed=n)  # the town holds exactly n problems
        made = n
        ours = f"/api/v1/problems/?page_size={n}&bbox={box}"
        anchor = f"/bench/drf-gis/problems/?page_size={n}&in_bbox={box}"
        _same_rows(client, ours, anchor, n)
        for _ in range(5):  # warm up both
            _time(client, ours), _time(client, anchor)
        times_ours, times_anchor = [], []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end or len(times_anchor) < 15:
            # alternate short blocks (~0.1 s of each) so that both see the same machine load
            block = time.perf_counter() + 0.1
            while time.perf_counter() < block:
                times_ours.append(_time(client, ours))
            block = time.perf_counter() + 0.1
            while time.perf_counter() < block:
                times_anchor.append(_time(client, anchor))
        ours_s, anchor_s = statistics.median(times_ours), statistics.median(times_anchor)
        results.append({"n": n, "ours_rps": 1 / ours_s, "anchor_rps": 1 / anchor_s, "ratio": anchor_s / ours_s,
                        "iterations": f"{len(times_ours)}/{len(times_anchor)}"})  # fmt: skip
    return results


def child(backend: str, sizes: list[int], seconds: float) -> None:
    if backend == "postgis":
        os.environ["DATABASE_URL"] = PG_URL
        os.environ.setdefault("GRIDMAP_BENCH_DB", "gridmap_bench_listing")  # not the intake bench's database
    else:
        os.environ["DATABASE_URL"] = "spatialite:///" + str(ROOT / "data" / "bench-unused.sqlite3")
    setup_django()
    name = create_database()
    try:
        print(json.dumps(measure(sizes, seconds)))
    finally:
        drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="postgis,spatialite")
    parser.add_argument("--sizes", default="100,800")
    parser.add_argument("--seconds", type=float, default=6.0, help="time per size and backend")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        child(args.child, sizes, args.seconds)
        return
    print(
        f"{'database':<11}{'features':>9}{'ours req/s':>12}{'drf-gis req/s':>15}{'ratio':>8}{'target':>8}  requests (ours/anchor)"
    )
    for backend in args.backends.split(","):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                backend,
                "--sizes",
                args.sizes,
                "--seconds",
                str(args.seconds),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if out.returncode != 0:
            print(f"{backend}: failed\n{out.stderr[-3000:]}")
            continue
        for r in json.loads(out.stdout.strip().splitlines()[-1]):
            target = TARGETS.get(r["n"])
            mark = "" if target is None else f"≥{target:g}×"
            print(f"{backend:<11}{r['n']:>9}{r['ours_rps']:>12.1f}{r['anchor_rps']:>15.1f}{r['ratio']:>7.1f}×"
                  f"{mark:>8}  {r['iterations']}")  # fmt: skip


if __name__ == "__main__":
    main()
