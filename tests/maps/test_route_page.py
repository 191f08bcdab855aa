"""The route page and its GPX: whose stops, in which order, bad input, and nothing from a CDN."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.contrib.gis.geos import LineString, Point
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.analysis.network_cache import network_cache_clear
from gridmap.geography.models import Street
from gridmap.problems.models import OPEN_STATUSES, EventCategory, Problem, Status
from layers.routes import GPX_NS
from tests.factories import LAT0, LON0, grid, region_tree, user

pytestmark = pytest.mark.django_db
HTML_TEXT = "<script>alert(1)</script>{{ 7*7 }}"


@pytest.fixture(autouse=True)
def _fresh_network():
    network_cache_clear()  # ids and lengths can repeat after a rolled-back test
    yield
    network_cache_clear()


def problem(community, grid_, dx, dy, status=Status.DISPATCHED, **kw) -> Problem:
    return Problem.objects.create(
        geom=Point(LON0 + dx, LAT0 + dy, srid=4326),
        community=community,
        grid=grid_,
        category=EventCategory.objects.get(code="0301"),
        status=status,
        **kw,
    )


@pytest.fixture
def town():
    c1, c2 = region_tree(n=2)
    leader = user("leader", Role.GRID_LEADER)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(c1)
    g1 = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    g2 = grid(c1, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002))
    g3 = grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002))
    today = timezone.localdate()
    late = timezone.now() - timedelta(hours=2)
    p = {
        "g1_open": problem(c1, g1, 0.0005, 0.0005, description=HTML_TEXT, deadline=late),
        "g1_filed": problem(c1, g1, 0.0015, 0.0006, status=Status.FILED),
        "g1_handled": problem(c1, g1, 0.0010, 0.0015, status=Status.HANDLED),
        "g1_lookback": problem(c1, g1, 0.0003, 0.0016, status=Status.CLOSED, lookback_due=today),
        "g1_later": problem(c1, g1, 0.0012, 0.0012, status=Status.CLOSED, lookback_due=today + timedelta(1)),
        "g1_rejected": problem(c1, g1, 0.0011, 0.0004, status=Status.REJECTED),
        "g2_open": problem(c1, g2, 0.0030, 0.0010),
        "g3_open": problem(c2, g3, 0.0050, 0.0010),
        "g3_assigned": problem(c2, g3, 0.0055, 0.0015, inspector=inspector),
    }
    return {"leader": leader, "inspector": inspector, "g1": g1, "p": p}


def expected(user_) -> set[int]:
    """Stops written out again from the rule, not from the code under test."""
    today = timezone.localdate()
    stop = Q(status__in=OPEN_STATUSES) | Q(lookback_due__lte=today, lookback_done_at__isnull=True)
    if user_.profile.role == Role.INSPECTOR:
        scope = Q(inspector=user_) | Q(community__in=user_.profile.patrol_communities.all())
    else:
        scope = Q(grid__first_responsible=user_) | Q(grid__direct_responsible=user_)
    return set(Problem.objects.filter(scope).filter(stop).values_list("pk", flat=True))


def page_ids(response) -> list[int]:
    return [row["id"] for row in response.context["rows"]]


def gpx_waypoints(response) -> list[str]:
    root = ET.fromstring(response.content)
    assert root.tag == f"{{{GPX_NS}}}gpx" and root.attrib["version"] == "1.1"
    return [w.findtext(f"{{{GPX_NS}}}name") for w in root.findall(f"{{{GPX_NS}}}wpt")]


def test_route_pages_need_a_login(client, town):
    for name in ("route", "route-gpx"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_inspector_sees_their_assignments_and_patrol_communities_only(client, town):
    p = town["p"]
    client.force_login(town["inspector"])
    response = client.get(reverse("route"))
    assert response.status_code == 200
    ids = page_ids(response)
    assert len(ids) == len(set(ids))
    assert set(ids) == expected(town["inspector"])
    assert set(ids) == {
        p[k].pk for k in ("g1_open", "g1_filed", "g1_handled", "g1_lookback", "g2_open", "g3_assigned")
    }
    rows = {row["id"]: row for row in response.context["rows"]}
    assert rows[p["g1_open"].pk]["task"] == "overdue" and rows[p["g1_lookback"].pk]["task"] == "lookback"
    assert [row["seq"] for row in response.context["rows"]] == list(range(1, len(ids) + 1))
    html = response.content.decode()
    for pk in ids:
        assert f'href="{reverse("problem-detail", args=[pk])}"' in html


def test_a_grid_leader_sees_the_open_problems_of_their_grids_only(client, town):
    p = town["p"]
    client.force_login(town["leader"])
    ids = page_ids(client.get(reverse("route")))
    assert set(ids) == expected(town["leader"])
    assert set(ids) == {p[k].pk for k in ("g1_open", "g1_filed", "g1_handled", "g1_lookback")}


@pytest.mark.parametrize("role", [Role.REPORTER, Role.PLANNER, Role.DEPARTMENT])
def test_roles_without_a_route_are_refused(client, town, role):
    client.force_login(user("someone", role))
    assert client.get(reverse("route")).status_code == 403
    assert client.get(reverse("route-gpx")).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "start=abc",
        "start=120.87",
        "start=120.87,31.62,5",
        "start=nan,31.62",
        "start=1e308,31.62",
        "start=31.62,120.87",  # swapped: a latitude of 120 is refused
        "start=inf,-inf",
        "budget_min=0",
        "budget_min=x",
        "budget_min=nan",
        "budget_min=100000",
    ],
)
def test_bad_query_is_a_400_on_the_page_and_the_gpx(client, town, query):
    client.force_login(town["inspector"])
    for name in ("route", "route-gpx"):
        response = client.get(f"{reverse(name)}?{query}")
        assert response.status_code == 400, (name, query)
        assert response["Content-Type"].startswith("text/plain")


def test_a_start_adds_a_first_leg_and_is_kept_in_the_gpx_link(client, town):
    client.force_login(town["inspector"])
    response = client.get(reverse("route"), {"start": f"{LON0 + 0.0001},{LAT0 + 0.0001}"})
    assert response.status_code == 200
    assert all(row["leg_m"] is not None and row["leg_m"] > 0 for row in response.context["rows"])
    assert (
        response.context["gpx_url"]
        == f"{reverse('route-gpx')}?start={LON0 + 0.0001:.6f}%2C{LAT0 + 0.0001:.6f}&budget_min=240"
    )


def test_gpx_has_the_page_stops_numbered_in_walking_order(client, town):
    client.force_login(town["inspector"])
    order = page_ids(client.get(reverse("route")))
    response = client.get(reverse("route-gpx"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/gpx+xml")
    assert response["Content-Disposition"].startswith("attachment;")
    assert gpx_waypoints(response) == [f"{i}. #{pk}" for i, pk in enumerate(order, start=1)]
    root = ET.fromstring(response.content)
    track = root.findall(f"{{{GPX_NS}}}trk/{{{GPX_NS}}}trkseg/{{{GPX_NS}}}trkpt")
    first = root.find(f"{{{GPX_NS}}}wpt")
    assert len(track) >= len(order) and track[0].attrib == first.attrib


def test_a_budget_leaves_stops_out_and_says_so(client, town):
    client.force_login(town["inspector"])
    response = client.get(reverse("route"), {"budget_min": "5"})  # 3 min per stop: one fits
    shown, left = page_ids(response), [row["id"] for row in response.context["dropped"]]
    in_scope = expected(town["inspector"])
    assert shown == [town["p"]["g1_open"].pk]  # overdue: the most urgent goes first
    assert set(left) <= in_scope - set(shown)
    context = response.context
    assert context["in_scope"] == len(in_scope)
    assert context["beyond_reach"] + context["not_in_walk"] + len(shown) == len(in_scope)
    assert context["not_in_walk"] >= len(left) >= 1
    assert 'id="route-coverage"' in response.content.decode()
    assert len(gpx_waypoints(client.get(reverse("route-gpx"), {"budget_min": "5"}))) == 1


def test_a_route_is_half_a_day_unless_all_stops_are_asked_for(client, town, monkeypatch):
    from gridmap.maps import route

    client.force_login(town["inspector"])
    response = client.get(reverse("route"))
    assert response.context["plan"].budget_min == route.DEFAULT_BUDGET_MIN == 240
    assert response.context["gpx_url"].endswith("budget_min=240")
    everything = client.get(reverse("route"), {"budget_min": "all"})
    assert everything.context["plan"].budget_min is None and everything.context["gpx_url"].endswith("=all")
    assert set(page_ids(everything)) == expected(town["inspector"])
    monkeypatch.setattr(route, "DEFAULT_BUDGET_MIN", 5)  # 3 min per stop: one fits by default now
    assert len(page_ids(client.get(reverse("route")))) == 1
    assert len(gpx_waypoints(client.get(reverse("route-gpx")))) == 1
    assert len(gpx_waypoints(client.get(reverse("route-gpx"), {"budget_min": "all"}))) == len(
        expected(town["inspector"])
    )


def test_legs_follow_the_streets_where_they_join_and_say_where_not(client, town):
    p = town["p"]
    # one street past the g1 stops; the g2 and g3 stops have none near enough to join it
    Street.objects.create(
        geom=LineString((LON0, LAT0 + 0.001), (LON0 + 0.002, LAT0 + 0.001), srid=4326), length_m=190
    )
    Street.objects.create(
        geom=LineString((LON0 + 0.0045, LAT0 + 0.0019), (LON0 + 0.006, LAT0 + 0.0019), srid=4326),
        length_m=140,
    )
    client.force_login(town["leader"])
    response = client.get(reverse("route"))
    assert response.context["straight_legs"] == 0 and not response.context["no_network"]
    client.force_login(town["inspector"])
    response = client.get(reverse("route"))
    rows = response.context["rows"]
    assert response.context["straight_legs"] == sum(row["straight"] for row in rows) >= 1
    assert not response.context["no_network"]
    g1 = {p[k].pk for k in ("g1_open", "g1_filed", "g1_handled", "g1_lookback")}
    for before, row in zip(rows, rows[1:], strict=False):
        if before["id"] in g1 and row["id"] in g1:
            assert not row["straight"]  # both on the one connected street
    assert "route-straight-note" in response.content.decode()


def test_without_streets_the_page_says_the_lines_are_straight(client, town):
    client.force_login(town["inspector"])
    response = client.get(reverse("route"))
    assert response.context["no_network"] and "route-straight-note" in response.content.decode()


def test_user_text_is_escaped_and_nothing_comes_from_a_cdn(client, town):
    client.force_login(town["inspector"])
    html = client.get(reverse("route")).content.decode()
    assert "<script>alert(1)" not in html and "{{ 7*7 }}" in html  # data, never a template
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html)
    assert "/static/vendor/leaflet-" in html and 'id="route-map"' in html


def test_an_empty_route_still_shows_a_map(client, town):
    Problem.objects.all().delete()
    client.force_login(town["leader"])
    response = client.get(reverse("route"))
    assert response.status_code == 200 and response.context["rows"] == []
    assert 'id="route-empty"' in response.content.decode()
    assert len(gpx_waypoints(client.get(reverse("route-gpx")))) == 0


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("who", ["inspector", "leader"])
def test_the_command_writes_the_gpx_the_page_gives(client, town, tmp_path, who, language):
    """``plan_route --user --format gpx --language L`` and ``/route.gpx`` asked in L: one file."""
    from django.core.management import call_command

    client.force_login(town[who])
    client.cookies["django_language"] = language
    page = client.get(reverse("route-gpx"), {"budget_min": "240"}, HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    out = tmp_path / "route.gpx"
    call_command("plan_route", "--user", town[who].username, "--budget-min", "240", "--format", "gpx",
                 "--language", language, "--output", str(out), stdout=io.StringIO())  # fmt: skip
    assert out.read_bytes() == page.content
    names = gpx_waypoints(page)
    assert names and all(re.fullmatch(rf"{i}\. #\d+", n) for i, n in enumerate(names, start=1))
    text = page.content.decode()
    if language == "en":
        assert "Inspection route" in text
    else:
        assert "Inspection route" not in text and re.search("[\u4e00-\u9fff]", text)
