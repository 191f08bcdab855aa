"""Over GCJ-02 tiles the map draws our WGS84 data moved by the GCJ-02 offset; the database keeps WGS84."""

from __future__ import annotations

import math

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from shapely.geometry import shape

from gridmap.accounts.models import Role
from gridmap.maps.builders import area_map
from gridmap.problems.models import EventCategory, Problem
from layers.chinacoords import wgs84_to_gcj02
from layers.maps import MapAssets, TileSource, unpack_features
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.layers.maps.test_maps import embedded_layers

pytestmark = pytest.mark.django_db
AMAP = "https://webrd0{s}.is.autonavi.example/appmaptile?x={x}&y={y}&z={z}&style=8"
SPOT = (LON0 + 0.0011, LAT0 + 0.0007)


@pytest.fixture
def town():
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    mine = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    problem = Problem.objects.create(
        geom=Point(*SPOT, srid=4326),
        grid=mine,
        community=community,
        category=EventCategory.objects.get(code="0201"),
        description="小广告",
    )
    return mine, problem


def drawn(page: str, key: str) -> list[tuple[float, float]]:
    """(lon, lat) of each point feature of layer ``key`` as the page would draw it."""
    return [tuple(f["geometry"]["coordinates"]) for f in unpack_features(embedded_layers(page)[key])]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 110_574)


def test_a_problem_is_drawn_at_its_gcj02_position_over_gcj02_tiles(town) -> None:
    mine, problem = town
    gcj = TileSource(AMAP, "高德", subdomains="1234", datum="gcj02")
    shifted = drawn(area_map([mine], assets=MapAssets(), tiles=gcj).get_root().render(), "problems")
    plain = drawn(area_map([mine], assets=MapAssets(), tiles=None).get_root().render(), "problems")
    wgs = TileSource("https://t.example/{z}/{x}/{y}.png", "OSM")
    over_wgs = drawn(area_map([mine], assets=MapAssets(), tiles=wgs).get_root().render(), "problems")
    glon, glat = wgs84_to_gcj02([SPOT[0]], [SPOT[1]])
    assert plain == over_wgs == [pytest.approx(SPOT, abs=1e-6)]
    assert shifted == [pytest.approx((glon[0], glat[0]), abs=1e-6)]  # exactly the offset, to 0.1 m
    assert 300 < metres(shifted[0], plain[0]) < 800
    problem.refresh_from_db()
    assert (problem.geom.x, problem.geom.y) == pytest.approx(SPOT, abs=1e-12)


def test_the_grid_page_follows_the_configured_datum(client, settings, town) -> None:
    mine, _ = town
    client.login(username="leader", password="pw-for-tests-only")
    url = reverse("grid-map", args=[mine.code])
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": f"gcj02:{AMAP}", "TILES_SUBDOMAINS": "1234"}
    (shifted,) = drawn(client.get(url).content.decode(), "problems")
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": "none"}
    (plain,) = drawn(client.get(url).content.decode(), "problems")
    glon, glat = wgs84_to_gcj02([SPOT[0]], [SPOT[1]])
    assert shifted == pytest.approx((glon[0], glat[0]), abs=1e-6) and plain == pytest.approx(SPOT, abs=1e-6)
    (boundary,) = unpack_features(embedded_layers(client.get(url).content.decode())["boundary"])
    assert shape(boundary["geometry"]).bounds[:2] == pytest.approx((LON0, LAT0), abs=1e-6)
