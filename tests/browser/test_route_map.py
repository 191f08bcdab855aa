"""The inspector's route page on a phone (390 × 844) in Debian's Chromium, every non-local request
blocked: the stops and the path are drawn, the list drives the map, and the locate button shows
the (Playwright-granted) position and re-plans from it."""

import os
from pathlib import Path

import pytest
from django.contrib.gis.geos import LineString, Point
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from gridmap.accounts.models import Role
from gridmap.analysis.network_cache import network_cache_clear
from gridmap.analysis.routes import route_stops_queryset
from gridmap.geography.models import Street
from gridmap.problems.models import EventCategory, Problem, Status
from gridmap.problems.selectors import problems_in_role_scope
from tests.factories import LAT0, LON0, grid, region_tree, user

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[2] / "data" / "screenshots"
HERE = {"longitude": LON0 + 0.0002, "latitude": LAT0 + 0.0003, "accuracy": 35}


@pytest.fixture
def town(catalogues):
    network_cache_clear()
    mine, other = region_tree(n=2)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(mine)
    g1 = grid(mine, 1, (LON0, LAT0, LON0 + 0.004, LAT0 + 0.002))
    g2 = grid(other, 1, (LON0 + 0.004, LAT0, LON0 + 0.008, LAT0 + 0.002))
    cat = EventCategory.objects.get(code="0301")
    for i in range(7):
        Problem.objects.create(
            geom=Point(LON0 + 0.0003 + i * 0.0005, LAT0 + 0.0004 + (i % 2) * 0.0010),
            grid=g1, community=mine, category=cat, status=Status.DISPATCHED,
            description=f"<b>占道</b> {i}",
        )  # fmt: skip
    Problem.objects.create(  # another community's: not on this inspector's route
        geom=Point(LON0 + 0.005, LAT0 + 0.001), grid=g2, community=other, category=cat
    )
    Problem.objects.create(  # closed, no look-back due: not a stop
        geom=Point(LON0 + 0.001, LAT0 + 0.001), grid=g1, community=mine, category=cat, status=Status.CLOSED
    )
    Street.objects.create(
        geom=LineString((LON0, LAT0 + 0.0009), (LON0 + 0.004, LAT0 + 0.0009), srid=4326), length_m=380
    )
    yield inspector
    network_cache_clear()


def login(bp, live_server):
    bp.page.goto(f"{live_server.url}/login/")
    bp.page.fill("input[name=username]", "inspector")
    bp.page.fill("input[name=password]", "pw-for-tests-only")
    with bp.page.expect_navigation():
        bp.page.press("input[name=password]", "Enter")  # the header has submit buttons too
    assert "/login/" not in bp.page.url


def wait_ready(bp):
    try:
        bp.page.wait_for_function("() => window.gridmap && window.gridmap.ready === true", timeout=20_000)
    except PlaywrightTimeout:
        raise AssertionError(f"the map never got ready: {bp.problems} at {bp.page.url}") from None


def test_route_on_a_phone_draws_every_stop_and_locates_the_walker(browser_page, live_server, town):
    page = browser_page.page
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation(HERE)
    login(browser_page, live_server)
    page.goto(f"{live_server.url}/route/")
    wait_ready(browser_page)
    n = route_stops_queryset(problems_in_role_scope(town)).count()
    assert n == 7
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "route-phone.png"), full_page=True)
    assert page.evaluate("gridmap.count('stops')") == n
    assert page.evaluate("gridmap.count('path')") >= 1
    assert page.evaluate("gridmap.count('start')") is None  # no start asked for
    # numbered in walking order, and the list below holds the same stops in that order
    seqs = page.evaluate("gridmap.layers.stops.getLayers().map(l => l.feature.properties.seq)")
    assert sorted(seqs) == list(range(1, n + 1))
    labels = page.locator(".leaflet-tooltip.route-num").all_inner_texts()
    assert sorted(labels, key=int) == [str(i) for i in range(1, n + 1)]
    off_centre = page.evaluate(
        """() => gridmap.layers.stops.getLayers().map(l => {
            const t = l.getTooltip().getElement().getBoundingClientRect();
            const c = gridmap.map.getContainer().getBoundingClientRect();
            const p = gridmap.map.latLngToContainerPoint(l.getLatLng());
            return Math.hypot(t.x + t.width / 2 - c.x - p.x, t.y + t.height / 2 - c.y - p.y);
        })"""
    )
    assert max(off_centre) < 3, off_centre  # each number sits on its circle
    ids_on_map = page.evaluate(
        "gridmap.layers.stops.getLayers().sort((a, b) => a.feature.properties.seq - b.feature.properties.seq)"
        ".map(l => l.feature.properties.id)"
    )
    list_links = page.locator(".route-stops .stop-link").all_inner_texts()
    assert list_links == [f"#{pk}" for pk in ids_on_map]
    # phone layout: the map spans the screen, the list comes below it, targets are finger-sized
    map_box = page.locator("#route-map").bounding_box()
    list_box = page.locator(".route-stops").bounding_box()
    assert map_box["width"] == pytest.approx(PHONE["width"], abs=1)
    assert list_box["y"] >= map_box["y"] + map_box["height"]
    assert page.locator(".stop-focus").first.bounding_box()["height"] >= 44
    assert page.locator(".route-locate-button").bounding_box()["height"] >= 44

    # a list entry highlights its stop and opens its popup, which links to the problem page
    page.locator('.stop-focus[data-route-seq="3"]').click()
    assert "active" in page.locator("#route-stop-3").get_attribute("class")
    popup_link = page.locator(".leaflet-popup-content .route-popup a")
    popup_link.wait_for()
    assert popup_link.get_attribute("href") == f"/problems/{ids_on_map[2]}/"
    assert "<b>占道</b>" in page.locator(".leaflet-popup-content").inner_text()  # text, not markup

    # locate me: the granted position and its accuracy circle are drawn
    page.locator(".route-locate-button").click()
    page.wait_for_function("() => window.gridmap.position !== undefined", timeout=10_000)
    position = page.evaluate("gridmap.position")
    assert position == pytest.approx({"lon": HERE["longitude"], "lat": HERE["latitude"], "accuracy": 35})
    assert page.evaluate("gridmap.count('position')") == 2
    radius = page.evaluate(
        "gridmap.layers.position.getLayers().filter(l => l instanceof L.Circle).map(l => l.getRadius())"
    )
    assert radius == [35]
    page.screenshot(path=str(SHOTS / "route-phone-located.png"))

    # ... and the route is planned again from there
    page.locator(".route-replan").click()
    page.wait_for_url("**/route/?start=*")
    wait_ready(browser_page)
    assert page.evaluate("gridmap.count('start')") == 1
    assert page.evaluate("gridmap.count('stops')") == n
    start = page.evaluate("gridmap.layers.start.getLayers()[0].getLatLng()")
    assert start == pytest.approx({"lat": HERE["latitude"], "lng": HERE["longitude"]}, abs=1e-6)
    assert browser_page.blocked == []
    assert browser_page.problems == {}, browser_page.problems
