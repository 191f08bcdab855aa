"""The pages of the loop in Debian's Chromium with every non-local request blocked: each page
loads for its role with no page error and nothing external; the report form's map picker sets
the coordinates; a report sent from the browser with a real photo shows on the grid map; the
language switch turns the page English."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString
from django.test import Client
from django.utils import timezone

from gridmap.accounts.models import Department, Role
from gridmap.geography.models import Street
from gridmap.problems.intake import problem_create
from gridmap.problems.models import EventCategory, Problem, ProblemPhoto
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

# Playwright's sync API keeps an event loop in this thread; the test's own database calls are
# synchronous and safe here (Django's documented switch for this case).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "data" / "screenshots"
PICKER_READY = "() => window.gridmapPicker && window.gridmapPicker.ready === true"
MAP_READY = "() => window.gridmap && window.gridmap.ready === true"


@pytest.fixture
def town(catalogues):
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    mine = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    for y in (0.0005, 0.0015):
        Street.objects.create(geom=LineString((LON0 - 0.001, LAT0 + y), (LON0 + 0.003, LAT0 + y)), name="街")
    grid(
        community, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=user("other", Role.GRID_LEADER)
    )
    category = EventCategory.objects.get(code="0301")
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(community)
    people = {
        "leader": leader,
        "head": user("head", Role.COMMUNITY_HEAD, community=community),
        "handler": user("handler", Role.DEPARTMENT, department=dept),
        "inspector": inspector,
        "planner": user("planner", Role.PLANNER),
        "admin": user("boss", Role.ADMIN),
        "reporter": user("reporter", Role.REPORTER),
    }
    now = timezone.now()
    for i, status in enumerate(("reported", "filed", "dispatched", "handled", "closed")):
        p, _ = problem_create(lon=LON0 + 0.0003 * (i + 1), lat=LAT0 + 0.001, category=category,
                              reporter=people["reporter"], description=f"<b>占道</b> {i}")  # fmt: skip
        Problem.objects.filter(pk=p.pk).update(
            status=status, filed_at=now - timedelta(days=3), department=dept, deadline=now - timedelta(hours=i),
            closed_at=now if status == "closed" else None, lookback_due=now.date(),
        )  # fmt: skip
        ProblemPhoto.objects.create(problem=p, image=jpeg(), stage="before", event=p.events.first())
    return {"grid": mine, "category": category, "problem": p, **people}


def sign_in(bp, live_server, who):
    """The browser gets a session made by Django's test client (no login form round trip)."""
    client = Client()
    client.force_login(who)
    bp.page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": live_server.url}]
    )  # fmt: skip


def visit(bp, url):
    response = bp.page.goto(url)
    assert response.status == 200, url
    bp.page.wait_for_load_state("load")
    return response


def shot(bp, name, **kw):
    SHOTS.mkdir(parents=True, exist_ok=True)
    bp.page.screenshot(path=str(SHOTS / f"{name}.png"), **kw)


PAGES = {
    "leader": ["/dashboard/", "/problems/", "/problems/{pk}/", "/problems/report/", "/evaluation/figures/"],
    "head": ["/dashboard/", "/problems/?overdue=on", "/evaluation/figures/?level=community"],
    "handler": ["/dashboard/", "/problems/?sort=deadline", "/problems/{pk}/"],
    "inspector": ["/dashboard/", "/problems/{pk}/"],
    "planner": ["/dashboard/", "/evaluation/figures/"],
    "admin": ["/dashboard/", "/problems/", "/problems/{pk}/", "/evaluation/figures/"],
    "reporter": ["/dashboard/", "/problems/mine/", "/problems/{pk}/", "/problems/report/"],
}


@pytest.mark.parametrize("who", list(PAGES))
def test_each_page_loads_for_its_role_with_nothing_external(browser_page, live_server, town, who):
    sign_in(browser_page, live_server, town[who])
    for path in PAGES[who]:
        visit(browser_page, live_server.url + path.format(pk=town["problem"].pk))
        if path == "/dashboard/":
            shot(browser_page, f"dashboard-{who}", full_page=True)
        if "/problems/" in path and path.rstrip("/").split("/")[-1].isdigit():
            browser_page.page.wait_for_function(
                "() => window.gridmapLocation && window.gridmapLocation.ready"
            )
            assert browser_page.page.locator("#location-map .leaflet-interactive").count() >= 1
            images = browser_page.page.locator(".before-after img")
            assert images.count() == 1 and images.evaluate_all("els => els.every(i => i.naturalWidth > 0)")
        if path.startswith("/evaluation/figures/"):
            # weeks (2), ranking, and the ten steps of the communities the user follows (all four
            # roles here follow the town's one community)
            assert browser_page.page.locator("svg.chart").count() == 4
        assert browser_page.page.locator("main h1").count() == 1
        assert browser_page.problems == {}, (path, browser_page.problems)
    assert all(r.startswith(live_server.url) or r.startswith("data:") for r in browser_page.requests)


def test_the_map_picker_sets_the_fields_on_click_and_follows_typing(browser_page, live_server, town):
    page = browser_page.page
    sign_in(browser_page, live_server, town["leader"])
    visit(browser_page, f"{live_server.url}/problems/report/")
    page.wait_for_function(PICKER_READY)
    assert page.evaluate("() => window.gridmapPicker.grids.getLayers().length") == 1
    # no tiles configured: the town's streets are drawn under the grids for reference
    assert (
        page.evaluate("() => window.gridmapPicker.streets.getLayers().length") == Street.objects.count() == 2
    )
    box = page.locator("#picker-map").bounding_box()
    x, y = box["width"] * 0.4, box["height"] * 0.6
    page.locator("#picker-map").click(position={"x": x, "y": y})
    expected = page.evaluate(f"() => window.gridmapPicker.map.containerPointToLatLng([{x}, {y}])")
    # the place under the pointer, to within one screen pixel
    pixel = page.evaluate(f"() => window.gridmapPicker.map.containerPointToLatLng([{x + 1}, {y + 1}])")
    lon, lat = page.input_value("#id_lon"), page.input_value("#id_lat")
    assert len(lon.split(".")[1]) == 6 and len(lat.split(".")[1]) == 6
    assert float(lon) == pytest.approx(expected["lng"], abs=abs(pixel["lng"] - expected["lng"]) + 1e-6)
    assert float(lat) == pytest.approx(expected["lat"], abs=abs(pixel["lat"] - expected["lat"]) + 1e-6)
    marker = page.evaluate("() => window.gridmapPicker.marker().getLatLng()")
    assert (float(lon), float(lat)) == pytest.approx((marker["lng"], marker["lat"]), abs=6e-7)
    # typing moves the marker
    page.fill("#id_lon", f"{LON0 + 0.0015:.6f}")
    page.fill("#id_lat", f"{LAT0 + 0.0005:.6f}")
    at = page.evaluate("() => window.gridmapPicker.marker().getLatLng()")
    assert (at["lng"], at["lat"]) == pytest.approx((LON0 + 0.0015, LAT0 + 0.0005), abs=1e-9)
    # words are not a place: the marker stays
    page.fill("#id_lat", "北纬")
    assert page.evaluate("() => window.gridmapPicker.marker().getLatLng().lat") == pytest.approx(
        LAT0 + 0.0005
    )
    assert browser_page.problems == {}, browser_page.problems


def problems_on_the_grid_map(bp, live_server, code):
    visit(bp, f"{live_server.url}/grids/{code}/map/")
    bp.page.wait_for_function(MAP_READY, timeout=20_000)
    # open and finished problems (the finished ones in a layer of their own)
    return bp.page.evaluate(
        '() => window.gridmap.count("problems") + (window.gridmap.count("problems_closed") || 0)'
    )


def test_a_report_sent_from_the_browser_shows_on_the_grid_map(browser_page, live_server, town, tmp_path):
    page, code = browser_page.page, town["grid"].code
    sign_in(browser_page, live_server, town["leader"])
    before = problems_on_the_grid_map(browser_page, live_server, code)
    assert before == Problem.objects.filter(grid=town["grid"]).count()

    photo = tmp_path / "scene.jpg"
    photo.write_bytes(jpeg(size=(320, 240)).read())
    visit(browser_page, f"{live_server.url}/problems/report/")
    page.wait_for_function(PICKER_READY)
    page.check(f"input[name=category][value='{town['category'].pk}']")
    page.fill("textarea[name=description]", "浏览器上报：<script>alert(1)</script>")
    box = page.locator("#picker-map").bounding_box()
    target = page.evaluate(
        f"() => window.gridmapPicker.map.latLngToContainerPoint([{LAT0 + 0.0012}, {LON0 + 0.0012}])"
    )
    assert 0 < target["x"] < box["width"] and 0 < target["y"] < box["height"]
    page.locator("#picker-map").click(position={"x": target["x"], "y": target["y"]})
    page.set_input_files("input[name=photos]", str(photo))
    with page.expect_navigation():
        page.click("#report-submit")
    created = Problem.objects.order_by("-pk").first()
    assert page.url.endswith(f"/problems/{created.pk}/reported/")
    assert created.grid == town["grid"] and created.photos.count() == 1
    assert created.geom.x == pytest.approx(LON0 + 0.0012, abs=5e-5)
    assert problems_on_the_grid_map(browser_page, live_server, code) == before + 1
    assert browser_page.problems == {}, browser_page.problems


def test_the_language_switch_turns_the_page_english(browser_page, live_server, town):
    page = browser_page.page
    sign_in(browser_page, live_server, town["leader"])
    visit(browser_page, f"{live_server.url}/dashboard/")
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert "我的网格" in page.inner_text("header")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.url.endswith("/dashboard/")
    assert page.get_attribute("html", "lang") == "en"
    assert "My grids" in page.inner_text("header") and "Dashboard" in page.inner_text("main h1")
    visit(browser_page, f"{live_server.url}/problems/")  # the choice holds on the next page
    assert page.get_attribute("html", "lang") == "en" and "Problems" in page.inner_text("main h1")
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    assert page.get_attribute("html", "lang") == "zh-hans" and "我的网格" in page.inner_text("header")
    assert browser_page.problems == {}, browser_page.problems


def test_the_pages_fit_a_phone(browser_page, live_server, town):
    page = browser_page.page
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(browser_page, live_server, town["leader"])
    for path, name in (("/dashboard/", "dashboard-phone"), ("/problems/report/", "report-phone"),
                       ("/evaluation/figures/", "figures-phone")):  # fmt: skip
        visit(browser_page, live_server.url + path)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)
        shot(browser_page, name, full_page=True)
    assert browser_page.problems == {}, browser_page.problems


# 1x1 transparent PNG, served for the GCJ-02 test tiles
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_the_pickers_gcj02_formulas_equal_layers_chinacoords(browser_page, live_server, town):
    import numpy as np

    from layers.chinacoords import gcj02_to_wgs84, wgs84_to_gcj02

    sign_in(browser_page, live_server, town["leader"])
    visit(browser_page, f"{live_server.url}/problems/report/")
    rng = np.random.default_rng(5)
    lon = np.concatenate([rng.uniform(73, 135, 40), [LON0, 10.0, 139.0]])  # two outside China
    lat = np.concatenate([rng.uniform(1, 55, 40), [LAT0, 50.0, 35.0]])
    got = browser_page.page.evaluate(
        "([lon, lat]) => lon.map((x, i) => [gridmapChinaCoords.toGcj(x, lat[i]),"
        " gridmapChinaCoords.toWgs(x, lat[i])])",
        [lon.tolist(), lat.tolist()],
    )
    fwd, back = np.array([g[0] for g in got]), np.array([g[1] for g in got])
    np.testing.assert_allclose(fwd, np.column_stack(wgs84_to_gcj02(lon, lat)), rtol=0, atol=1e-11)
    np.testing.assert_allclose(back, np.column_stack(gcj02_to_wgs84(lon, lat)), rtol=0, atol=1e-10)
    assert browser_page.problems == {}, browser_page.problems


def test_over_gcj02_tiles_a_click_gives_the_wgs84_place(browser_page, live_server, town, settings):
    from layers.chinacoords import gcj02_to_wgs84, wgs84_to_gcj02

    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": "gcj02:http://127.0.0.1:9/{z}/{x}/{y}.png"}
    page = browser_page.page
    page.route("http://127.0.0.1:9/**", lambda route: route.fulfill(body=PNG, content_type="image/png"))
    sign_in(browser_page, live_server, town["leader"])
    visit(browser_page, f"{live_server.url}/problems/report/")
    page.wait_for_function(PICKER_READY)
    assert page.evaluate("() => window.gridmapPicker.datum") == "gcj02"
    # the grid is drawn where the GCJ-02 tiles show it
    corner = page.evaluate("() => window.gridmapPicker.grids.getBounds().getSouthWest()")
    glon, glat = wgs84_to_gcj02(
        [LON0, LON0 + 0.002, LON0, LON0 + 0.002], [LAT0, LAT0, LAT0 + 0.002, LAT0 + 0.002]
    )
    assert (corner["lng"], corner["lat"]) == pytest.approx((glon.min(), glat.min()), abs=1e-9)
    box = page.locator("#picker-map").bounding_box()
    x, y = round(box["width"] / 2), round(box["height"] / 2)
    page.locator("#picker-map").click(position={"x": x, "y": y})
    drawn = page.evaluate("() => window.gridmapPicker.marker().getLatLng()")
    wlon, wlat = gcj02_to_wgs84(drawn["lng"], drawn["lat"])
    assert float(page.input_value("#id_lon")) == pytest.approx(float(wlon), abs=6e-7)
    assert float(page.input_value("#id_lat")) == pytest.approx(float(wlat), abs=6e-7)
    assert abs(float(page.input_value("#id_lon")) - drawn["lng"]) > 1e-3  # hundreds of metres apart
    assert browser_page.blocked == [] and browser_page.page_errors == []
