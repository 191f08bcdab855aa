"""The city bench's URL list (bench/city_pages.py ``urls``): every URL is one the project serves,
and the pages added since the first city run (the ten steps, grids not walked lately, the
campaign's readiness list and ranking, surveys, the figures by community, OGC API items) answer
an administrator on the demo town, so the next city run times pages, not errors."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.db.models import Count
from django.test import Client
from django.urls import Resolver404, resolve

from bench.city_pages import Place, urls
from gridmap.geography.models import Community, Grid
from gridmap.problems.models import Problem

ADDED = (
    "ten steps",
    "grids not walked",
    "readiness",
    "readiness ranking communities",
    "readiness ranking grids",
    "surveys",
    "evaluation figures by community",
    "OGC problems items",
    "OGC grids items",
)
PLACE = Place(grid="320581107003001", community="320581107003", problem=1, bbox="120.8,31.6,120.9,31.7")


def test_the_list_names_each_work_once_and_holds_the_added_pages():
    works = [work for work, _, _ in urls(PLACE)]
    assert len(works) == len(set(works))
    assert set(ADDED) <= set(works)


@pytest.mark.parametrize(("work", "url"), [(w, u) for w, u, _ in urls(PLACE)])
def test_every_url_is_served_by_a_named_view(work, url):
    """Not the catch-all that answers a path no view serves (its 404), nor OGC API's."""
    path = urlsplit(url).path
    try:
        match = resolve(path)
    except Resolver404:
        pytest.fail(f"{work}: {path} resolves to nothing")
    assert match.url_name and match.url_name != "not_found", f"{work}: {path} reaches no view of its own"


def _demo_place() -> Place:
    """bench/city_pages.place_of on the demo town, through the ORM (it reads PostGIS with psql)."""
    community = Community.objects.annotate(n=Count("grids")).order_by("-n", "code").first()
    grid = Grid.objects.filter(community=community).order_by("code").first()
    problem = Problem.objects.filter(grid=grid).order_by("-pk").first()
    x0, y0, x1, y1 = community.geom.extent
    return Place(grid=grid.code, community=community.code, problem=problem.pk, bbox=f"{x0},{y0},{x1},{y1}")


def test_the_added_pages_answer_an_administrator_on_the_demo_town(demo_town):
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username="demo_admin"))
    found = {work: url for work, url, _ in urls(_demo_place())}
    for work in ADDED:
        response = client.get(found[work])
        assert response.status_code == 200, f"{work}: {found[work]} answered {response.status_code}"
        if work.startswith("OGC"):
            page = json.loads(response.content)
            assert page["type"] == "FeatureCollection" and page["features"], work
            assert any(link["rel"] == "next" for link in page["links"]), f"{work}: a first page of more"
