"""Stops ticked off as visited (POST /route/visits/): kept per user and day, only on the user's own
stops, resumed after a reload, left out of the rest of the walk (``remaining=1``) and its GPX;
hostile input is a 4xx, never a 500; a stop without a deadline never shows "nan"."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridmap.accounts.models import Role
from gridmap.analysis.models import RouteVisit
from gridmap.analysis.visits import visited_ids
from gridmap.problems.models import Problem
from layers.routes import GPX_NS
from tests.factories import user
from tests.hostile import hostile_number, tally
from tests.maps.test_route_page import _fresh_network, page_ids, town  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def tick(client: Client, problem_id: object, visited: str = "1", **headers: str):
    return client.post(
        reverse("route-visit"),
        {"problem": problem_id, "visited": visited},
        headers={"Accept": "application/json", **headers},
    )


def gpx_ids(response) -> list[int]:
    root = ET.fromstring(response.content)
    names = [w.findtext(f"{{{GPX_NS}}}name") for w in root.findall(f"{{{GPX_NS}}}wpt")]
    return [int(n.split("#", 1)[1]) for n in names]


def test_a_tick_is_kept_on_the_server_and_the_page_shows_it_after_a_reload(client, town):  # noqa: F811
    p = town["p"]
    client.force_login(town["inspector"])
    answer = tick(client, p["g1_filed"].pk)
    assert answer.status_code == 200
    assert answer.json() == {"problem": p["g1_filed"].pk, "visited": True, "visited_today": 1}
    assert tick(client, p["g1_filed"].pk).json()["visited_today"] == 1  # twice: still one tick
    assert visited_ids(town["inspector"]) == {p["g1_filed"].pk}
    page = client.get(reverse("route"))  # a reload: the same plan, the stop still ticked
    rows = {row["id"]: row for row in page.context["rows"]}
    assert rows[p["g1_filed"].pk]["visited"] is True
    assert [pk for pk, row in rows.items() if row["visited"]] == [p["g1_filed"].pk]
    html = page.content.decode()
    assert 'class="task-open visited"' in html and 'aria-pressed="true"' in html
    assert reverse("route") + "?budget_min=240&amp;remaining=1" in html  # the rest of the walk
    assert tick(client, p["g1_filed"].pk, "0").json() == {"problem": p["g1_filed"].pk, "visited": False,
                                                          "visited_today": 0}  # fmt: skip
    assert not RouteVisit.objects.exists()


def test_ticks_are_per_user(client, town):  # noqa: F811
    p = town["p"]
    client.force_login(town["inspector"])
    tick(client, p["g1_open"].pk)
    client.force_login(town["leader"])  # g1_open is on the leader's route too
    rows = client.get(reverse("route")).context["rows"]
    assert not [r for r in rows if r["visited"]]


def test_the_rest_of_the_walk_leaves_the_visited_stops_out_and_the_gpx_follows(client, town):  # noqa: F811
    p = town["p"]
    client.force_login(town["inspector"])
    everything = set(page_ids(client.get(reverse("route"), {"budget_min": "all"})))
    for key in ("g1_open", "g2_open"):
        tick(client, p[key].pk)
    query = {"budget_min": "all", "remaining": "1", "start": "120.8705,31.6205"}
    rest = client.get(reverse("route"), query)
    assert rest.status_code == 200
    assert set(page_ids(rest)) == everything - {p["g1_open"].pk, p["g2_open"].pk}
    assert rest.context["plan"].start == (120.8705, 31.6205)
    gpx = client.get(rest.context["gpx_url"])
    assert "remaining=1" in rest.context["gpx_url"] and gpx_ids(gpx) == page_ids(rest)
    assert b"nan" not in gpx.content


def test_only_the_users_own_stops_today_can_be_ticked(client, town):  # noqa: F811
    p = town["p"]
    client.force_login(town["leader"])
    assert tick(client, p["g2_open"].pk).status_code == 404  # another grid's
    assert tick(client, p["g1_later"].pk).status_code == 404  # look-back not due yet
    assert tick(client, p["g1_rejected"].pk).status_code == 404  # not a stop
    assert tick(client, 10**12).status_code == 404  # no such problem
    assert not RouteVisit.objects.exists()
    assert client.get(reverse("route-visit")).status_code == 405
    client.force_login(user("planner", Role.PLANNER))
    assert tick(client, p["g1_open"].pk).status_code == 403
    client.logout()
    assert tick(client, p["g1_open"].pk).status_code == 302  # to the login


def test_without_script_the_form_ticks_and_goes_back_to_the_same_route(client, town):  # noqa: F811
    p = town["p"]
    client.force_login(town["inspector"])
    back = reverse("route") + "?budget_min=all"
    answer = client.post(reverse("route-visit"), {"problem": p["g1_filed"].pk, "visited": "1", "next": back})
    assert answer.status_code == 302 and answer["Location"] == back
    assert visited_ids(town["inspector"]) == {p["g1_filed"].pk}
    for elsewhere in ("https://example.com/route/", "//example.com/route/", "/admin/", "/route/\\\\x"):
        answer = client.post(reverse("route-visit"), {"problem": p["g1_filed"].pk, "next": elsewhere})
        assert answer["Location"] in (reverse("route"), elsewhere) and not answer["Location"].startswith(
            ("http", "//", "/admin")
        )


@pytest.mark.parametrize("query", ["remaining=yes", "remaining=2", "remaining=%00"])
def test_a_bad_remaining_is_a_400(client, town, query):  # noqa: F811
    client.force_login(town["inspector"])
    assert client.get(reverse("route") + "?" + query).status_code == 400


def test_a_stop_without_a_deadline_never_shows_nan(client, town):  # noqa: F811
    p = town["p"]
    Problem.objects.filter(pk=p["g1_filed"].pk).update(deadline=None, description="")
    client.force_login(town["inspector"])
    page = client.get(reverse("route"), {"budget_min": "all"})
    row = next(r for r in page.context["rows"] if r["id"] == p["g1_filed"].pk)
    assert row["deadline"] is None
    assert "nan" not in page.content.decode().lower().replace("nanjing", "")
    assert b"nan" not in client.get(page.context["gpx_url"]).content


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(problem=hostile_number, visited=st.sampled_from(["1", "0", "", "2", "true", "\x00", "１"]))
def test_hostile_ticks_are_a_4xx_and_write_nothing_wrong(client, town, problem, visited):  # noqa: F811
    client.force_login(town["inspector"])
    before = set(RouteVisit.objects.values_list("problem_id", flat=True))
    answer = tick(client, "" if problem is None else problem, visited)
    tally("route visit", answer.status_code)
    assert answer.status_code in (200, 400, 404)
    if answer.status_code != 200:
        assert set(RouteVisit.objects.values_list("problem_id", flat=True)) == before
    else:
        assert visited in ("0", "1") and answer.json()["visited"] == (visited == "1")
