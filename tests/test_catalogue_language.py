"""Catalogue names (event categories, facility kinds) follow the user's language on every page:
the English name while English is active (when the entry has one), the Chinese name otherwise."""

import re

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import translation

from gridmap.accounts.models import Role
from gridmap.core.language import local_name
from gridmap.facilities.models import FacilityKind
from gridmap.problems.models import EventCategory, Problem
from tests.factories import LAT0, LON0, grid, region_tree, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    (community,) = region_tree()
    leader, reporter = user("leader", Role.GRID_LEADER), user("reporter")
    g = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    category = EventCategory.objects.get(code="0201")
    problem = Problem.objects.create(geom=Point(LON0 + 0.001, LAT0 + 0.001), grid=g, community=community,
                                     category=category, description="x", reporter=reporter)  # fmt: skip
    kind = FacilityKind.objects.filter(service_radius_m__isnull=False).exclude(name_en="").first()
    return {"grid": g, "leader": leader, "category": category, "problem": problem, "kind": kind,
            "reporter": reporter, "planner": user("plan", Role.PLANNER)}  # fmt: skip


def page(client, who, url, language):
    client.force_login(who)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200, response.content[:1000]
    return response.content.decode()


def test_local_name_is_the_english_name_only_while_english_is_active():
    with translation.override("en"):
        assert local_name("垃圾桶", "rubbish bin") == "rubbish bin"
        assert local_name("垃圾桶", "") == "垃圾桶"  # no English name: its own
    with translation.override("zh-hans"):
        assert local_name("垃圾桶", "rubbish bin") == "垃圾桶"


@pytest.mark.parametrize(
    "who, url",
    [
        ("leader", lambda t: reverse("problem-list")),
        ("leader", lambda t: reverse("problem-detail", args=[t["problem"].pk])),
        ("leader", lambda t: reverse("grid-detail", args=[t["grid"].code])),  # negative list
        ("reporter", lambda t: reverse("dashboard")),  # their reports
    ],
)
def test_pages_name_the_category_in_the_users_language(client, town, who, url):
    category = town["category"]
    assert category.name_en and category.name != category.name_en
    english = page(client, town[who], url(town), "en")
    assert category.name_en in english and category.name not in english
    chinese = page(client, town[who], url(town), "zh-hans")
    assert category.name in chinese


def test_the_category_choices_of_the_report_form_and_the_list_filter(client, town):
    category = town["category"]
    url = reverse("problem-list")
    english = page(client, town["leader"], url, "en")
    assert f">{category.code} {category.name_en}</option>" in english
    chinese = page(client, town["leader"], url, "zh-hans")
    assert f">{category.code} {category.name}</option>" in chinese
    # the report form: by name only (no code), with its class's icon
    english = page(client, town["leader"], reverse("problem-report"), "en")
    assert (
        f"<span>{category.name_en}</span>" in english and f"{category.code} {category.name_en}" not in english
    )
    chinese = page(client, town["leader"], reverse("problem-report"), "zh-hans")
    assert f"<span>{category.name}</span>" in chinese and f"class-{category.event_class}.svg" in chinese


def test_the_grid_pages_coverage_figures_and_the_planners_kinds(client, town):
    kind = town["kind"]
    assert kind is not None and kind.name != kind.name_en
    url = reverse("grid-detail", args=[town["grid"].code])
    english = page(client, town["leader"], url, "en")
    assert re.search(rf"<dt>{re.escape(kind.name_en)} \(\d+ m\)</dt>", english)
    chinese = page(client, town["leader"], url, "zh-hans")  # the same cached analysis, named anew
    assert re.search(rf"<dt>{re.escape(kind.name)} \(\d+ m\)</dt>", chinese)
    english = page(client, town["planner"], reverse("planner"), "en")
    assert f">{kind.name_en}</option>" in english and f">{kind.name}</option>" not in english
