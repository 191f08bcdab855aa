"""The grid page served by Django, in Debian's Chromium with every non-local request blocked."""

import os
from collections import Counter

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import LineString, Point
from django.test import Client

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building
from gridmap.maps.selectors import area_layers
from gridmap.problems.models import OPEN_STATUSES, EventCategory, Problem
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


def login(bp, live_server, username="leader"):
    """A session cookie for ``username`` (the login form itself is tested elsewhere)."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    bp.page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    bp.page.goto(f"{live_server.url}/grids/")


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
    open_ = Problem.objects.filter(grid=mine, status__in=OPEN_STATUSES).count()
    by_kind = Counter(
        Facility.objects.filter(geom__intersects=mine.geom).values_list("kind__code", flat=True)
    )
    expected = {
        "boundary": 1,
        "buildings": Building.objects.filter(grid=mine).count(),
        **{f"facility:{k}": n for k, n in by_kind.items()},
        "problems": Problem.objects.filter(grid=mine).count(),
        "heat": open_,
        "negative_list": open_,
    }
    layers = area_layers([mine])
    expected["hotspots"] = len(layers["hotspots"])
    # the streets (none here) and the place labels (street names, grid codes: those of the view)
    assert counts.pop("streets") == 0 and counts.pop("place_labels") >= 0
    gaps, uncovered = layers["coverage_gaps"], layers["uncovered_buildings"]
    for kind in set(gaps["kind"]) | set(uncovered["kind"]):  # a kind with findings: both layers
        expected[f"gaps:{kind}"] = int((gaps["kind"] == kind).sum())
        expected[f"uncovered:{kind}"] = int((uncovered["kind"] == kind).sum())
    assert counts == expected
    assert (
        expected["buildings"] == 5
        and expected["problems"] == 7
        and by_kind == {"hydrant": 2, "tactile_paving": 1}
    )
    assert {k for k in counts if k.startswith("uncovered:")}, "the hydrants leave some building uncovered"
    toggle_layers(map_frame, ["问题", "热力图（未结问题）", "负面清单（未结问题）"])
    panel = map_frame.locator(".gridmap-negative")
    assert panel.count() == 0
    map_frame.get_by_role("checkbox", name="负面清单（未结问题）", exact=True).click()
    assert panel.locator("li").count() == open_
    assert browser_page.problems == {}, browser_page.problems
    browser_page.page.screenshot(path=str(live_server_screenshot_path()))


def test_a_grid_leader_cannot_open_another_grids_map(browser_page, live_server, town):
    login(browser_page, live_server)
    other = "320581107001002"
    response = browser_page.page.goto(f"{live_server.url}/grids/{other}/map/")
    assert response.status == 404
    browser_page.http_errors.clear()
    assert browser_page.blocked == [] and browser_page.page_errors == []


def open_layer_list(frame):
    """The layer list of a map with many layers opens folded (on a desktop too): unfold it as a
    mouse does (it stays open while the mouse is over it)."""
    frame.locator(".leaflet-control-layers").hover()  # the mouse over it unfolds it; clicks in it then count
    frame.locator(".leaflet-control-layers-expanded").wait_for()


def toggle_layers(frame, names):
    """Each named overlay: off (gone from the map), then on again (back)."""
    open_layer_list(frame)
    for name in names:
        box = frame.get_by_role("checkbox", name=name, exact=True)
        before = box.is_checked()
        box.click()
        assert box.is_checked() is not before
        on = frame.evaluate(
            "() => Object.keys(gridmap.layers).filter(k => gridmap.map.hasLayer(gridmap.layers[k]))"
        )
        box.click()
        again = frame.evaluate(
            "() => Object.keys(gridmap.layers).filter(k => gridmap.map.hasLayer(gridmap.layers[k]))"
        )
        assert len(on) == len(again) + (1 if not before else -1), (name, on, again)


def test_a_community_head_sees_every_grid_of_the_community(browser_page, live_server, town):
    mine, _ = town
    user("head", Role.COMMUNITY_HEAD, community=mine.community)
    bp = browser_page
    login(bp, live_server, "head")
    bp.page.goto(f"{live_server.url}/communities/{mine.community.code}/")
    bp.page.frame_locator("#grid-map").locator(".leaflet-container").wait_for()
    frame = next(f for f in bp.page.frames if f.url.endswith(f"/communities/{mine.community.code}/map/"))
    frame.wait_for_function("() => window.gridmap && window.gridmap.ready === true", timeout=20_000)
    assert frame.evaluate("() => gridmap.count('boundary')") == 2
    assert (
        frame.evaluate("() => gridmap.count('problems')")
        == Problem.objects.filter(community=mine.community).count()
    )
    assert bp.problems == {}, bp.problems
    bp.page.screenshot(path=str(live_server_screenshot_path("community-page.png")))


def live_server_screenshot_path(name="grid-page.png"):
    from pathlib import Path

    out = Path(__file__).resolve().parents[2] / "data" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out / name
