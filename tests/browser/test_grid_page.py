"""The grid page served by Django, in Debian's Chromium with every non-local request blocked."""

import os

import pytest
from django.contrib.gis.geos import LineString, Point

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building
from gridmap.problems.models import EventCategory, Problem
from tests.factories import LAT0, LON0, box, grid, region_tree, user

# Playwright's sync API keeps an event loop in this thread; the test's own database calls are
# synchronous and safe here (Django's documented switch for this case).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def town(catalogues):
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    mine = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    grid(community, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002))
    for i in range(5):
        x = LON0 + 0.0002 + i * 0.0003
        Building.objects.create(
            geom=box(x, LAT0 + 0.0002, x + 0.0001, LAT0 + 0.0003), grid=mine, households=3
        )
    kinds = {k.code: k for k in FacilityKind.objects.all()}
    Facility.objects.create(kind=kinds["hydrant"], geom=Point(LON0 + 0.001, LAT0 + 0.001))
    Facility.objects.create(kind=kinds["hydrant"], geom=Point(LON0 + 0.0015, LAT0 + 0.001))
    Facility.objects.create(
        kind=kinds["tactile_paving"],
        geom=LineString((LON0 + 0.0001, LAT0 + 0.0005), (LON0 + 0.0019, LAT0 + 0.0005)),
    )
    cat = EventCategory.objects.get(code="0301")
    for i in range(7):
        Problem.objects.create(
            geom=Point(LON0 + 0.0003 + i * 0.0002, LAT0 + 0.0015),
            grid=mine,
            community=community,
            category=cat,
            description=f"<b>占道</b> {i}",
        )
    return mine, leader


def login(bp, live_server):
    bp.page.goto(f"{live_server.url}/login/")
    bp.page.fill("input[name=username]", "leader")
    bp.page.fill("input[name=password]", "pw-for-tests-only")
    bp.page.click("button[type=submit]")
    bp.page.wait_for_url(f"{live_server.url}/grids/")


def test_grid_map_page_draws_every_layer_offline(browser_page, live_server, town):
    mine, _ = town
    login(browser_page, live_server)
    assert mine.code in browser_page.page.content()
    browser_page.page.click(f"text={mine.code}")
    frame = browser_page.page.frame_locator("#grid-map")
    frame.locator(".leaflet-container").wait_for()
    map_frame = next(f for f in browser_page.page.frames if f.url.endswith(f"/grids/{mine.code}/map/"))
    map_frame.wait_for_function("() => window.gridmap && window.gridmap.ready === true", timeout=20_000)
    counts = map_frame.evaluate(
        "() => Object.fromEntries(Object.keys(gridmap.layers).map(k => [k, gridmap.count(k)]))"
    )
    assert counts == {
        "boundary": 1,
        "buildings": 5,
        "facility:hydrant": 2,
        "facility:tactile_paving": 1,
        "problems": 7,
    }
    assert browser_page.problems == {}, browser_page.problems
    browser_page.page.screenshot(path=str(live_server_screenshot_path()))


def test_a_grid_leader_cannot_open_another_grids_map(browser_page, live_server, town):
    login(browser_page, live_server)
    other = "320581107001002"
    response = browser_page.page.goto(f"{live_server.url}/grids/{other}/map/")
    assert response.status == 404
    browser_page.http_errors.clear()
    assert browser_page.blocked == [] and browser_page.page_errors == []


def live_server_screenshot_path():
    from pathlib import Path

    out = Path(__file__).resolve().parents[2] / "data" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out / "grid-page.png"
