"""The community map with its large layers drawn from our vector tiles (PostGIS), in Debian's
Chromium with every non-local request blocked; on SpatiaLite the same map embeds every feature."""

import os

import pytest
from django.contrib.gis.geos import Point

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building
from gridmap.maps import builders
from gridmap.maps.mvt import features
from gridmap.problems.models import EventCategory, Problem, Status
from tests.browser.test_grid_page import login
from tests.factories import LAT0, LON0, box, grid, region_tree, user

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
W = 0.002


@pytest.fixture
def town(catalogues, monkeypatch):
    """A community of two grids with 12 buildings, 30 problems (a third closed) and 12 hydrants;
    the tile threshold is lowered to 10 so that this small town takes the tiled path."""
    monkeypatch.setattr(builders, "VECTOR_MIN_FEATURES", 10)
    (community,) = region_tree()
    grids = [grid(community, i + 1, (LON0 + i * W, LAT0, LON0 + (i + 1) * W, LAT0 + W)) for i in range(2)]
    cat = EventCategory.objects.get(code="0301")
    hydrant = FacilityKind.objects.get(code="hydrant")
    for g in grids:
        x0, y0 = g.geom.extent[:2]
        for i in range(6):
            x = x0 + 0.0002 + i * 0.0003
            Building.objects.create(geom=box(x, y0 + 0.0002, x + 0.0001, y0 + 0.0003), grid=g,
                                    community=community, households=i, address=f"楼{i}")  # fmt: skip
        for i in range(15):
            Problem.objects.create(
                geom=Point(x0 + 0.0002 + (i % 5) * 0.0003, y0 + 0.0008 + (i // 5) * 0.0003), grid=g,
                community=community, category=cat, description=f"<b>占道</b> {i}",
                status=Status.CLOSED if i % 3 == 0 else Status.REPORTED,
            )  # fmt: skip
        for i in range(6):
            Facility.objects.create(kind=hydrant, grid=g, geom=Point(x0 + 0.0003 * (i + 1), y0 + 0.0016))
    user("head", Role.COMMUNITY_HEAD, community=community)
    return community


def open_map(bp, live_server, community):
    login(bp, live_server, "head")
    bp.page.goto(f"{live_server.url}/communities/{community.code}/map/")
    bp.page.wait_for_function("() => window.gridmap && window.gridmap.ready === true", timeout=20_000)
    return bp.page


def test_the_community_map_draws_its_large_layers_from_vector_tiles(browser_page, live_server, town):
    bp = browser_page
    tile_answers = []
    bp.page.on("response", lambda r: "/tiles/vt/" in r.url and tile_answers.append((r.status, r.url)))
    page = open_map(bp, live_server, town)
    html = page.content()
    if not features().vector_tiles:  # SpatiaLite: the same map with every feature embedded
        assert page.evaluate("gridmap.count('problems')") == 30
        assert page.evaluate("gridmap.count('buildings')") == 12
        assert not tile_answers and "VectorGrid" not in html
        assert not bp.problems, bp.problems
        return
    # a community's map opens without its buildings (they bury the problems): switched on here
    assert not page.evaluate("gridmap.map.hasLayer(gridmap.layers.buildings)")
    page.evaluate("() => { gridmap.map.addLayer(gridmap.layers.buildings); }")
    page.wait_for_function(
        "() => ['buildings', 'problems'].every(k => gridmap.vt[k] && gridmap.vt[k].loaded > 0) && gridmap.vtIdle()",
        timeout=20_000,
    )
    state = page.evaluate("gridmap.vt")
    assert state["problems"]["failed"] == state["buildings"]["failed"] == 0
    assert state["problems"]["drawn"] >= 30 and state["buildings"]["drawn"] >= 12  # tiles overlap: ≥
    assert tile_answers and all(status in (200, 204) for status, _ in tile_answers)
    assert any(status == 200 and "/problems/" in u and "status=all" in u for status, u in tile_answers)
    assert all(f"community={town.code}" in u for _, u in tile_answers)
    painted = page.evaluate(
        """() => Array.from(document.querySelectorAll('.leaflet-tile-container canvas')).map(c => {
            var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = 0;
            for (var i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } }
            return n; }).reduce((a, b) => a + b, 0)"""
    )
    assert painted > 500  # the canvas tiles hold drawn pixels

    # a click on a problem at a zoom whose tiles carry styles only: its popup reads the detail tile
    problem = Problem.objects.filter(status=Status.REPORTED).order_by("pk").first()
    lon, lat = problem.geom.coords
    page.evaluate(f"gridmap.map.setView([{lat}, {lon}], 14, {{animate: false}})")
    page.wait_for_function("() => gridmap.vtIdle()", timeout=20_000)
    point = page.evaluate(
        f"(() => {{ var p = gridmap.map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
    )
    box_ = page.locator(".leaflet-container").bounding_box()
    page.mouse.click(box_["x"] + point[0], box_["y"] + point[1])
    popup = page.locator(".leaflet-popup-content", has_text="占道")  # after the detail tile came
    popup.wait_for(timeout=10_000)
    text = popup.inner_text()
    assert "<b>占道</b>" in text  # the description, as text, from the detail tile
    assert popup.locator("a.gridmap-link").count() == 1
    assert not bp.problems, bp.problems


def test_the_planner_draws_buildings_and_facilities_from_vector_tiles(browser_page, live_server, town):
    bp = browser_page
    if not features().vector_tiles:
        pytest.skip(
            "vector tiles need PostGIS (the planner's SpatiaLite path is tests/browser/test_planner_map.py)"
        )
    user("planner", Role.PLANNER)
    login(bp, live_server, "planner")
    bp.page.goto(f"{live_server.url}/planner/map/?kind=hydrant")
    page = bp.page
    page.wait_for_function("() => window.gridmap && window.gridmap.ready === true", timeout=20_000)
    page.evaluate(f"gridmap.map.setView([{LAT0 + 0.001}, {LON0 + 0.002}], 17, {{animate: false}})")
    page.wait_for_function(
        "() => gridmap.vt.buildings && gridmap.vt.buildings.loaded > 0 && gridmap.vtIdle()", timeout=20_000
    )
    assert page.evaluate("Object.keys(gridmap.vt).sort()") == ["buildings", "facilities", "kind-facilities"]
    assert page.evaluate("gridmap.vt.buildings.drawn") >= 12
    assert page.evaluate("gridmap.vt['kind-facilities'].drawn") >= 12  # the chosen kind, shown at first
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any("Buildings" in t or "建筑" in t for t in labels)
    assert not bp.problems, bp.problems
