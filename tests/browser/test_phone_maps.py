"""The maps on a 390 × 844 phone in Debian's Chromium, every non-local request blocked: the map is
on screen, no control covers more than a third of it (the layer list and the legend fold behind
buttons), popups are at least 200 px wide, street names and grid codes are written on the plain
background, a route of 75 stops along one street prints no number over another, a stop ticked off
as visited is still ticked after a reload and is left out of the rest of the walk, and the report
picker draws the grids."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import LineString, Point
from django.test import Client
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from gridmap.accounts.models import Role
from gridmap.analysis.models import RouteVisit
from gridmap.analysis.network_cache import network_cache_clear
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Street
from gridmap.problems.models import EventCategory, Problem, Status
from tests.factories import LAT0, LON0, box, grid, region_tree, user

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
READY = "() => window.gridmap && window.gridmap.ready === true"
STILL = "() => gridmap.route.still() && !!document.querySelector('.leaflet-popup-content')"
STOPS = 75

# every control's share of the map's area, and the map's own box in the page's viewport
CONTROLS_JS = """() => {
    const m = gridmap.map.getContainer().getBoundingClientRect();
    return {map: [m.width, m.height], controls: [...document.querySelectorAll('.leaflet-control')]
        .filter(e => e.offsetParent !== null)
        .map(e => { const r = e.getBoundingClientRect();
                    return [e.className.split(' ')[0], r.width * r.height / (m.width * m.height)]; })};
}"""


@pytest.fixture
def town(catalogues):
    network_cache_clear()
    mine, _ = region_tree(n=2)
    leader = user("leader", Role.GRID_LEADER)
    user("head", Role.COMMUNITY_HEAD, community=mine)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(mine)
    user("reporter", Role.REPORTER)
    g1 = grid(mine, 1, (LON0, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=leader)
    grid(mine, 2, (LON0 + 0.004, LAT0, LON0 + 0.008, LAT0 + 0.002))
    for i in range(6):
        x = LON0 + 0.0003 + i * 0.0005
        Building.objects.create(geom=box(x, LAT0 + 0.0002, x + 0.0002, LAT0 + 0.0004), grid=g1, community=mine,
                                households=i * 7, use=Building.Use.RESIDENTIAL)  # fmt: skip
    kinds = {k.code: k for k in FacilityKind.objects.all()}
    for i, code in enumerate(kinds):
        Facility.objects.create(kind=kinds[code], geom=Point(LON0 + 0.0002 + i * 0.0001, LAT0 + 0.0017),
                                grid=g1, name=code)  # fmt: skip
    Street.objects.create(
        geom=LineString((LON0, LAT0 + 0.001), (LON0 + 0.008, LAT0 + 0.001), srid=4326),
        name="人民路",
        length_m=760,
    )
    cat = EventCategory.objects.get(code="0301")
    for i in range(STOPS):  # 75 stops along one street, a few metres apart
        Problem.objects.create(
            geom=Point(LON0 + 0.0002 + i * 0.00005, LAT0 + 0.001 + (i % 3) * 0.00002), grid=g1, community=mine,
            category=cat, status=Status.DISPATCHED, description=f"占道经营，长长的描述文字 {i}",
        )  # fmt: skip
    yield {"g1": g1, "community": mine}
    network_cache_clear()


def login(bp, live_server, username: str) -> None:
    client = Client()
    client.force_login(User.objects.get(username=username))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    bp.page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


def ready(bp, frame) -> None:
    try:
        frame.wait_for_function(READY, timeout=20_000)
    except PlaywrightTimeout:
        raise AssertionError(f"the map never got ready: {bp.problems}") from None


def map_frame(bp, path: str):
    frame = None
    for _ in range(100):
        frame = next((f for f in bp.page.frames if f.url.split("?")[0].endswith(path)), None)
        if frame is not None:
            break
        bp.page.wait_for_timeout(100)
    assert frame is not None, [f.url for f in bp.page.frames]
    ready(bp, frame)
    return frame


def check_phone_map(bp, frame) -> None:
    """The map on screen, its controls small; the legend opens and closes; a popup is readable."""
    iframe = bp.page.locator("iframe.map").bounding_box()
    assert iframe["y"] < PHONE["height"] / 2 and iframe["height"] >= PHONE["height"] / 2  # on screen, first
    shares = frame.evaluate(CONTROLS_JS)
    assert shares["controls"] and all(share <= 1 / 3 for _, share in shares["controls"]), shares
    # the layer list is folded behind its button; the legend too, and opens on a press
    assert frame.evaluate("() => gridmap.control.options.collapsed") is True
    assert frame.locator(".gridmap-legend").first.is_hidden()
    frame.locator(".gridmap-legend-toggle").click()
    assert frame.locator(".gridmap-legend").first.is_visible()
    shares = frame.evaluate(CONTROLS_JS)
    assert all(share <= 1 / 3 for _, share in shares["controls"]), shares  # even open
    frame.locator(".gridmap-legend-toggle").click()
    # a problem's popup: label/value rows, at least 200 px wide, the values not squeezed
    frame.evaluate("""() => { const l = gridmap.layers.problems.getLayers()[0];
                              gridmap.map.setView(l.getLatLng(), 18, {animate: false});
                              l.fire('click', {latlng: l.getLatLng()}, true); }""")
    content = frame.locator(".leaflet-popup-content")
    content.wait_for()
    assert content.bounding_box()["width"] >= 200
    rows = frame.locator(".leaflet-popup-content tr")
    assert rows.count() >= 4
    value = frame.locator(".leaflet-popup-content td").nth(1).bounding_box()  # the category's cell
    assert value["height"] < 40, value  # one line, not one character a line
    frame.evaluate("() => { gridmap.map.closePopup(); }")


def test_the_grid_map_on_a_phone(browser_page, live_server, town):
    page = browser_page.page
    page.set_viewport_size(PHONE)
    login(browser_page, live_server, "leader")
    page.goto(f"{live_server.url}/grids/{town['g1'].code}/")
    frame = map_frame(browser_page, f"/grids/{town['g1'].code}/map/")
    check_phone_map(browser_page, frame)
    frame.evaluate(
        "() => { gridmap.map.setView(gridmap.layers.boundary.getBounds().getCenter(), 17, {animate: false}); }"
    )
    shown = frame.evaluate("() => gridmap.layers.place_labels.shown()")
    assert "人民路" in shown and town["g1"].code in shown
    # the labels shown do not overlap one another
    boxes = frame.evaluate("""() => [...document.querySelectorAll('.gridmap-label')]
        .filter(e => e.style.visibility !== 'hidden').map(e => { const r = e.getBoundingClientRect();
        return [r.left, r.top, r.right, r.bottom]; })""")
    assert not _overlaps(boxes)
    legend = frame.locator(".gridmap-legend").first.inner_html()
    assert "已逾期" not in legend
    assert "ft" not in frame.locator(".leaflet-control-scale").inner_text()
    assert browser_page.blocked == [] and browser_page.problems == {}, browser_page.problems


def test_the_community_map_on_a_phone_opens_on_a_few_layers(browser_page, live_server, town):
    page = browser_page.page
    page.set_viewport_size(PHONE)
    login(browser_page, live_server, "head")
    page.goto(f"{live_server.url}/communities/{town['community'].code}/")
    frame = map_frame(browser_page, f"/communities/{town['community'].code}/map/")
    on = frame.evaluate(
        "() => Object.keys(gridmap.layers).filter(k => gridmap.map.hasLayer(gridmap.layers[k]))"
    )
    facilities_on = [k for k in on if k.startswith("facility:")]
    facilities_all = frame.evaluate(
        "() => Object.keys(gridmap.layers).filter(k => k.startsWith('facility:'))"
    )
    assert "problems" in on and "buildings" not in on
    assert 0 < len(facilities_on) <= 4 < len(facilities_all)
    check_phone_map(browser_page, frame)
    assert browser_page.blocked == [] and browser_page.problems == {}, browser_page.problems


def test_the_grid_map_on_a_desktop_folds_its_long_layer_list(browser_page, live_server, town):
    """1366 × 768: a dozen layer names would cover a third of the map; folded, the legend stays."""
    from gridmap.problems.models import PositiveSite

    PositiveSite.objects.create(name="示范点", geom=town["g1"].geom.centroid, grid=town["g1"])
    page = browser_page.page
    page.set_viewport_size(DESKTOP)
    login(browser_page, live_server, "leader")
    page.goto(f"{live_server.url}/grids/{town['g1'].code}/")
    frame = map_frame(browser_page, f"/grids/{town['g1'].code}/map/")
    assert frame.evaluate("() => gridmap.control.options.collapsed") is True
    assert frame.locator(".leaflet-control-layers-expanded").count() == 0
    assert frame.locator(".gridmap-legend").first.is_visible()  # the legend is open on a desktop
    shares = frame.evaluate(CONTROLS_JS)
    assert shares["controls"] and all(share <= 1 / 3 for _, share in shares["controls"]), shares
    # the positive list is in the layer list, off until ticked
    names = frame.locator(".leaflet-control-layers-overlays label").all_text_contents()
    assert any("正面清单" in n for n in names), names
    assert frame.evaluate("() => gridmap.map.hasLayer(gridmap.layers.positive_sites)") is False
    assert browser_page.blocked == [] and browser_page.problems == {}, browser_page.problems


def test_the_planner_map_on_a_phone_folds_its_controls(browser_page, live_server, town):
    user("planner", Role.PLANNER)
    page = browser_page.page
    page.set_viewport_size(PHONE)
    login(browser_page, live_server, "planner")
    page.goto(f"{live_server.url}/planner/")
    frame = map_frame(browser_page, "/planner/map/")
    iframe = page.locator("iframe").first.bounding_box()
    assert iframe["y"] < PHONE["height"] / 2 and iframe["height"] >= PHONE["height"] / 3
    shares = frame.evaluate(CONTROLS_JS)
    assert shares["controls"] and all(share <= 1 / 3 for _, share in shares["controls"]), shares
    assert frame.locator(".leaflet-control-layers-expanded").count() == 0  # the layer list is folded
    assert (
        frame.locator(".gridmap-legend-toggle").count() == 2
        and frame.locator(".gridmap-legend-box .gridmap-legend:visible").count() == 0
    )
    assert browser_page.blocked == [] and browser_page.problems == {}, browser_page.problems


def _overlaps(boxes: list[list[float]]) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes[i + 1 :], i + 1)
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]  # fmt: skip


def test_a_route_of_75_stops_on_one_street_keeps_its_numbers_apart_and_its_ticks(
    browser_page, live_server, town
):
    page = browser_page.page
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"longitude": LON0 + 0.002, "latitude": LAT0 + 0.001, "accuracy": 20})
    login(browser_page, live_server, "inspector")
    page.goto(f"{live_server.url}/route/?budget_min=all")
    ready(browser_page, page)
    assert page.evaluate("gridmap.count('stops')") == STOPS
    boxes = page.evaluate("""() => [...document.querySelectorAll('.leaflet-tooltip.route-num')]
        .filter(e => e.style.visibility !== 'hidden').map(e => { const r = e.getBoundingClientRect();
        return [r.left, r.top, r.right, r.bottom]; })""")
    assert len(boxes) >= 2 and not _overlaps(boxes), boxes
    assert len(boxes) == len(page.evaluate("gridmap.route.visibleLabels()")) < STOPS  # some hidden
    page.evaluate("() => { gridmap.map.setZoom(gridmap.map.getMaxZoom(), {animate: false}); }")
    page.evaluate("() => gridmap.route.focus(1)")
    page.wait_for_function(STILL)
    assert 1 in page.evaluate("gridmap.route.visibleLabels()")  # closer in, numbers come back
    content = page.locator(".leaflet-popup-content")
    content.wait_for()
    assert content.bounding_box()["width"] >= 200
    page.evaluate("() => { gridmap.map.closePopup(); }")

    # tick stop 2 off: the button, the list entry and the circle change; a reload keeps them
    second = page.locator("#route-stop-2")
    problem_id = int(second.get_attribute("data-problem"))
    with page.expect_response("**/route/visits/"):
        second.locator(".stop-visit button").click()
    page.wait_for_function("() => document.querySelector('#route-stop-2').classList.contains('visited')")
    assert RouteVisit.objects.filter(problem_id=problem_id).count() == 1
    page.reload()
    ready(browser_page, page)
    assert "visited" in page.locator("#route-stop-2").get_attribute("class")
    assert page.locator("#route-stop-2 .stop-visit button").get_attribute("aria-pressed") == "true"
    state = page.evaluate(f"""() => gridmap.layers.stops.getLayers()
        .find(l => l.feature.properties.id === {problem_id}).feature.properties.state""")
    assert state == "visited"
    assert page.locator("#route-visited-count").inner_text() == "1"
    # the stop's popup ticks it too (the same form, sent by the page's script)
    third = int(page.locator("#route-stop-3").get_attribute("data-problem"))
    page.evaluate("() => gridmap.route.focus(3)")
    page.wait_for_function(STILL)  # the popup's button stays where the click lands (no pan under way)
    with page.expect_response("**/route/visits/"):
        page.locator(".leaflet-popup-content .route-tick").click()
    page.wait_for_function("() => document.querySelector('#route-stop-3').classList.contains('visited')")
    assert page.locator("#route-visited-count").inner_text() == "2"
    assert set(RouteVisit.objects.values_list("problem_id", flat=True)) == {problem_id, third}

    # the rest of the walk from where the inspector stands leaves the visited stop out
    page.locator(".route-locate-button").click()
    page.locator(".route-replan").wait_for()
    page.locator(".route-replan").click()
    page.wait_for_url("**remaining=1**")
    ready(browser_page, page)
    ids = page.evaluate("gridmap.layers.stops.getLayers().map(l => l.feature.properties.id)")
    assert len(ids) == STOPS - 2 and problem_id not in ids and third not in ids
    assert page.evaluate("gridmap.count('start')") == 1
    assert "remaining=1" in page.locator("#route-gpx").get_attribute("href")
    assert browser_page.blocked == [] and browser_page.problems == {}, browser_page.problems


def test_the_report_picker_draws_the_grids_and_names_the_streets(browser_page, live_server, town):
    page = browser_page.page
    page.set_viewport_size(PHONE)
    login(browser_page, live_server, "reporter")
    page.goto(f"{live_server.url}/problems/report/")
    page.wait_for_function("() => window.gridmapPicker && window.gridmapPicker.ready")
    assert page.evaluate("gridmapPicker.grids.getLayers().length") == 2
    page.evaluate(
        f"() => {{ gridmapPicker.map.setView([{LAT0 + 0.001}, {LON0 + 0.003}], 16, {{animate: false}}); }}"
    )
    labels = page.evaluate("gridmapPicker.labels()")
    assert "人民路" in labels and town["g1"].code in labels
    assert browser_page.blocked == [] and browser_page.problems == {}, browser_page.problems
