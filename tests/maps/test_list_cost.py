"""Lists cost what they show (issue 12, finding 5).

``/grids/`` counted buildings and open problems with two ``Count(distinct)`` over joins of both
relations: every building paired with every problem of its grid, then de-duplicated (31.8 s for
the demo town's administrator on SpatiaLite). Here: the figures on the demo town equal counts made
independently in Python, and no query of the list pages joins two different to-many relations of
one row while aggregating (the SQL is read, so the test does not depend on the machine's speed).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gridmap.geography.models import Building, Grid
from gridmap.problems.models import OPEN_STATUSES, Problem

# Tables reached through a to-many relation from a grid, a community or a problem: joining two of
# them under one aggregate counts their product.
MANY = ("geography_building", "problems_problem", "facilities_facility", "problems_problemphoto",
        "problems_problemevent", "geography_grid")  # fmt: skip
JOINED = re.compile(r'JOIN\s+"?(\w+)"?(?:\s+(?!ON\b)(\w+))?\s+ON\s*\((.*?)\)', re.IGNORECASE)
COUNT_DISTINCT = re.compile(r"COUNT\s*\(\s*DISTINCT", re.IGNORECASE)  # de-duplicating a product
AGGREGATE = re.compile(r"\b(COUNT|SUM|AVG)\s*\(", re.IGNORECASE)


@pytest.fixture
def town(demo_town):
    """The session's demo town; what a test writes is rolled back."""


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def product_joins(sql: str) -> set[str]:
    """The to-many tables an aggregating query joins at its own level (subqueries are counted
    apart: only a single SELECT's joins multiply each other)."""
    found: set[str] = set()
    for level in _select_levels(sql):
        if AGGREGATE.search(level):
            joined = {t for t, alias, on in JOINED.findall(level) if t in MANY and _to_many(alias or t, on)}
            if len(joined) >= 2:
                found |= joined
    return found


def _to_many(name: str, condition: str) -> bool:
    """A join reaches many rows unless its condition names the joined row's own id: a problem's
    grid, or the case a recurrence repeats, is one row (a to-one join multiplies nothing)."""
    return not re.search(rf'(?:"{name}"|\b{name})\."id"', condition)


def _select_levels(sql: str) -> list[str]:
    """Each parenthesised sub-SELECT and the outer query, each with its sub-SELECTs cut out."""
    levels, stack, current = [], [], []
    for ch in sql:
        if ch == "(":
            stack.append(current)
            current = []
        elif ch == ")" and stack:
            inner = "".join(current)
            current = stack.pop()
            if inner.lstrip().upper().startswith("SELECT"):
                levels.append(inner)
                current.append("(subquery)")
            else:
                current.append(f"({inner})")
        else:
            current.append(ch)
    levels.append("".join(current))
    return levels


def test_the_detector_sees_the_old_grid_list():
    old = (
        'SELECT "geography_grid"."id", COUNT(DISTINCT "problems_problem"."id") AS "open_problems", '
        'COUNT(DISTINCT "geography_building"."id") AS "building_count" FROM "geography_grid" '
        'LEFT OUTER JOIN "problems_problem" ON ("geography_grid"."id" = "problems_problem"."grid_id") '
        'LEFT OUTER JOIN "geography_building" ON ("geography_grid"."id" = "geography_building"."grid_id") '
        "GROUP BY 1"
    )
    assert product_joins(old) == {"geography_building", "problems_problem"}
    new = (
        'SELECT "geography_grid"."id", COALESCE((SELECT COUNT(U0."id") AS "n" FROM "geography_building" U0 '
        'WHERE U0."grid_id" = ("geography_grid"."id") GROUP BY U0."grid_id"), 0) FROM "geography_grid" '
        'INNER JOIN "geography_community" ON (1 = 1)'
    )
    assert product_joins(new) == set()
    to_one = (  # recurrences grouped by the units of the case they repeat
        'SELECT T2."grid_id", "geography_grid"."first_responsible_id", COUNT("problems_problem"."id") '
        'FROM "problems_problem" INNER JOIN "problems_problem" T2 ON ("problems_problem"."recurrence_of_id" = T2."id") '
        'LEFT OUTER JOIN "geography_grid" ON (T2."grid_id" = "geography_grid"."id") GROUP BY 1, 2'
    )
    assert product_joins(to_one) == set()


@pytest.mark.parametrize("username", ["demo_admin", "head_1", "leader_01"])
def test_grid_list_figures_are_the_counts_and_no_query_multiplies(town, username):
    user = get_user_model().objects.get(username=username)
    client = client_for(username)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/grids/")
    assert response.status_code == 200
    assert [q["sql"] for q in queries if product_joins(q["sql"])] == []

    # independently: one pass over the rows in Python
    buildings = Counter(Building.objects.values_list("grid_id", flat=True))
    open_ = Counter(Problem.objects.filter(status__in=OPEN_STATUSES).values_list("grid_id", flat=True))
    shown = {g.code: (g.building_count, g.open_problems) for g in response.context["grids"]}
    if username == "demo_admin":
        expected_grids = Grid.objects.all()
    elif username == "head_1":
        expected_grids = Grid.objects.filter(community_id=user.profile.community_id)
    else:
        led = set(Grid.objects.filter(first_responsible=user).values_list("pk", flat=True))
        led |= set(user.direct_grids.values_list("pk", flat=True))
        expected_grids = Grid.objects.filter(pk__in=led)
    expected = {g.code: (buildings[g.pk], open_[g.pk]) for g in expected_grids}
    assert shown == expected
    assert len(shown) == len(response.context["grids"])  # each grid once
    assert sum(b for b, _ in shown.values()) > 0 and sum(p for _, p in shown.values()) > 0
    if username == "demo_admin":
        assert sum(b for b, _ in shown.values()) == Building.objects.exclude(grid=None).count()


@pytest.mark.parametrize("username", ["demo_admin", "head_1", "leader_01", "dept_cg"])
def test_no_list_or_figure_page_multiplies_relations(town, username):
    """The other pages that count: community page, dashboard, evaluation, API lists."""
    user = get_user_model().objects.get(username=username)
    grid = Grid.objects.filter(first_responsible=user).first() or Grid.objects.first()
    urls = ["/dashboard/", "/evaluation/", "/evaluation/figures/", f"/grids/{grid.code}/",
            f"/communities/{grid.community.code}/", "/api/v1/grids/", "/api/v1/negative-list/",
            "/api/v1/problems/?page_size=50"]  # fmt: skip
    client = client_for(username)
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            status = client.get(url).status_code
        assert status in {200, 403, 404}, url
        assert [q["sql"] for q in queries if product_joins(q["sql"])] == [], url
        assert [q["sql"] for q in queries if COUNT_DISTINCT.search(q["sql"])] == [], url


def _rows_processed(plan: dict) -> int:
    """Rows every node of a PostgreSQL plan produced, over all its loops (EXPLAIN ANALYZE)."""
    own = int(plan.get("Actual Rows", 0)) * int(plan.get("Actual Loops", 1))
    return own + sum(_rows_processed(child) for child in plan.get("Plans", []))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN ANALYZE's row counts: PostgreSQL")
@pytest.mark.parametrize("username", ["demo_admin", "head_1"])
def test_the_grid_list_reads_rows_in_proportion_to_what_it_shows(town, username):
    """The database's own count of the rows it handled for the list's query: at most a few times
    the grids, buildings and problems there are, never their product."""
    with CaptureQueriesContext(connection) as queries:
        assert client_for(username).get("/grids/").status_code == 200
    (listing,) = [q["sql"] for q in queries if "geography_building" in q["sql"]]
    with connection.cursor() as cursor:
        # planned as a served database is: with statistics (autovacuum's, or the ANALYZE that
        # docs/operations.md asks for after a large import); without them the planner guessed the
        # partial index of open cases held a few rows and read all of it for every grid
        cursor.execute("ANALYZE geography_grid, geography_building, problems_problem")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + listing)
        (raw,) = cursor.fetchone()
    plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
    total = Grid.objects.count() + Building.objects.count() + Problem.objects.count()
    processed = _rows_processed(plan)
    print(f"{username}: {processed} rows processed for {total} grids, buildings and problems")
    assert processed <= 3 * total
