"""``/tiles/vt/<layer>/<z>/<x>/<y>.pbf``: scoped vector tiles on PostGIS, decoded here; the clear
501 on SpatiaLite; hostile z/x/y and queries; the ETag that follows the data."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from urllib.parse import quote

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Street
from gridmap.maps import builders
from gridmap.maps.mvt import LAYERS, features
from gridmap.problems.models import EventCategory, Problem, Status
from tests.factories import LAT0, LON0, box, grid, region_tree, user
from tests.hostile import tally
from tests.maps.test_tiles_view import tile_xy

W = 0.002
Z = 14  # tiles with the attributes styles need; the town sits on a tile edge at this zoom
X, Y = tile_xy(LON0 + 0.003, LAT0 + 0.001, Z)
ZD = 17  # tiles with the popup attributes


@pytest.fixture
def tiles_here(db) -> None:
    if not features().vector_tiles:
        pytest.skip("vector tiles need PostGIS")


@pytest.fixture
def town(catalogues):
    """Two communities of one grid each, each with 3 buildings, 3 open and 1 closed problem."""
    leader = user("leader", Role.GRID_LEADER)
    c1, c2 = region_tree(n=2)
    g1 = grid(c1, 1, (LON0, LAT0, LON0 + W, LAT0 + W), leader=leader)
    g2 = grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.004 + W, LAT0 + W))
    cat = EventCategory.objects.get(code="0301")
    now = timezone.now()
    for g in (g1, g2):
        x0, y0 = g.geom.extent[:2]
        for i in range(3):
            x = x0 + 0.0003 + i * 0.0005
            Building.objects.create(geom=box(x, y0 + 0.0003, x + 0.0001, y0 + 0.0004), grid=g,
                                    community=g.community, households=i, address=f"{g.code}-{i}")  # fmt: skip
            Problem.objects.create(geom=Point(x, y0 + 0.001), grid=g, community=g.community, category=cat,
                                   status=Status.REPORTED, deadline=now + timedelta(days=1 - 2 * i))  # fmt: skip
        Problem.objects.create(geom=Point(x0 + 0.001, y0 + 0.0015), grid=g, community=g.community,
                               category=cat, status=Status.CLOSED)  # fmt: skip
        Facility.objects.create(kind=FacilityKind.objects.get(code="hydrant"), grid=g,
                                geom=Point(x0 + 0.0004, y0 + 0.0004))  # fmt: skip
    Street.objects.create(
        geom="LINESTRING(120.87 31.6205, 120.878 31.6205)", name="路", highway="residential"
    )
    return g1, g2, leader


def client_of(u) -> Client:
    c = Client()
    c.force_login(u)
    return c


def decoded(response) -> dict:
    assert response.status_code in (200, 204), response.content[:200]
    if response.status_code == 204:
        assert response.content == b""
        return {}
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content)


def props(response, layer: str) -> list[dict]:
    return [f["properties"] for f in decoded(response).get(layer, {}).get("features", [])]


def url(layer: str, z: int = Z, x: int = X, y: int = Y) -> str:
    return f"/tiles/vt/{layer}/{z}/{x}/{y}.pbf"


def around(client: Client, layer: str, query: str = "") -> list[dict]:
    """The features of ``layer`` in the 3 × 3 tiles at zoom Z around the town (each once, by id)."""
    found = {}
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            for p in props(client.get(url(layer, Z, X + dx, Y + dy) + query), layer):
                found.setdefault(p["id"], p)
    return list(found.values())


def test_a_leader_tile_holds_only_the_leaders_grid_and_an_admin_tile_all(town, tiles_here):
    g1, g2, leader = town
    mine, admin = client_of(leader), client_of(user("admin", Role.ADMIN))
    ids = {g: set(Building.objects.filter(grid=g).values_list("pk", flat=True)) for g in (g1, g2)}
    assert {p["id"] for p in around(mine, "buildings")} == ids[g1]
    assert {p["id"] for p in around(admin, "buildings")} == ids[g1] | ids[g2]
    assert [p["code"] for p in around(mine, "grids")] == [g1.code]
    assert len(around(admin, "grids")) == 2

    open_ = around(mine, "problems")
    assert len(open_) == 3 and {p["status"] for p in open_} == {"reported"}
    assert sorted(p["overdue"] for p in open_) == [False, True, True]  # deadlines +1, -1, -3 days
    assert {p["category"] for p in open_} == {"0301"}
    assert {p["id"] for p in open_} == set(
        Problem.objects.filter(grid=g1, status="reported").values_list("pk", flat=True)
    )
    assert "reported_at" not in open_[0]  # popup attributes come with the detail zoom only
    assert len(around(mine, "problems", "?status=all")) == 4
    assert len(around(admin, "problems", "?status=all")) == 8
    assert len(around(mine, "facilities")) == 1
    assert len(around(admin, "facilities", "?kind=hydrant")) == 2
    assert around(admin, "facilities", "?kind=toilet") == []
    assert len(around(mine, "streets")) == 1


def test_detail_tiles_carry_the_popup_attributes(town, tiles_here):
    g1, g2, leader = town
    mine = client_of(leader)
    b = Building.objects.get(grid=g1, households=0)
    found = {
        p["id"]: p
        for p in props(mine.get(url("buildings", ZD, *tile_xy(*b.geom.centroid.coords, ZD))), "buildings")
    }
    assert found[b.pk]["address"] == f"{g1.code}-0" and found[b.pk]["use"] == "other"
    first = Problem.objects.get(grid=g1, status="reported", deadline__gt=timezone.now())
    detail = {
        p["id"]: p for p in props(mine.get(url("problems", ZD, *tile_xy(*first.geom.coords, ZD))), "problems")
    }
    assert detail[first.pk]["reported_at"] == timezone.localtime(first.reported_at).strftime("%Y-%m-%d %H:%M")
    assert detail[first.pk]["category_name"] and detail[first.pk]["overdue"] is False


def test_the_community_filter_narrows_within_the_scope(town, tiles_here):
    g1, g2, leader = town
    admin, mine = client_of(user("admin", Role.ADMIN)), client_of(leader)
    only = around(admin, "buildings", f"?community={g2.community.code}")
    assert {p["id"] for p in only} == set(Building.objects.filter(grid=g2).values_list("pk", flat=True))
    only = around(admin, "problems", f"?grid={g1.code}&status=all")
    assert {p["id"] for p in only} == set(Problem.objects.filter(grid=g1).values_list("pk", flat=True))
    assert mine.get(url("buildings") + f"?community={g2.community.code}").status_code == 204


def test_empty_tiles_are_204_and_tiles_below_a_layers_zoom_too(town, tiles_here):
    admin = client_of(user("admin", Role.ADMIN))
    assert admin.get(url("buildings", Z, X + 3, Y)).status_code == 204  # nothing there
    z = LAYERS["buildings"].min_zoom - 1
    x, y = tile_xy(LON0 + 0.001, LAT0 + 0.001, z)
    assert admin.get(url("buildings", z, x, y)).status_code == 204
    x, y = tile_xy(LON0 + 0.00085, LAT0 + 0.00035, 18)  # in the second building
    assert len(props(admin.get(url("buildings", 18, x, y)), "buildings")) >= 1


def test_etag_answers_304_until_the_data_changes(town, tiles_here):
    g1, g2, leader = town
    admin = client_of(user("admin", Role.ADMIN))
    first = admin.get(url("buildings"))
    assert first["Cache-Control"] == "private, no-cache" or set(first["Cache-Control"].split(", ")) == {
        "private",
        "no-cache",
    }
    etag = first["ETag"]
    assert admin.get(url("buildings"), HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client_of(leader).get(url("buildings"))["ETag"] != etag  # another scope, another tag
    assert admin.get(url("buildings") + f"?community={g1.community.code}")["ETag"] != etag
    Building.objects.filter(grid=g2).update(households=99)
    again = admin.get(url("buildings"), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again["ETag"] != etag
    assert sorted(p["households"] for p in props(again, "buildings"))[-1] == 99


def test_refusals(town, tiles_here):
    g1, g2, leader = town
    admin = client_of(user("admin", Role.ADMIN))
    assert Client().get(url("buildings")).status_code == 403
    assert admin.get(url("nothing")).status_code == 404
    assert admin.get(url("buildings") + "?bbox=1,2,3,4").status_code == 400
    assert admin.get(url("buildings") + "?kind=hydrant").status_code == 400  # not a building filter
    assert admin.get(url("problems") + "?status=closed").status_code == 400
    assert admin.get(url("facilities") + "?kind=%27%3B--").status_code == 400
    assert admin.post(url("buildings")).status_code == 405


@pytest.mark.django_db
def test_spatialite_answers_501_clearly():
    if features().vector_tiles:
        pytest.skip("the answer of a database without ST_AsMVT")
    response = client_of(user("admin", Role.ADMIN)).get(url("buildings"))
    assert response.status_code == 501
    assert b"PostGIS" in response.content


NUMBER = st.one_of(
    st.integers(-5, 70_000),
    st.integers(min_value=2**40, max_value=10**30),
    st.sampled_from(["", "1e3", "0x1f", "٣", "1.5", "+1", " 1", "01", "9" * 400]),
    st.text(max_size=12),
)


@pytest.mark.django_db
@settings(max_examples=80, deadline=None)
@given(layer=st.sampled_from([*LAYERS, "x", "buildings.pbf", "%00", ".."]), z=NUMBER, x=NUMBER, y=NUMBER)
def test_hostile_paths_never_fail(layer, z, x, y):
    from django.contrib.auth import get_user_model

    u = get_user_model().objects.filter(username="hostile").first() or user("hostile", Role.ADMIN)
    segments = [quote(str(v), safe="") for v in (z, x, y)]
    response = client_of(u).get(
        f"/tiles/vt/{quote(layer, safe='%')}/{segments[0]}/{segments[1]}/{segments[2]}.pbf"
    )
    tally("vector tile", response.status_code)
    numbers = [int(v) if re.fullmatch(r"[0-9]+", str(v)) else None for v in (z, x, y)]
    zi, xi, yi = numbers
    in_pyramid = None not in numbers and zi <= 22 and xi < 2**zi and yi < 2**zi
    if not in_pyramid or layer not in LAYERS:
        assert response.status_code == 404
    else:
        assert response.status_code in ((200, 204) if features().vector_tiles else (501,))


def test_the_community_map_takes_tiles_for_its_large_layers_on_postgis_only(town, monkeypatch):
    g1, g2, leader = town
    head = user("head", Role.COMMUNITY_HEAD, community=g2.community)
    page = client_of(head).get(f"/communities/{g2.community.code}/map/").content.decode()
    assert "/tiles/vt/" not in page  # 3 buildings, 4 problems: embedded
    monkeypatch.setattr(builders, "VECTOR_MIN_FEATURES", 2)
    page = client_of(head).get(f"/communities/{g2.community.code}/map/").content.decode()
    if not features().vector_tiles:
        assert "/tiles/vt/" not in page and "VectorGrid" not in page  # SpatiaLite: GeoJSON as before
        return
    # a community of one grid: the tiles of that grid (a larger one is asked for by ?community=)
    assert f"/tiles/vt/problems/{{z}}/{{x}}/{{y}}.pbf?grid={g2.code}\\u0026status=all" in page
    assert f"/tiles/vt/buildings/{{z}}/{{x}}/{{y}}.pbf?grid={g2.code}" in page
    assert "leaflet.vectorgrid-1.3.0/Leaflet.VectorGrid.bundled.min.js" in page
    for key in ("buildings", "problems"):  # no embedded data for the tiled layers
        assert re.search(r'"key":"' + key + r'","name":"[^"]*","show":true,"tiles":', page)
    grid_page = client_of(leader).get(f"/grids/{g1.code}/map/").content.decode()
    assert f"/tiles/vt/buildings/{{z}}/{{x}}/{{y}}.pbf?grid={g1.code}" in grid_page


def test_the_planner_draws_buildings_and_facilities_from_tiles_when_large(town, monkeypatch):
    planner = client_of(user("planner", Role.PLANNER))
    assert "/tiles/vt/" not in planner.get("/planner/map/?kind=hydrant").content.decode()
    monkeypatch.setattr(builders, "VECTOR_MIN_FEATURES", 1)
    page = planner.get("/planner/map/?kind=hydrant").content.decode()
    if not features().vector_tiles:
        assert "/tiles/vt/" not in page
        return
    assert "/tiles/vt/buildings/{z}/{x}/{y}.pbf" in page
    assert "/tiles/vt/facilities/{z}/{x}/{y}.pbf?kind=hydrant" in page
    assert "/api/v1/buildings/" not in page and "/api/v1/problems/" in page  # problems keep their period


def test_a_tile_holds_at_most_its_limit_newest_first(town, tiles_here, monkeypatch):
    g1, g2, leader = town
    monkeypatch.setitem(LAYERS, "problems", dataclasses.replace(LAYERS["problems"], max_features=4))
    assert LAYERS["problems"].limit(13) == 2 and LAYERS["problems"].limit(14) == 4
    Problem.objects.filter(grid=g2, status=Status.CLOSED).update(
        reported_at=timezone.now() + timedelta(hours=1)
    )
    admin = client_of(user("admin", Role.ADMIN))
    x, y = tile_xy(LON0 + 0.003, LAT0 + 0.001, 13)
    got = props(admin.get(url("problems", 13, x, y) + "?status=all"), "problems")
    newest = Problem.objects.order_by("-reported_at", "-pk")[:2]
    assert [p["id"] for p in got] == [p.pk for p in newest] or {p["id"] for p in got} == {
        p.pk for p in newest
    }


def test_an_inspectors_patrol_change_gives_new_tiles(town, tiles_here):
    g1, g2, leader = town
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(g1.community)
    c = client_of(inspector)
    before = c.get(url("problems"))
    assert {p["id"] for p in around(c, "problems")} == set(
        Problem.objects.filter(grid=g1, status=Status.REPORTED).values_list("pk", flat=True)
    )
    inspector.profile.patrol_communities.add(g2.community)
    after = c.get(url("problems"), HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert len(around(c, "problems")) == 6
