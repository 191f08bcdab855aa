"""Routes that always answer: many problems (past the old 2,000-stop refusal) still give a route,
inside the user's scope and the time budget, the most urgent first; the page, the GPX and
``plan_route --user`` show one plan; a data change gives a new one; hostile queries are 4xx."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import quote

import numpy as np
import pytest
from django.contrib.gis.geos import LineString, Point
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridmap.accounts.models import Role
from gridmap.analysis.network_cache import network_cache_clear
from gridmap.analysis.route_plans import plan_key
from gridmap.geography.models import Street
from gridmap.problems.models import EventCategory, Problem, Status
from layers.routes import GPX_NS, MAX_CANDIDATES
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.hostile import hostile_number, hostile_text

pytestmark = pytest.mark.django_db
N_IN, N_OUT, N_OVERDUE = 2300, 400, 40  # more than the 2,000 stops the page used to refuse


@pytest.fixture(autouse=True)
def _fresh_network():
    network_cache_clear()
    yield
    network_cache_clear()


def _bulk(community, grid_, n: int, box: tuple[float, float, float, float], rng, **kw) -> list[Problem]:
    category = EventCategory.objects.get(code="0301")
    x = rng.uniform(box[0], box[2], n)
    y = rng.uniform(box[1], box[3], n)
    return Problem.objects.bulk_create(
        Problem(
            geom=Point(float(a), float(b), srid=4326),
            community=community,
            grid=grid_,
            category=category,
            **kw,
        )
        for a, b in zip(x, y, strict=True)
    )


@pytest.fixture
def crowd():
    """A grid leader's grid with 2,340 open problems (40 overdue), and 400 in a grid not theirs."""
    c1, c2 = region_tree(n=2)
    leader = user("leader", Role.GRID_LEADER)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(c1, c2)
    mine_box = (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002)
    g1 = grid(c1, 1, mine_box, leader=leader)
    g3 = grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002))
    rng = np.random.default_rng(13)
    late = timezone.now() - timedelta(hours=3)
    _bulk(c1, g1, N_IN, mine_box, rng, status=Status.DISPATCHED)
    overdue = _bulk(c1, g1, N_OVERDUE, mine_box, rng, status=Status.DISPATCHED, deadline=late)
    _bulk(c2, g3, N_OUT, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002), rng, status=Status.DISPATCHED)
    _bulk(c1, g1, 50, mine_box, rng, status=Status.CLOSED)  # not a stop
    # a street lattice over both grids, so legs follow streets
    for i in range(7):
        y = LAT0 + i * 0.0004
        Street.objects.create(geom=LineString((LON0, y), (LON0 + 0.006, y), srid=4326), length_m=570)
    for j in range(16):
        x = LON0 + j * 0.0004
        Street.objects.create(geom=LineString((x, LAT0), (x, LAT0 + 0.0024), srid=4326), length_m=270)
    return {"leader": leader, "inspector": inspector, "g1": g1, "overdue": {p.pk for p in overdue}}


def page(client, **query):
    response = client.get(reverse("route"), query)
    assert response.status_code == 200, response.content[:300]
    return response


def gpx_ids(response) -> list[int]:
    root = ET.fromstring(response.content)
    return [int(w.findtext(f"{{{GPX_NS}}}name").split("#")[1]) for w in root.findall(f"{{{GPX_NS}}}wpt")]


def test_many_problems_still_give_a_route_inside_the_scope_and_the_budget(client, crowd):
    client.force_login(crowd["leader"])
    response = page(client, budget_min="60")
    rows = response.context["rows"]
    assert 0 < len(rows) <= 20  # 60 min at 3 min a stop
    assert response.context["in_scope"] == N_IN + N_OVERDUE
    mine = set(Problem.objects.filter(grid=crowd["g1"]).values_list("pk", flat=True))
    assert {row["id"] for row in rows} <= mine  # a leader never gets a stop outside their grids
    assert response.context["total_min"] <= 60 + 1e-6
    assert response.context["straight_legs"] == 0
    assert len(rows) + response.context["beyond_reach"] + response.context["not_in_walk"] == N_IN + N_OVERDUE
    assert 'id="route-coverage"' in response.content.decode()


def test_the_most_urgent_stops_go_first(client, crowd):
    client.force_login(crowd["leader"])
    rows = page(client, budget_min="60").context["rows"]
    # 40 overdue stops within a few hundred metres: a 60-minute walk takes only those
    assert {row["id"] for row in rows} <= crowd["overdue"]
    assert all(row["task"] == "overdue" for row in rows)


def test_the_gpx_and_the_command_write_the_stops_of_the_page_in_its_order(client, crowd, tmp_path):
    client.force_login(crowd["inspector"])
    start = f"{LON0 + 0.003:.6f},{LAT0 + 0.001:.6f}"
    response = page(client, start=start, budget_min="120")
    shown = [row["id"] for row in response.context["rows"]]
    assert len(shown) >= 5
    gpx = client.get(response.context["gpx_url"])
    assert gpx.status_code == 200 and gpx_ids(gpx) == shown
    out = tmp_path / "route.gpx"
    call_command(
        "plan_route", "--user", "inspector", "--start", start, "--budget-min", "120",
        "--format", "gpx", "--output", str(out), stdout=io.StringIO(),
    )  # fmt: skip
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    names = [w.findtext(f"{{{GPX_NS}}}name") for w in root.findall(f"{{{GPX_NS}}}wpt")]
    assert names == [f"{n}. #{i}" for n, i in enumerate(shown, start=1)]
    assert out.read_bytes() == gpx.content  # the same file as the page's (same language, same plan)
    for fmt in ("json", "text"):
        printed = io.StringIO()
        call_command("plan_route", "--user", "inspector", "--start", start, "--budget-min", "120",
                     "--format", fmt, stdout=printed)  # fmt: skip
        if fmt == "json":
            assert [stop["id"] for stop in json.loads(printed.getvalue())["stops"]] == shown
        else:
            assert [int(i) for i in re.findall(r"^\s*\d+\. \[(\d+)\]", printed.getvalue(), re.M)] == shown


def test_a_data_change_gives_a_new_plan(client, crowd):
    client.force_login(crowd["leader"])
    before = [row["id"] for row in page(client, budget_min="60").context["rows"]]
    key = plan_key(crowd["leader"], start=None, budget_min=60.0)
    Problem.objects.filter(pk=before[0]).update(status=Status.CLOSED)
    assert plan_key(crowd["leader"], start=None, budget_min=60.0) != key
    after = page(client, budget_min="60")
    assert before[0] not in [row["id"] for row in after.context["rows"]]
    assert before[0] not in gpx_ids(client.get(after.context["gpx_url"]))


def test_all_stops_asked_for_is_capped_and_says_so(client, crowd):
    client.force_login(crowd["leader"])
    response = page(client, budget_min="all")
    rows = response.context["rows"]
    assert 0 < len(rows) <= MAX_CANDIDATES and response.context["not_in_walk"] == N_IN + N_OVERDUE - len(rows)
    assert crowd["overdue"] <= {row["id"] for row in rows}  # every overdue stop is in it


@pytest.mark.parametrize(
    "args",
    [
        ["--user", "nobody"],
        ["--user", "inspector", "--end", "120.87,31.62"],
        ["--user", "inspector", "--round-trip"],
        ["--user", "inspector", "--budget-min", "0"],
        ["--user", "inspector", "--budget-min", "nan"],
        ["--user", "inspector", "--start", "500,31.62"],
    ],
)
def test_bad_command_input_is_a_command_error(crowd, args):
    with pytest.raises(CommandError):
        call_command("plan_route", *args, stdout=io.StringIO())


def test_a_user_without_a_route_is_refused_by_the_command(crowd):
    user("planner", Role.PLANNER)
    with pytest.raises(CommandError, match="no route"):
        call_command("plan_route", "--user", "planner", stdout=io.StringIO())


def _q(value: object) -> str:
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")  # lone surrogates too


BUDGETS = st.one_of(hostile_number, hostile_text, st.floats(1, 1440), st.sampled_from(["all", "240"]))
STARTS = st.one_of(
    hostile_number,
    hostile_text,
    st.builds(
        lambda x, y: f"{x},{y}",
        st.floats(LON0 - 0.01, LON0 + 0.01) | hostile_number,
        st.floats(LAT0 - 0.01, LAT0 + 0.01) | hostile_number,
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(budget=BUDGETS, start=STARTS)
def test_hostile_queries_are_answered_or_refused_never_a_500(client, crowd, budget, start):
    client.force_login(crowd["inspector"])
    for name in ("route", "route-gpx"):
        response = client.get(f"{reverse(name)}?budget_min={_q(budget)}&start={_q(start)}")
        assert response.status_code in (200, 400), (name, budget, start)


def test_the_coverage_line_is_translated(client, crowd):
    client.force_login(crowd["leader"])
    html = client.get(reverse("route"), {"budget_min": "60"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"您的区域内有 {N_IN + N_OVERDUE} 个未办结问题和到期回访" in html
    assert "在可达范围内，但可用时间内排不下" in html


@pytest.mark.parametrize("start", [None, (LON0 + 0.001, LAT0 + 0.001)])
def test_a_scope_read_whole_is_ordered_as_sql_orders_a_larger_one(crowd, monkeypatch, start):
    from gridmap.analysis import route_plans
    from gridmap.analysis.routes import stop_filter
    from gridmap.problems.selectors import problems_in_role_scope

    stops = problems_in_role_scope(crowd["leader"]).filter(stop_filter())
    now = timezone.now()
    monkeypatch.setattr(route_plans, "FETCH_MAX", 60)
    whole = route_plans._fetch(stops, start, now)
    monkeypatch.setattr(route_plans, "SCOPE_READ_MAX", 100)  # now ordered, cut and counted in SQL
    in_sql = route_plans._fetch(stops, start, now)
    assert whole[0] == in_sql[0] == N_IN + N_OVERDUE
    assert [r[0] for r in whole[1]] == [r[0] for r in in_sql[1]]
    assert {r[0] for r in whole[1][:N_OVERDUE]} == crowd["overdue"]
