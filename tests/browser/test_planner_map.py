"""The planner page served by Django, in Debian's Chromium with every non-local request blocked:
choropleths hold one feature per grid in scope, bbox-loaded layers hold what the database has in
the view's box, siting runs on request, and a click on a grid leads to its page."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString, Point, Polygon
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Grid, Street
from gridmap.maps.planner_data import period_start
from gridmap.problems.models import EventCategory, Problem, Status
from tests.analysis.coverage_helpers import refresh_now
from tests.factories import LAT0, LON0, box, grid, region_tree, user

# Playwright's sync API keeps an event loop in this thread; the test's own database calls are
# synchronous and safe here (Django's documented switch for this case).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
W = 0.002  # grid width in degrees (~190 m)


@pytest.fixture
def town(catalogues):
    c1, c2 = region_tree(n=2)
    grids = [
        grid(c, i + 1, (LON0 + j * W, LAT0, LON0 + (j + 1) * W, LAT0 + W))
        for j, (c, i) in enumerate([(c1, 0), (c1, 1), (c2, 0), (c2, 1)])
    ]
    hydrant = FacilityKind.objects.get(code="hydrant")
    bin_kind = FacilityKind.objects.get(code="litter_bin")
    cat = EventCategory.objects.get(code="0301")
    for g in grids[:3]:  # the last grid stays empty: a click there hits the grid itself
        x0, y0 = g.geom.extent[:2]
        for i in range(6):
            x, y = x0 + 0.0002 + i * 0.0003, y0 + 0.0003 + (i % 2) * 0.0008
            Building.objects.create(
                geom=box(x, y, x + 0.0001, y + 0.0001), grid=g, community=g.community,
                population=10 * i, use="residential", address=f"<b>{i}</b>号",
            )  # fmt: skip
            Problem.objects.create(
                geom=Point(x + 0.00005, y + 0.0006), grid=g, community=g.community, category=cat,
                status=[Status.REPORTED, Status.CLOSED, Status.REJECTED][i % 3],
                reported_at=timezone.now() - timedelta(days=100 * i), description=f"<img src=x>{i}",
            )  # fmt: skip
        Facility.objects.create(kind=hydrant, geom=Point(x0 + 0.0004, y0 + 0.0004))
        Facility.objects.create(kind=bin_kind, geom=Point(x0 + 0.001, y0 + 0.0002))
    for k in range(3):  # streets for the siting candidates
        y = LAT0 + 0.0005 * (k + 1)
        Street.objects.create(
            geom=LineString((LON0, y), (LON0 + 4 * W, y)), name=f"路{k}", highway="residential"
        )
    refresh_now()  # the planner reads the stored coverage sets
    return c1, c2


def login(bp, live_server, username):
    # English texts (the tests find layer-control entries by their names)
    bp.page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
    )
    bp.page.goto(f"{live_server.url}/login/")
    bp.page.fill("input[name=username]", username)
    bp.page.fill("input[name=password]", "pw-for-tests-only")
    bp.page.press("input[name=password]", "Enter")
    bp.page.wait_for_url(lambda url: "/login/" not in url)


def open_map(bp, live_server, query="kind=hydrant"):
    bp.page.goto(f"{live_server.url}/planner/?{query}")
    bp.page.frame_locator("#planner-map").locator(".leaflet-container").wait_for()
    frame = next(f for f in bp.page.frames if "/planner/map/" in f.url)
    frame.wait_for_function("() => window.gridmap && window.gridmap.ready === true", timeout=20_000)
    return frame


def counts(frame):
    return frame.evaluate(
        "() => Object.fromEntries(Object.keys(gridmap.layers).map(k => [k, gridmap.count(k)]))"
    )


def settle(frame):
    """Wait until every bbox layer on the map has loaded the current view."""
    frame.wait_for_function(
        """() => gridmap.bboxIdle() && Object.keys(gridmap.bbox).every(k =>
               !gridmap.map.hasLayer(gridmap.layers[k]) || gridmap.bbox[k].bbox ===
               (gridmap.map.getZoom() < gridmap.bboxMinZoom ? null : gridmap.viewBbox()))""",
        timeout=20_000,
    )
    box_text = frame.evaluate("gridmap.viewBbox()")
    polygon = Polygon.from_bbox(tuple(float(v) for v in box_text.split(",")))
    polygon.srid = 4326
    return polygon


def toggle(frame, name):
    frame.locator(".leaflet-control-layers-overlays label", has_text=name).locator("input").click()


def test_planner_map_counts_bbox_layers_siting_and_drill_down(browser_page, live_server, town):
    bp = browser_page
    user("planner", Role.PLANNER)
    login(bp, live_server, "planner")
    frame = open_map(bp, live_server)
    got = counts(frame)
    assert got["coverage"] == got["problem-rate"] == Grid.objects.count() == 4

    # zoom into one grid: bbox layers hold what the database has in the view's box
    frame.evaluate(
        f"() => {{ gridmap.map.setView([{LAT0 + 0.001}, {LON0 + 0.003}], 18, {{animate: false}}); }}"
    )
    bbox = settle(frame)
    got = counts(frame)
    assert 0 < got["buildings"] == Building.objects.filter(geom__intersects=bbox).count() < 18
    assert (
        got["kind-facilities"] == Facility.objects.filter(kind__code="hydrant", geom__intersects=bbox).count()
    )
    assert got["facilities"] == 0 and got["problems"] == 0  # off until switched on
    toggle(frame, "All facilities")
    toggle(frame, "Problems in the period")
    bbox = settle(frame)
    got = counts(frame)
    assert got["facilities"] == Facility.objects.filter(geom__intersects=bbox).count() > 0
    in_period = Problem.objects.filter(
        status__in=[Status.REPORTED, Status.CLOSED],  # open or closed, no rejected
        reported_at__gte=timezone.make_aware(
            timezone.datetime.combine(period_start("365d"), timezone.datetime.min.time())
        ),
        geom__intersects=bbox,
    )
    assert got["problems"] == in_period.count() > 0

    # the problem rate replaces the coverage share (one choropleth at a time)
    toggle(frame, "Problem rate")
    frame.wait_for_function(
        "() => gridmap.map.hasLayer(gridmap.layers['problem-rate']) && !gridmap.map.hasLayer(gridmap.layers.coverage)"
    )
    assert frame.locator(".leaflet-control-layers-overlays input").first.is_checked() is False

    # siting on request for the first community
    frame.locator(".gridmap-sites button").click()
    frame.wait_for_function("() => gridmap.sites && gridmap.sites.loading === false", timeout=30_000)
    state = frame.evaluate("() => gridmap.sites")
    assert state["error"] is None and state["count"] == counts(frame)["sites"]

    # drill down: a click on the empty grid opens its popup, whose link opens the grid page
    frame.evaluate(
        f"() => {{ gridmap.map.setView([{LAT0 + 0.001}, {LON0 + 3.5 * W}], 17, {{animate: false}}); }}"
    )
    settle(frame)
    point = frame.evaluate(f"() => gridmap.map.latLngToContainerPoint([{LAT0 + 0.0015}, {LON0 + 3.5 * W}])")
    frame.locator(".leaflet-container").click(position={"x": point["x"], "y": point["y"]})
    link = frame.locator("a.gridmap-grid-link")
    link.wait_for()
    code = Grid.objects.order_by("code").last().code
    assert link.get_attribute("href") == f"/grids/{code}/"
    shot = Path(__file__).resolve().parents[2] / "data" / "screenshots"
    shot.mkdir(parents=True, exist_ok=True)
    bp.page.screenshot(path=str(shot / "planner.png"))
    link.click()
    bp.page.wait_for_url(f"{live_server.url}/grids/{code}/")
    assert bp.problems == {}, bp.problems


def test_a_community_head_sees_their_community_only(browser_page, live_server, town):
    c1, _ = town
    user("head", Role.COMMUNITY_HEAD, community=c1)
    login(browser_page, live_server, "head")
    frame = open_map(browser_page, live_server, "kind=hydrant&period=all")
    # below the zoom threshold nothing is loaded, and the page says why
    frame.evaluate(
        f"() => {{ gridmap.map.setView([{LAT0 + 0.001}, {LON0 + 2 * W}], 14, {{animate: false}}); }}"
    )
    settle(frame)
    got = counts(frame)
    assert got["buildings"] == got["kind-facilities"] == 0 and got["coverage"] == 2
    assert frame.locator(".gridmap-bbox-note").text_content().startswith("Zoom in")
    frame.evaluate(
        f"() => {{ gridmap.map.setView([{LAT0 + 0.001}, {LON0 + 2 * W}], 17, {{animate: false}}); }}"
    )
    bbox = settle(frame)
    got = counts(frame)
    assert got["coverage"] == Grid.objects.filter(community=c1).count() == 2
    mine = Building.objects.filter(community=c1, geom__intersects=bbox).count()
    assert got["buildings"] == mine < Building.objects.filter(geom__intersects=bbox).count()
    assert browser_page.problems == {}, browser_page.problems


# a 1×1 GIF: tiles from a data: URL, so a GCJ-02 tile source needs no server at all
GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def test_the_pages_gcj02_code_equals_layers_chinacoords(browser_page, serve_dir, tmp_path):
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import box as shapely_box

    from layers.chinacoords import gcj02_to_wgs84, wgs84_to_gcj02
    from layers.maps import REPO_VENDOR_DIR, MapAssets, TileSource, planner_map

    grids = gpd.GeoDataFrame(
        {"code": ["1"], "name": ["g"], "coverage": [0.5], "rate": [1.0]},
        geometry=[shapely_box(LON0, LAT0, LON0 + W, LAT0 + W)],
        crs=4326,
    )
    page = planner_map(
        grids=grids, gaps=grids.iloc[:0], coverage_title="c", rate_title="r", grid_url="/g/{code}/",
        bbox_sources=[], assets=MapAssets(inline_from=REPO_VENDOR_DIR),
        tiles=TileSource(GIF, "", datum="gcj02"),
    )  # fmt: skip
    (tmp_path / "gcj.html").write_text(page.get_root().render(), encoding="utf-8")
    browser_page.page.goto(f"{serve_dir(tmp_path)}/gcj.html")
    browser_page.page.wait_for_function("() => window.gridmap && gridmap.ready === true")
    rng = np.random.default_rng(5)
    lon = np.concatenate([rng.uniform(73, 135, 50), [LON0, 10.0]])  # the last one is outside China
    lat = np.concatenate([rng.uniform(18, 53, 50), [LAT0, 50.0]])
    got = np.asarray(
        browser_page.page.evaluate(
            "(p) => p.map(c => gridmap.gcj02.forward(c[0], c[1]).concat(gridmap.gcj02.inverse(c[0], c[1])))",
            np.column_stack([lon, lat]).tolist(),
        )
    )
    fwd = np.column_stack(wgs84_to_gcj02(lon, lat))
    inv = np.column_stack(gcj02_to_wgs84(lon, lat))
    assert np.abs(got[:, :2] - fwd).max() < 1e-9 and np.abs(got[:, 2:] - inv).max() < 1e-9
    assert got[-1].tolist() == [10.0, 50.0, 10.0, 50.0]
    # the box sent to the lists is the view's corners moved back to WGS84
    view = browser_page.page.evaluate(
        "() => { var b = gridmap.map.getBounds(); return [gridmap.viewBbox(), b.getWest(), b.getSouth()]; }"
    )
    west, south = gcj02_to_wgs84([view[1]], [view[2]])
    sent = [float(v) for v in view[0].split(",")]
    assert sent[0] == pytest.approx(west[0], abs=2e-6) and sent[1] == pytest.approx(south[0], abs=2e-6)
    assert browser_page.problems == {}, browser_page.problems
