"""The leader map follows the user's language: Chinese by default, English with the language cookie."""

import re

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import translation

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.maps.labels import map_labels
from gridmap.problems.models import EventCategory, Problem
from layers.maps import DEFAULT_LABELS
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.layers.maps.test_maps import map_spec

pytestmark = pytest.mark.django_db
PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.fixture
def leader_grid():
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    g = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    Facility.objects.create(
        kind=FacilityKind.objects.get(code="hydrant"), geom=Point(LON0 + 0.001, LAT0 + 0.001)
    )
    Problem.objects.create(
        geom=Point(LON0 + 0.001, LAT0 + 0.0012),
        grid=g,
        community=community,
        category=EventCategory.objects.get(code="0201"),
        description="x",
    )
    return g, leader


def layer_names(client, code: str) -> dict[str, str]:
    response = client.get(reverse("grid-map", args=[code]))
    assert response.status_code == 200
    return {layer["key"]: layer["name"] for layer in map_spec(response.content.decode())["layers"]}


def test_the_grid_map_is_chinese_by_default_and_english_with_the_language_cookie(client, leader_grid):
    g, leader = leader_grid
    client.force_login(leader)
    names = layer_names(client, g.code)
    assert (names["boundary"], names["problems"], names["negative_list"]) == (
        "网格边界",
        "问题",
        "负面清单（未结问题）",
    )
    assert names["facility:hydrant"] == "消火栓"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    names = layer_names(client, g.code)
    assert (names["boundary"], names["problems"], names["negative_list"]) == (
        "Grid boundary",
        "Problems",
        "Negative list (open problems)",
    )
    assert names["facility:hydrant"] == "fire hydrant"  # the kind's English name
    assert not [n for n in names.values() if re.search(r"[\u4e00-\u9fff]", n)], names
    page = client.get(reverse("grid-map", args=[g.code])).content.decode()
    spec = map_spec(page)
    assert "<h4>Problem class</h4>" in spec["legend"] and "Publicity and advertising" in spec["legend"]
    problems = next(layer for layer in spec["layers"] if layer["key"] == "problems")
    assert problems["popup"]["aliases"][:2] == ["No.", "Category"]
    category = EventCategory.objects.get(code="0201")
    assert category.name_en and category.name_en in page and category.name not in page  # the data too
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert category.name in client.get(reverse("grid-map", args=[g.code])).content.decode()


def test_the_labels_have_every_key_and_their_chinese_is_the_layers_default():
    with translation.override("en"):
        english = map_labels()
    with translation.override("zh-hans"):
        chinese = map_labels()
    assert set(english) == set(chinese) == set(DEFAULT_LABELS)
    differ = {k: (chinese[k], v) for k, v in DEFAULT_LABELS.items() if chinese[k] != v}
    assert differ == {
        "problem_link": ("打开问题页面", "查看问题详情")
    }  # the site's wording, also on route maps
    for key, text in english.items():
        assert PLACEHOLDER.findall(text) == PLACEHOLDER.findall(DEFAULT_LABELS[key]), key
        assert not re.search(r"[\u4e00-\u9fff]", text), key
