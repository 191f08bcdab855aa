"""Pages: login, the grids a user may see, a grid's map — scoped, and with nothing from a CDN."""

import re

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import translation

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building
from gridmap.problems.models import EventCategory, Problem
from tests.factories import LAT0, LON0, box, grid, region_tree, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    c1, c2 = region_tree(n=2)
    leader = user("leader", Role.GRID_LEADER)
    other_leader = user("other", Role.GRID_LEADER)
    g1 = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    g2 = grid(c1, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=other_leader)
    g3 = grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002))
    Building.objects.create(
        geom=box(LON0 + 0.0005, LAT0 + 0.0005, LON0 + 0.0006, LAT0 + 0.0006),
        grid=g1,
        address="<script>alert(1)</script>",
    )
    Facility.objects.create(
        kind=FacilityKind.objects.get(code="hydrant"), geom=Point(LON0 + 0.001, LAT0 + 0.001)
    )
    Problem.objects.create(
        geom=Point(LON0 + 0.001, LAT0 + 0.0012),
        grid=g1,
        community=c1,
        category=EventCategory.objects.get(code="0201"),
        description="<img src=x onerror=alert(1)>",
    )
    return {"c1": c1, "c2": c2, "g1": g1, "g2": g2, "g3": g3, "leader": leader}


def test_pages_need_a_login(client, town):
    for name, args in [
        ("grid-list", []),
        ("grid-detail", [town["g1"].code]),
        ("grid-map", [town["g1"].code]),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    "role,extra,visible",
    [
        (Role.ADMIN, {}, {"g1", "g2", "g3"}),
        (Role.PLANNER, {}, {"g1", "g2", "g3"}),
        (Role.COMMUNITY_HEAD, {"community": "c2"}, {"g3"}),
        (Role.REPORTER, {}, set()),
    ],
)
def test_the_grid_list_is_scoped_by_role(client, town, role, extra, visible):
    profile = {k: town[v] for k, v in extra.items()}
    client.force_login(user(f"u-{role}", role, **profile))
    html = client.get(reverse("grid-list")).content.decode()
    shown = {k for k in ("g1", "g2", "g3") if town[k].code in html}
    assert shown == visible


def test_a_grid_leader_sees_their_grid_and_not_another(client, town):
    client.force_login(town["leader"])
    html = client.get(reverse("grid-list")).content.decode()
    assert town["g1"].code in html and town["g2"].code not in html
    assert client.get(reverse("grid-detail", args=[town["g1"].code])).status_code == 200
    for name in ("grid-detail", "grid-map"):
        assert client.get(reverse(name, args=[town["g2"].code])).status_code == 404
        assert client.get(reverse(name, args=["nonexistent"])).status_code == 404


def test_the_map_document_uses_only_local_assets_and_carries_text_as_data(client, town):
    client.force_login(town["leader"])
    html = client.get(reverse("grid-map", args=[town["g1"].code])).content.decode()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    assert refs and all(r.startswith("/static/") for r in refs), refs
    assert "<img src=x onerror" not in html and "<script>alert(1)" not in html


def test_login_page_and_language_switch(client, town):
    page = client.get(reverse("login"))
    assert page.status_code == 200 and "登录" in page.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    assert "Log in" in client.get(reverse("login")).content.decode()


def test_a_community_head_sees_their_community_map_and_no_other(client, town):
    head = user("head", Role.COMMUNITY_HEAD, community=town["c1"])
    client.force_login(head)
    for name in ("community-detail", "community-map"):
        assert client.get(reverse(name, args=[town["c1"].code])).status_code == 200
        assert client.get(reverse(name, args=[town["c2"].code])).status_code == 404
        assert client.get(reverse(name, args=["999999999999"])).status_code == 404
    page = client.get(reverse("community-detail", args=[town["c1"].code])).content.decode()
    assert town["g1"].code in page and town["g2"].code in page and town["g3"].code not in page
    assert "<img src=x onerror" not in page


def test_a_grid_leader_cannot_open_a_community_map(client, town):
    client.force_login(town["leader"])
    for name in ("community-detail", "community-map"):
        assert client.get(reverse(name, args=[town["c1"].code])).status_code == 404


def test_the_grid_page_shows_figures_and_the_negative_list(client, town):
    client.force_login(town["leader"])
    with translation.override("en"):
        page = client.get(reverse("grid-detail", args=[town["g1"].code])).content.decode()
    assert 'data-figure="buildings">1<' in page and 'data-figure="open">1<' in page
    problem = Problem.objects.get(grid=town["g1"])
    assert reverse("problem-detail", args=[problem.pk]) in page
    assert "&lt;img src=x onerror" not in page or "<img src=x" not in page


def test_the_map_document_links_problems_and_photos_of_the_scope(client, town):
    client.force_login(town["leader"])
    html = client.get(reverse("grid-map", args=[town["g1"].code])).content.decode()
    assert '"problem":"/problems/{id}/"' in html and '"photo":"/problems/{id}/photos/{photo}/"' in html
    assert "leaflet.heat-0.2.0/leaflet-heat.js" in html


def test_the_grid_list_comes_in_pages_of_a_hundred(client):
    (community,) = region_tree()
    step = 0.004 / 250
    for seq in range(1, 231):  # thin slices side by side: 230 grids
        grid(community, seq, (LON0 + (seq - 1) * step, LAT0, LON0 + seq * step, LAT0 + 0.002))
    client.force_login(user("office", Role.ADMIN))
    codes = {}
    for page in ("1", "2", "3"):
        html = client.get(reverse("grid-list"), {"page": page}).content.decode()
        codes[page] = re.findall(r'href="/grids/(\d+)/"', html)
    assert [len(codes[p]) for p in ("1", "2", "3")] == [100, 100, 30]
    everything = codes["1"] + codes["2"] + codes["3"]
    assert everything == sorted(everything) and len(set(everything)) == 230
    for bad, same_as in (("abc", "1"), ("0", "3"), ("999", "3"), ("-1", "3"), ("1e9", "1")):
        html = client.get(reverse("grid-list"), {"page": bad})
        assert html.status_code == 200
        assert re.findall(r'href="/grids/(\d+)/"', html.content.decode()) == codes[same_as]
