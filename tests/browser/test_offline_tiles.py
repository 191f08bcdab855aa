"""Tile sources in the browser: none requests no tile; a folder or MBTiles loads from our /tiles/ view."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point

from gridmap.accounts.models import Role
from gridmap.problems.models import EventCategory, Problem
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.maps.test_tiles_view import PNG, make_folder, make_mbtiles, tiles_around

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
READY = "() => window.gridmap && window.gridmap.ready === true"
LEVELS = range(0, 20)
TILE_LAYERS = "() => { let n = 0; gridmap.map.eachLayer(l => { n += l instanceof L.TileLayer; }); return n; }"


@pytest.fixture
def town(catalogues):
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    mine = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    Problem.objects.create(
        geom=Point(LON0 + 0.001, LAT0 + 0.001), grid=mine, community=community,
        category=EventCategory.objects.get(code="0201"), description="小广告",
    )  # fmt: skip
    return mine


def open_map(bp, live_server, code: str):
    page = bp.page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "leader")
    page.fill("input[name=password]", "pw-for-tests-only")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    response = page.goto(f"{live_server.url}/grids/{code}/map/")
    assert response.status == 200, (response.status, bp.problems)
    try:
        page.wait_for_function(READY, timeout=20_000)
    except Exception as e:
        raise AssertionError(f"the map did not get ready: {bp.problems}") from e
    return page


def test_with_no_tiles_no_tile_is_requested(browser_page, live_server, settings, town) -> None:
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": "none"}
    page = open_map(browser_page, live_server, town.code)
    assert page.evaluate(TILE_LAYERS) == 0 and page.locator(".leaflet-tile").count() == 0
    assert page.evaluate("() => gridmap.count('problems')") == 1
    assert not [  # the folded layer list's button is Leaflet's own icon (vendored layers.png), no tile
        u for u in browser_page.requests
        if "/tiles/" in u or (u.endswith((".png", ".jpg")) and not u.endswith("/vendor/leaflet-1.9.4/images/layers.png"))
    ]  # fmt: skip
    assert browser_page.problems == {}


@pytest.mark.parametrize("kind", ["folder", "mbtiles"])
def test_a_local_source_loads_tiles_from_our_view(
    browser_page, live_server, settings, tmp_path: Path, town, kind
):
    if kind == "folder":
        source = f"folder:{make_folder(tmp_path / 'tiles', PNG, levels=LEVELS)}"
    else:
        tiles = dict.fromkeys(tiles_around(LEVELS), PNG)
        source = f"mbtiles:{make_mbtiles(tmp_path / 'town.mbtiles', tiles, metadata={'format': 'png'})}"
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": source}
    page = open_map(browser_page, live_server, town.code)
    page.wait_for_function("() => document.querySelectorAll('.leaflet-tile-loaded').length > 0")
    assert page.evaluate(TILE_LAYERS) == 1
    requested = [u for u in browser_page.requests if "/tiles/" in u]
    assert requested and all(
        u.startswith(f"{live_server.url}/tiles/") and u.endswith(".png") for u in requested
    )
    assert page.evaluate("() => gridmap.count('problems')") == 1
    assert browser_page.blocked == [] and browser_page.problems == {}, browser_page.problems
