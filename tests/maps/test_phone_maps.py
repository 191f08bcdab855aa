"""The grid and community maps as a phone user meets them: which layers are on when a map opens,
popups with names instead of stored codes, street names and grid codes written from our own
data, the report picker's grid outlines. (The browser side: tests/browser/test_phone_maps.py.)"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.contrib.gis.geos import LineString, Point
from django.urls import reverse
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Street
from gridmap.maps.builders import KINDS_ON
from gridmap.problems.models import EventCategory, Problem, Status
from tests.factories import LAT0, LON0, box, grid, region_tree, user
from tests.layers.maps.test_maps import map_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    c1, c2 = region_tree(n=2)
    leader = user("leader", Role.GRID_LEADER)
    head = user("head", Role.COMMUNITY_HEAD, community=c1)
    g1 = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    g2 = grid(c1, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002))
    grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002))
    Building.objects.create(
        geom=box(LON0 + 0.0005, LAT0 + 0.0005, LON0 + 0.0006, LAT0 + 0.0006), grid=g1, community=c1,
        address="一号楼", use=Building.Use.RESIDENTIAL, households=12,
    )  # fmt: skip
    for i, code in enumerate(["hydrant", "street_light", "curb_ramp", "litter_bin"]):
        Facility.objects.create(
            kind=FacilityKind.objects.get(code=code), geom=Point(LON0 + 0.0004 + i * 1e-4, LAT0 + 0.001),
            grid=g1, name=f"{code}-1", condition=Facility.Condition.DAMAGED,
        )  # fmt: skip
    cat = EventCategory.objects.get(code="0201")
    late = timezone.now() - timedelta(days=1)
    for status, dx in [(Status.DISPATCHED, 0.0010), (Status.CLOSED, 0.0012), (Status.REJECTED, 0.0014)]:
        Problem.objects.create(geom=Point(LON0 + dx, LAT0 + 0.0012), grid=g1, community=c1, category=cat,
                               status=status, deadline=late)  # fmt: skip
    Street.objects.create(
        geom=LineString((LON0, LAT0 + 0.001), (LON0 + 0.004, LAT0 + 0.001), srid=4326),
        name="人民路",
        length_m=400,
    )
    Street.objects.create(  # far from the community: not on its map
        geom=LineString((LON0 + 0.05, LAT0), (LON0 + 0.06, LAT0), srid=4326), name="远方路", length_m=900
    )
    return {"c1": c1, "g1": g1, "g2": g2, "leader": leader, "head": head}


def _layers(client, url: str) -> dict:
    page = client.get(url)
    assert page.status_code == 200
    return {layer["key"]: layer for layer in map_spec(page.content.decode())["layers"]}


def _shown(layers: dict) -> set[str]:
    return {k for k, v in layers.items() if v["show"]}


def test_a_community_map_opens_on_the_open_problems_the_grids_and_a_few_kinds(client, town):
    client.force_login(town["head"])
    layers = _layers(client, reverse("community-map", args=[town["c1"].code]))
    kinds_on = {f"facility:{k}" for k in ("hydrant", "litter_bin")}
    assert _shown(layers) == {"streets", "boundary", "problems", "place_labels"} | kinds_on
    assert {"facility:street_light", "facility:curb_ramp", "buildings", "problems_closed"} <= set(layers)
    assert {"hydrant", "litter_bin"} <= set(KINDS_ON) and not {"street_light", "curb_ramp"} & set(KINDS_ON)
    # the open problem on the open layer, the closed and rejected ones in their own layer (off)
    assert layers["problems"]["data"]["n"] == 1 and layers["problems_closed"]["data"]["n"] == 2


def test_a_grid_map_also_opens_with_its_buildings(client, town):
    client.force_login(town["leader"])
    layers = _layers(client, reverse("grid-map", args=[town["g1"].code]))
    assert "buildings" in _shown(layers) and "facility:street_light" not in _shown(layers)


def test_popups_show_the_names_of_coded_values_in_the_active_language(client, town, settings):
    client.force_login(town["leader"])
    url = reverse("grid-map", args=[town["g1"].code])
    layers = _layers(client, url)
    assert layers["buildings"]["data"]["props"]["use"] == ["住宅"]
    assert layers["facility:hydrant"]["data"]["props"]["condition"] == ["损坏"]
    page = client.get(url).content.decode()
    assert "已逾期" not in page and "已超期" in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = _layers(client, url)
    assert english["buildings"]["data"]["props"]["use"] == ["residential"]
    assert english["facility:hydrant"]["data"]["props"]["condition"] == ["damaged"]


def test_street_names_and_grid_codes_are_written_from_our_data(client, town):
    client.force_login(town["head"])
    layers = _layers(client, reverse("community-map", args=[town["c1"].code]))
    texts = {(label["cls"], label["text"]) for label in layers["place_labels"]["labels"]}
    assert ("street", "人民路") in texts and ("street", "远方路") not in texts
    assert {("grid-code", town["g1"].code), ("grid-code", town["g2"].code)} <= texts
    assert layers["streets"]["data"]["n"] == 1  # the far street is not drawn either


def test_the_scale_bar_is_metric_only(client, town):
    client.force_login(town["leader"])
    page = client.get(reverse("grid-map", args=[town["g1"].code])).content.decode()
    assert "L.control.scale({imperial: false, metric: true})" in page
    assert "L.control.scale()" not in page


def _picker(page: str) -> dict:
    block = re.search(r'<script id="picker-config" type="application/json">(.*?)</script>', page, re.S)
    assert block, "no picker settings on the report page"
    return json.loads(block.group(1))


def test_the_report_picker_draws_every_grid_outline_for_a_reporter(client, town):
    reporter = user("reporter", Role.REPORTER)
    client.force_login(reporter)
    page = client.get(reverse("problem-report")).content.decode()
    config = _picker(page)
    codes = {f["properties"]["code"] for f in config["grids"]["features"]}
    assert len(codes) == 3 and town["g1"].code in codes
    assert set(config["grids"]["features"][0]["properties"]) == {"code", "name"}  # no people
    # a grid leader still sees their own grids only
    client.force_login(town["leader"])
    page = client.get(reverse("problem-report")).content.decode()
    config = _picker(page)
    assert {f["properties"]["code"] for f in config["grids"]["features"]} == {town["g1"].code}
