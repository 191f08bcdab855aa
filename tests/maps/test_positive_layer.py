"""The positive list (正面清单) as a layer of the grid and community maps: off at first, the sites
of the map's grids only (scoped like the positive list page), named in the reader's language."""

import pytest
from django.conf import settings

from gridmap.accounts.models import Role
from gridmap.problems.models import PositiveSite
from layers.maps.packing import unpack_features
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.layers.maps.test_maps import map_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    c1, c2 = region_tree(n=2)
    leader = user("leader", Role.GRID_LEADER)
    a = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    b = grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002))
    for g, name in ((a, "甲网格示范点"), (b, "乙网格示范点")):
        PositiveSite.objects.create(name=name, description="干净整洁", geom=g.geom.centroid, grid=g,
                                    community=g.community)  # fmt: skip
    return {"a": a, "b": b, "leader": leader, "head": user("head", Role.COMMUNITY_HEAD, community=c1),
            "admin": user("admin", Role.ADMIN)}  # fmt: skip


def sites_on(client, who, url, language="zh-hans"):
    client.force_login(who)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    layers = {s["key"]: s for s in map_spec(response.content.decode())["layers"]}
    if "positive_sites" not in layers:
        return None, set()
    layer = layers["positive_sites"]
    return layer, {f["properties"]["name"] for f in unpack_features(layer["data"])}


def test_each_map_holds_the_sites_of_its_grids_off_at_first(client, town):
    a, b = town["a"], town["b"]
    layer, names = sites_on(client, town["leader"], f"/grids/{a.code}/map/")
    assert names == {"甲网格示范点"} and layer["show"] is False and layer["name"] == "正面清单（示范点位）"
    assert sites_on(client, town["head"], f"/communities/{a.community.code}/map/")[1] == {"甲网格示范点"}
    assert sites_on(client, town["admin"], f"/grids/{b.code}/map/")[1] == {"乙网格示范点"}
    assert client.get(f"/grids/{b.code}/map/").status_code == 200  # the admin's; the leader's is a 404:
    client.force_login(town["leader"])
    assert client.get(f"/grids/{b.code}/map/").status_code == 404


def test_the_layer_is_named_in_english_for_an_english_reader(client, town):
    layer, _ = sites_on(client, town["leader"], f"/grids/{town['a'].code}/map/", "en")
    assert layer["name"] == "Positive list (exemplary sites)"


def test_a_map_without_sites_has_no_such_layer(client, town):
    PositiveSite.objects.all().delete()
    assert sites_on(client, town["leader"], f"/grids/{town['a'].code}/map/") == (None, set())
