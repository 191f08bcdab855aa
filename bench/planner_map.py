"""The planner's city-wide map on the demo town: page size and build time against one HTML file
that embeds every layer, and the cost of the on-request parts (bbox lists, siting).

Ours: ``GET /planner/map/`` (grids as a choropleth, uncovered area; buildings, facilities and
problems bbox-loaded later) with the analysis cache cleared before each request, so the figure
includes the coverage run. Anchor: what one would write without bbox loading: a folium map with
one ``folium.GeoJson`` each for the grids, every building, every facility and every problem (the
same rows the planner can see). Both in one process, interleaved (best of ``--repeat``).

    .venv/bin/python bench/planner_map.py                      # SpatiaLite temp database
    DATABASE_URL=postgis://postgres@127.0.0.1:5432/x .venv/bin/python bench/planner_map.py

The bench database is created, loaded with ``load_demo`` and dropped at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_data import create_database, drop_database, setup_django  # noqa: E402
from bench.timing import interleaved  # noqa: E402


def anchor_html(user) -> str:
    import folium

    from gridmap.core.gdf import to_gdf
    from gridmap.facilities.selectors import facilities_visible_to
    from gridmap.geography.selectors import buildings_visible_to, grids_visible_to
    from gridmap.problems.selectors import problems_visible_to

    grids = to_gdf(grids_visible_to(user), ["code", "name"])
    layers = {
        "grids": grids,
        "buildings": to_gdf(buildings_visible_to(user), ["id", "address", "use", "population"]),
        "facilities": to_gdf(facilities_visible_to(user), ["id", "name", "condition"]),
        "problems": to_gdf(problems_visible_to(user), ["id", "status", "description"]),
    }
    b = grids.total_bounds
    m = folium.Map(tiles=None, prefer_canvas=True)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    for name, frame in layers.items():
        folium.GeoJson(frame, name=name).add_to(m)
    folium.LayerControl().add_to(m)
    return m.get_root().render()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    name = create_database()
    try:
        run(args.repeat)
    finally:
        drop_database(name)


def run(repeat: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from gridmap.analysis.coverage import cli_user
    from gridmap.analysis.siting import sites_suggest
    from gridmap.geography.models import Building, Community
    from gridmap.maps.planner_data import radius_kinds

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    user = get_user_model().objects.get(username="demo_planner")
    client = Client()
    client.force_login(user)
    print(f"backend: {connection.vendor}; buildings {Building.objects.count()}")

    def ours() -> bytes:
        cache.clear()
        response = client.get("/planner/map/?kind=refuse_point")
        assert response.status_code == 200
        return response.content

    ours()  # warm: street network, code books
    (t_ours, html_ours), (t_anchor, html_anchor) = interleaved([ours, lambda: anchor_html(user)], repeat)
    page = client.get("/planner/?kind=refuse_point").content
    kb_ours, kb_anchor = len(html_ours) / 1024, len(html_anchor.encode()) / 1024
    print(f"planner page (panel + frame): {len(page) / 1024:.1f} KiB")
    print(f"map document  ours {kb_ours:8.1f} KiB  {t_ours * 1000:7.0f} ms (coverage and gaps computed)")
    print(f"              all embedded {kb_anchor:8.1f} KiB  {t_anchor * 1000:7.0f} ms")
    print(f"              ratio: {kb_ours / kb_anchor:.3f} of the HTML, {t_ours / t_anchor:.2f} of the time")
    t0 = time.perf_counter()
    client.get("/planner/map/?kind=refuse_point")
    print(f"map document from the cache: {(time.perf_counter() - t0) * 1000:.0f} ms")

    view = "120.8664,31.6170,120.8769,31.6236"  # a zoom-17 view of the demo town centre
    for layer in ("buildings", "facilities", "problems"):
        t0 = time.perf_counter()
        response = client.get(f"/api/v1/{layer}/?bbox={view}&page_size=1000")
        ms = (time.perf_counter() - t0) * 1000
        print(f"bbox list {layer:10s} {response.json()['numberMatched']:5d} rows  {ms:6.0f} ms")

    admin = cli_user()
    for kind in radius_kinds():
        for community in Community.objects.order_by("code"):
            t0 = time.perf_counter()
            result = sites_suggest(user=admin, kind=kind.code, community=community.code, time_limit_s=20)
            ms = (time.perf_counter() - t0) * 1000
            print(f"siting {kind.code:14s} {community.code}  {len(result.sites):3d} sites  {ms:6.0f} ms")


if __name__ == "__main__":
    main()
