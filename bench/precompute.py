"""Precomputed coverage: refresh time per kind, the planner's views and the coverage API reading
rows, beside the on-request computation they replace (the anchor: what /planner/ ran on its first
request after a change, ``coverage_run`` + ``coverage_area``).

    # the demo town: a throwaway bench database, load_demo, measure, drop
    DATABASE_URL=postgis://postgres@127.0.0.1:5432/x .venv/bin/python bench/precompute.py --demo
    # the scale city (bench/scale.py) in a database of its own, loaded once with --load
    DATABASE_URL=postgis://postgres@127.0.0.1:5432/gridmap_precompute \\
        .venv/bin/python bench/precompute.py --city --load [--before]

``--before`` also times the on-request anchor (tens of seconds at city scale). The refresh the
stale views ask for is recorded, not run, so it does not load the machine while views are timed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_data import create_database, drop_database, setup_django  # noqa: E402


def timed(fn: Any, repeat: int = 1) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def measure(username: str, *, before: bool, repeat: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.gis.geos import Point
    from django.core.cache import cache
    from django.test import Client

    from gridmap.analysis import coverage_rows
    from gridmap.analysis.coverage import coverage_area, coverage_run
    from gridmap.analysis.models import CoverageSet
    from gridmap.analysis.network_cache import street_network
    from gridmap.analysis.precompute import radius_kinds
    from gridmap.analysis.tasks import refresh_coverage
    from gridmap.facilities.models import Facility

    asked: list[str] = []
    coverage_rows.dispatch = lambda name, **kw: asked.append(name)  # recorded, not run
    user = get_user_model().objects.get(username=username)
    street_network()  # built once, as a long-running worker has it
    CoverageSet.objects.all().delete()
    print("refresh (every town) per kind:")
    for kind in radius_kinds():
        seconds, result = timed(lambda k=kind.code: refresh_coverage(lambda *a, **k: None, kind=k))
        print(
            f"  {kind.code:<14} r={kind.service_radius_m:g} m  {seconds:7.2f} s  ({result['refreshed']} sets)"
        )
    if before:
        t0 = time.perf_counter()
        coverage_run(user=user, kind="hydrant", metric="straight", both_metrics=True)
        coverage_area(user=user, kind="hydrant", metric="straight")
        print(f"anchor: on-request coverage_run + coverage_area (hydrant): {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        coverage_run(user=user, kind="hydrant", metric="straight")
        print(f"  coverage_run straight only (no snapping now): {time.perf_counter() - t0:.2f} s")
    client = Client()
    client.force_login(user)

    def get(url: str) -> tuple[float, int, int]:
        t0 = time.perf_counter()
        response = client.get(url)
        return time.perf_counter() - t0, response.status_code, len(response.content)

    cache.clear()
    print(f"planner page, cold cache: {get('/planner/?kind=hydrant')[0] * 1000:.0f} ms")
    print(f"planner page, warm: {timed(lambda: get('/planner/?kind=hydrant'), repeat)[0] * 1000:.0f} ms")
    hydrant = Facility.objects.filter(kind__code="hydrant").order_by("pk").first()
    Facility.objects.filter(pk=hydrant.pk).update(
        geom=Point(hydrant.geom.x + 0.0002, hydrant.geom.y, srid=4326)
    )
    s, status, _ = get("/planner/?kind=hydrant")
    print(
        f"planner page, first view after a hydrant moved (stale note): {s * 1000:.0f} ms ({status}; refresh asked: {len(asked)})"
    )
    cache.clear()
    s, status, size = get("/planner/map/?kind=hydrant")
    print(f"planner map document, cold cache: {s * 1000:.0f} ms, {size / 1e6:.2f} MB")
    s = timed(lambda: get("/planner/map/?kind=hydrant"), repeat)[0]
    print(f"planner map document, warm: {s * 1000:.0f} ms")
    seconds, result = timed(lambda: refresh_coverage(lambda *a, **k: None))
    print(f"scheduled run after the hydrant moved: {seconds:.2f} s, refreshed {result['refreshed']} sets")
    seconds, result = timed(lambda: refresh_coverage(lambda *a, **k: None))
    print(f"scheduled run with nothing stale: {seconds * 1000:.0f} ms")
    for url in (
        "/api/v1/analysis/coverage/?kind=hydrant",
        "/api/v1/analysis/coverage/?kind=hydrant&page_size=1000",
        "/api/v1/analysis/coverage/?kind=hydrant&page=50&page_size=1000",
        "/api/v1/analysis/coverage/?kind=hydrant&uncovered=1",
        "/api/v1/analysis/gaps/?kind=hydrant",
    ):
        cache.clear()
        cold, status, size = get(url)
        warm = timed(lambda u=url: get(u), repeat)[0]
        print(f"{url}: {status}, cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms, {size / 1e3:.0f} kB")


def load_city() -> None:
    """The scale city into the (empty) database, with fast SQL inserts; then ANALYZE."""
    from bench.precompute_city import load

    load()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--city", action="store_true")
    parser.add_argument("--load", action="store_true", help="load the scale city first (--city)")
    parser.add_argument("--before", action="store_true", help="time the on-request anchor too")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.demo == args.city:
        parser.error("give --demo or --city")
    setup_django()
    if args.demo:
        from django.core.management import call_command

        name = create_database()
        try:
            call_command("load_demo", stdout=open("/dev/null", "w"))
            measure("demo_planner", before=args.before, repeat=args.repeat)
        finally:
            drop_database(name)
        return
    if args.load:
        load_city()
    measure("bench-city-admin", before=args.before, repeat=args.repeat)


if __name__ == "__main__":
    main()
