"""The leader map of the largest demo grid: our build against a naive folium build of the same content.

    .venv/bin/python bench/grid_map.py                 # loads the demo town into a temporary SpatiaLite file
    .venv/bin/python bench/grid_map.py --db /tmp/demo.sqlite3 --community

Prints, for both builds, the median build time (map object + rendered HTML) and the HTML size,
their ratios (targets: ≤ 1/10 of the time, ≤ 1/3 of the HTML), then opens our page in headless
Chromium (every non-local request blocked) and prints ``window.gridmap.scriptMs`` (target ≤ 300 ms).
The naive build (PERFORMANCE.md's anchor): one folium ``Marker`` (points) or ``GeoJson`` (shapes) per object, with a
``Popup`` of the same fields, layers in ``FeatureGroup``s, a ``HeatMap`` and a layer control.
"""

from __future__ import annotations

import argparse
import html
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup(db: Path | None) -> None:
    path = db or Path(tempfile.gettempdir()) / "gridmap_bench_map.sqlite3"
    os.environ["DATABASE_URL"] = f"spatialite:///{path}"
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
    import django
    from django.core.management import call_command

    django.setup()
    from gridmap.geography.models import Grid

    call_command("migrate", verbosity=0)
    if not Grid.objects.exists():
        call_command("load_demo", verbosity=0)


def naive_map(layers: dict, kinds: dict) -> str:
    import folium
    from folium.plugins import HeatMap

    from layers.maps import PROBLEM_FIELDS

    bounds = layers["boundary"].total_bounds
    m = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=17)

    def popup(row, fields) -> folium.Popup:
        text = "<br>".join(f"{label}: {html.escape(str(row[c]))}" for c, label in fields.items() if c in row)
        return folium.Popup(text, max_width=360)

    def add(frame, name, fields, color="#3388ff") -> None:  # one folium object per row
        group = folium.FeatureGroup(name=name).add_to(m)
        for _, row in frame.iterrows():
            geom = row.geometry
            if geom.geom_type == "Point":
                folium.CircleMarker([geom.y, geom.x], radius=6, color=color, popup=popup(row, fields)).add_to(
                    group
                )
            else:
                folium.GeoJson(geom.__geo_interface__, style_function=lambda _f, c=color: {"color": c},
                               popup=popup(row, fields)).add_to(group)  # fmt: skip

    add(layers["boundary"], "boundary", {"code": "code", "name": "name"})
    add(layers["buildings"], "buildings", {"address": "地址", "households": "户数"})
    for kind, part in layers["facilities"].groupby("kind"):
        add(part, kinds.get(kind, {}).get("name", kind), {"name": "名称", "condition": "状况"})
    add(layers["problems"], "problems", PROBLEM_FIELDS)
    add(layers["hotspots"], "hotspots", {"hotspot": "hotspot", "count": "count"})
    add(layers["coverage_gaps"], "gaps", {"kind": "kind", "uncovered_m2": "m2"})
    add(layers["uncovered_buildings"], "uncovered", {"kind": "kind", "address": "地址"})
    add(layers["negative_list"], "negative", PROBLEM_FIELDS)
    heat = layers["heat"]
    HeatMap(list(zip(heat.geometry.y, heat.geometry.x, strict=True)), name="heat").add_to(m)
    folium.LayerControl().add_to(m)
    return m.get_root().render()


def median_ms(fn, repeat: int) -> tuple[float, str]:
    out, times = "", []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def script_ms(page_html: str) -> float:
    """Serve the page beside the vendored assets and read gridmap.scriptMs in headless Chromium."""
    import functools
    import http.server
    import shutil
    import threading

    from playwright.sync_api import sync_playwright

    from layers.maps import REPO_VENDOR_DIR

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "map.html").write_text(page_html, encoding="utf-8")
        shutil.copytree(REPO_VENDOR_DIR, root / "static" / "vendor")

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

        handler = functools.partial(Quiet, directory=folder)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1024, "height": 768})
                page.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
                runs = []
                for _ in range(3):
                    page.goto(f"http://127.0.0.1:{server.server_address[1]}/map.html")
                    page.wait_for_function("() => window.gridmap && window.gridmap.ready === true")
                    runs.append(page.evaluate("() => gridmap.scriptMs"))
                browser.close()
        finally:
            server.shutdown()
        return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="a SpatiaLite file (the demo town is loaded if empty)")
    parser.add_argument("--community", action="store_true", help="also the largest community's map")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    setup(args.db)
    from django.db.models import Count

    from gridmap.geography.models import Community, Grid
    from gridmap.maps.builders import status_styles
    from gridmap.maps.selectors import area_layers, facility_kinds
    from layers.maps import MapAssets, grid_map

    grids = Grid.objects.annotate(
        n=Count("buildings", distinct=True)
        + Count("problems", distinct=True)
        + Count("facilities", distinct=True)
    ).order_by("-n")
    scopes = [(f"grid {grids[0].code} (largest)", [grids[0]])]
    if args.community:
        c = Community.objects.annotate(n=Count("problems")).order_by("-n").first()
        scopes.append((f"community {c.code}", list(Grid.objects.filter(community=c))))
    kinds, statuses = facility_kinds(), status_styles()
    for label, scope in scopes:
        t = time.perf_counter()
        layers = area_layers(scope)  # the first call computes the analyses, later ones hit the cache
        first = (time.perf_counter() - t) * 1000
        cached, _ = median_ms(lambda s=scope: area_layers(s), 3)
        objects = {k: len(v) for k, v in layers.items()}

        def ours(layers=layers) -> str:
            return grid_map(**layers, kinds=kinds, assets=MapAssets(), tiles=None,
                            statuses=statuses).get_root().render()  # fmt: skip

        ours_ms, ours_html = median_ms(ours, args.repeat)
        naive_ms, naive_html = median_ms(
            lambda layers=layers: naive_map(layers, kinds), max(3, args.repeat // 2)
        )
        print(f"{label}: {objects}")
        print(f"  data + analyses: {first:.0f} ms first, {cached:.0f} ms cached")
        print(
            f"  build  ours {ours_ms:8.1f} ms   naive folium {naive_ms:8.1f} ms   ratio {ours_ms / naive_ms:.3f}"
        )
        ours_kb, naive_kb = len(ours_html.encode()) / 1024, len(naive_html.encode()) / 1024
        print(
            f"  HTML   ours {ours_kb:8.1f} KB   naive folium {naive_kb:8.1f} KB   ratio {ours_kb / naive_kb:.3f}"
        )
        print(f"  browser: window.gridmap.scriptMs = {script_ms(ours_html):.1f} ms (median of 3)")


if __name__ == "__main__":
    main()
