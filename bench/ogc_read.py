"""A whole-town read of each collection through the OGC API against the same rows through the
REST API's pages, in one run on one server.

Three ways, alternating in rounds, each reading every feature of a layer as an administrator:

- ``OAPIF``: GDAL's OAPIF driver (``ogr2ogr -f GeoJSON /vsistdout/ OAPIF:... <layer>``, page size
  1000 by ``-oo PAGE_SIZE``), the client a GIS user runs; its time includes GDAL's start, the
  landing page, collection and schema requests and writing GeoJSON;
- ``OGC pages``: the ``items`` pages of the OGC API (``limit=1000``) fetched and parsed by
  Python (urllib, orjson), following ``next`` links;
- ``REST pages``: ``/api/v1/<layer>/?page_size=1000`` (the REST API's largest page) the same way,
  following ``next`` links.

The ratios OGC pages / REST pages (the server's cost of the two APIs) and OAPIF / REST pages (what
a GDAL user waits compared with a script on the REST API) are printed per layer and round.

    .venv/bin/python bench/ogc_read.py                         # PostGIS, 3000 problems, 3 rounds
    .venv/bin/python bench/ogc_read.py --problems 10000 --rounds 5

Every collection of the town is read: the layers, ``gaps-hydrant`` and ``hotspots``; the streets
have no REST list, so for them only OAPIF / OGC pages is printed.

The town is ``bench.bench_data``'s (100 grids, problems made through the real services) with
buildings (12 per grid), hydrants (2 in every third grid, so the others are gaps), tactile paving (a
line per grid), car parks (a polygon per grid) and 22 streets added in bulk. A database
``gridmap_bench_ogc`` (GRIDMAP_BENCH_DB) is created on the server of GRIDMAP_BENCH_PG and dropped
at the end; gunicorn (2 gthread workers) listens on a free port of 127.0.0.1 and is stopped at the
end. Requests go to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("GRIDMAP_BENCH_PG", "postgis://postgres@127.0.0.1:5432/gridmap_bench")
os.environ.setdefault("GRIDMAP_BENCH_DB", "gridmap_bench_ogc")
PAGE = 1000
LAYERS = {  # every OGC collection of the town -> the REST list of the same rows (None: REST has none)
    "grids": "/api/v1/grids/",
    "buildings": "/api/v1/buildings/",
    "facilities-point": "/api/v1/facilities/?kind=hydrant",
    "facilities-line": "/api/v1/facilities/?kind=tactile_paving",
    "facilities-polygon": "/api/v1/facilities/?kind=car_park",
    "problems": "/api/v1/problems/",
    "streets": None,
    "gaps-hydrant": "/api/v1/analysis/gaps/?kind=hydrant",
    "hotspots": "/api/v1/analysis/hotspots/",
}


def add_layers(town: dict) -> None:
    """Buildings, hydrants, tactile paving, car parks and streets over the bench town's grids (bulk:
    no service involved), then the hydrants' coverage (what ``gaps-hydrant`` reads)."""
    from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon

    from bench.bench_data import LAT0, LON0, SIDE, STEP
    from gridmap.facilities.models import Facility, FacilityKind
    from gridmap.geography.models import Building, Grid, Street

    kinds = {
        k.code: k for k in FacilityKind.objects.filter(code__in=("hydrant", "tactile_paving", "car_park"))
    }
    buildings, facilities = [], []
    for g in Grid.objects.order_by("pk"):
        x0, y0, _, _ = g.geom.extent
        for i in range(12):
            bx, by = x0 + 0.0002 + (i % 4) * 0.0004, y0 + 0.0002 + (i // 4) * 0.0005
            box = Polygon.from_bbox((bx, by, bx + 0.0002, by + 0.0002))
            buildings.append(Building(geom=MultiPolygon(box, srid=4326), address=f"{g.code}-{i}",
                                      households=10, population=25, grid=g, community=g.community))  # fmt: skip
        for i in range(2 if g.pk % 3 == 0 else 0):  # a third of the grids: the rest are gaps
            facilities.append(Facility(kind=kinds["hydrant"], geom=Point(x0 + 0.0005 + i * 0.001, y0 + 0.001, srid=4326),
                                       name=f"H{g.code[-3:]}-{i}", grid=g))  # fmt: skip
        facilities.append(Facility(kind=kinds["tactile_paving"], name=f"T{g.code[-3:]}", grid=g,
                                   geom=LineString((x0 + 0.0001, y0 + 0.0019), (x0 + 0.0019, y0 + 0.0019), srid=4326)))  # fmt: skip
        facilities.append(Facility(kind=kinds["car_park"], name=f"P{g.code[-3:]}", grid=g,
                                   geom=Polygon.from_bbox((x0 + 0.0016, y0 + 0.0002, x0 + 0.0019, y0 + 0.0006))))  # fmt: skip
    Building.objects.bulk_create(buildings)
    Facility.objects.bulk_create(facilities)
    end = SIDE * STEP
    streets = [Street(geom=LineString((LON0, LAT0 + k * STEP), (LON0 + end, LAT0 + k * STEP), srid=4326),
                      name=f"东西{k}路", highway="residential", length_m=1900.0) for k in range(SIDE + 1)]  # fmt: skip
    streets += [Street(geom=LineString((LON0 + k * STEP, LAT0), (LON0 + k * STEP, LAT0 + end), srid=4326),
                       name=f"南北{k}路", highway="residential", length_m=2200.0) for k in range(SIDE + 1)]  # fmt: skip
    Street.objects.bulk_create(streets)
    from gridmap.analysis.tasks import refresh_coverage

    refresh_coverage(lambda *_, **__: None, kind="hydrant")


def fetch_pages(url: str, token: str) -> int:
    """Follow ``next`` links from ``url``; the number of features read."""
    n = 0
    while url:
        request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
        with urllib.request.urlopen(request, timeout=120) as answer:
            body = orjson.loads(answer.read())
        n += len(body["features"])
        url = next((link["href"] for link in body.get("links", []) if link["rel"] == "next"), "")
    return n


def gdal_read(base: str, layer: str, token: str) -> int:
    cmd = ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", f"OAPIF:{base}/ogc/", layer, "-oo", f"PAGE_SIZE={PAGE}",
           "--config", "GDAL_HTTP_HEADERS", f"Authorization: Token {token}"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, timeout=600, check=True)
    return len(orjson.loads(out.stdout)["features"])


def timed(read) -> tuple[float, int]:
    start = time.perf_counter()
    n = read()
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = PG_URL
    from bench.bench_data import add_problems, build_town, create_database, drop_database, setup_django
    from bench.intake_load import free_port, loadavg, wait_ready

    setup_django()
    from django.db import connection

    name = create_database()
    server = None
    rows: list[tuple[int, str, dict[str, tuple[float, int]], str]] = []
    try:
        town = build_town()
        add_problems(town, args.problems)
        add_layers(town)
        token = town["admin_token"]
        connection.close()
        port = free_port()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.bench_settings", "PYTHONPATH": str(ROOT),
               "DATABASE_URL": PG_URL.rsplit("/", 1)[0] + "/" + name}  # fmt: skip
        cmd = [str(Path(sys.executable).parent / "gunicorn"), "gridmap.wsgi:application", "-w", "2",
               "-b", f"127.0.0.1:{port}", "--worker-class", "gthread", "--threads", "4", "--log-level", "warning"]  # fmt: skip
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/api/v1/-/")
        ways = {
            "OAPIF": lambda layer, rest: gdal_read(base, layer, token),
            "OGC pages": lambda layer, rest: fetch_pages(f"{base}/ogc/collections/{layer}/items?limit={PAGE}", token),
            "REST pages": lambda layer, rest: fetch_pages(f"{base}{rest}{'&' if '?' in rest else '?'}page_size={PAGE}", token),
        }  # fmt: skip
        for layer, rest in LAYERS.items():  # warm-up (first requests, the code books)
            for way, read in ways.items():
                if rest is not None or way != "REST pages":
                    read(layer, rest)
        for round_no in range(1, args.rounds + 1):
            for layer, rest in LAYERS.items():
                got = {way: timed(lambda r=read, a=layer, b=rest: r(a, b)) for way, read in ways.items()
                       if rest is not None or way != "REST pages"}  # fmt: skip
                counts = {n for _, n in got.values()}
                assert len(counts) == 1, f"{layer}: the three reads disagree: {got}"
                rows.append((round_no, layer, got, loadavg()))
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        connection.close()
        drop_database(name)

    print(f"PostGIS, gunicorn 2 gthread workers × 4 threads; pages of {PAGE}; {args.problems} problems")
    print(f"{'round':<6}{'layer':<20}{'features':>9}{'OAPIF s':>9}{'OGC s':>8}{'REST s':>8}"
          f"{'OGC/REST':>10}{'OAPIF/REST':>12}{'OAPIF/OGC':>11}  load")  # fmt: skip
    for round_no, layer, got, load in rows:
        gdal, ogc = got["OAPIF"][0], got["OGC pages"][0]
        rest = got["REST pages"][0] if "REST pages" in got else None
        cells = (f"{rest:>8.3f}{ogc / rest:>10.2f}{gdal / rest:>12.2f}" if rest
                 else f"{'—':>8}{'—':>10}{'—':>12}")  # fmt: skip
        print(
            f"{round_no:<6}{layer:<20}{got['OGC pages'][1]:>9}{gdal:>9.3f}{ogc:>8.3f}{cells}{gdal / ogc:>11.2f}  {load}"
        )
    for layer, rest_url in LAYERS.items():
        mine = [g for _, name_, g, _ in rows if name_ == layer]
        if rest_url is None:
            gdal = statistics.median(g["OAPIF"][0] / g["OGC pages"][0] for g in mine)
            print(f"median {layer}: no REST list; OAPIF (GDAL) {gdal:.2f} × OGC pages")
            continue
        ogc = statistics.median(g["OGC pages"][0] / g["REST pages"][0] for g in mine)
        gdal = statistics.median(g["OAPIF"][0] / g["REST pages"][0] for g in mine)
        print(f"median {layer}: OGC pages {ogc:.2f} × REST pages; OAPIF (GDAL) {gdal:.2f} × REST pages")


if __name__ == "__main__":
    main()
