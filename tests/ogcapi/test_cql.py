"""CQL2 text filters (Part 3) and queryables: the attributes people filter by, inside the user's
scope; anything else a clear 400, never a 500 (cases, and Hypothesis with random filters)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap.facilities.models import Facility
from gridmap.problems.models import Problem, Status
from gridmap.problems.selectors import problems_visible_to
from tests.hostile import hostile_number, hostile_text

pytestmark = pytest.mark.django_db
ITEMS = "/ogc/collections/{}/items"


def ids(client, cid, text, **extra):
    response = client.get(ITEMS.format(cid), {"filter": text, "limit": 1000, **extra})
    assert response.status_code == 200, response.content
    return sorted(f["id"] for f in response.json()["features"])


def pks(qs):
    return sorted(qs.values_list("pk", flat=True))


def test_queryables_name_the_attributes_people_filter_by(ogc_town, as_user):
    client = as_user(ogc_town["leader"])
    problems = client.get("/ogc/collections/problems/queryables")
    assert problems["Content-Type"] == "application/schema+json"
    props = problems.json()["properties"]
    assert {"category", "status", "grid", "community", "reported_at", "deadline", "closed_at"} <= set(props)
    assert props["status"]["enum"] == list(Status.values)
    assert props["geometry"] == {"title": "geometry", "format": "geometry-point"}
    kinds = client.get("/ogc/collections/facilities-point/queryables").json()["properties"]
    assert {"kind", "grid", "community", "condition", "last_inspected"} <= set(kinds)
    assert client.get("/ogc/collections/hotspots/queryables").json()["properties"] == {}


def test_filters_on_category_status_grid_community_and_dates(ogc_town, as_user):
    admin = as_user(ogc_town["admin"])
    g1, c2 = ogc_town["g1"], ogc_town["c2"]
    p = Problem.objects.filter(grid=ogc_town["g2"]).get()
    Problem.objects.filter(pk=p.pk).update(
        status=Status.CLOSED, reported_at=p.reported_at - timedelta(days=40)
    )
    p.refresh_from_db()
    assert ids(admin, "problems", f"grid = '{g1.code}'") == pks(Problem.objects.filter(grid=g1))
    assert ids(admin, "problems", f"community = '{c2.code}'") == pks(Problem.objects.filter(community=c2))
    assert ids(admin, "problems", "status = 'closed'") == [p.pk]
    assert ids(admin, "problems", "status <> 'closed' AND category IN ('0301', '0602')") == pks(
        Problem.objects.exclude(pk=p.pk)
    )
    day = (p.reported_at + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(admin, "problems", f"reported_at < TIMESTAMP('{day}')") == [p.pk]
    assert ids(admin, "problems", f"reported_at >= TIMESTAMP('{day}') OR status = 'closed'") == pks(
        Problem.objects
    )
    assert ids(admin, "problems", "NOT (status = 'closed') AND rework_count BETWEEN 0 AND 3") == pks(
        Problem.objects.exclude(pk=p.pk)
    )
    assert ids(admin, "problems", "closed_at IS NULL") == pks(Problem.objects)
    spot = ogc_town["g1"].geom.extent
    x0, y0, x1, y1 = spot
    inside = f"S_INTERSECTS(geometry, POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0})))"
    assert ids(admin, "problems", inside) == pks(Problem.objects.filter(grid=g1))
    assert ids(admin, "problems", f"BBOX(geometry, {x0}, {y0}, {x1}, {y1})") == pks(
        Problem.objects.filter(grid=g1)
    )
    hydrants = ids(admin, "facilities-point", "kind = 'hydrant' AND name LIKE 'H%'")
    assert hydrants == pks(Facility.objects.filter(kind__code="hydrant"))
    assert ids(admin, "grids", "code LIKE '3205811070010%'") == sorted([g1.pk, ogc_town["g2"].pk])


def test_a_filter_only_narrows_the_users_scope(ogc_town, as_user):
    leader = as_user(ogc_town["leader"])
    everything = "status = 'reported' OR status <> 'reported'"
    assert ids(leader, "problems", everything) == pks(problems_visible_to(ogc_town["leader"]))
    assert ids(leader, "problems", f"grid = '{ogc_town['g2'].code}'") == []


@pytest.mark.parametrize(
    "text",
    [
        "", "status =", "status = 'nope'", "reporter__password LIKE 'a%'", "geom IS NULL", "id = 1",
        "status = 3", "rework_count = 'x'", "rework_count > 99999999999999999999999", "reported_at > 3",
        "reported_at > TIMESTAMP('0001-01-01T00:00:00Z')", "rework_count LIKE '1%'",
        "S_INTERSECTS(geometry, POINT(1e308 0))", "S_INTERSECTS(geometry, POINT(200 100))",
        "S_INTERSECTS(status, POINT(1 1))", "BBOX(geometry, 3, 2, 1, 0)", "'a' = status", "status = status",
        "NOT " * 300 + "status = 'closed'", " OR ".join(["status = 'closed'"] * 600),
        "rework_count + 1 > 2", "status = 'closed' AND", "\x00",
    ],
)  # fmt: skip
def test_bad_filters_are_400_with_a_message(ogc_town, as_user, text):
    response = as_user(ogc_town["admin"]).get(ITEMS.format("problems"), {"filter": text})
    assert response.status_code == 400, response.content
    assert response.json()["detail"]


def test_filters_need_a_language_offered_and_queryables(ogc_town, as_user):
    client = as_user(ogc_town["admin"])
    assert (
        client.get(
            ITEMS.format("problems"), {"filter": "status = 'closed'", "filter-lang": "cql2-json"}
        ).status_code
        == 400
    )
    assert (
        client.get(
            ITEMS.format("problems"), {"filter": "status = 'closed'", "filter-lang": "cql2-text"}
        ).status_code
        == 200
    )
    assert client.get(ITEMS.format("hotspots"), {"filter": "size > 1"}).status_code == 400


ATTRIBUTES = st.sampled_from(["status", "category", "grid", "community", "reported_at", "deadline", "rework_count",
                              "geometry", "id", "reporter__username", "geom", "description", "x"])  # fmt: skip
OPERATORS = st.sampled_from(["=", "<>", "<", ">=", "LIKE", "IN", "BETWEEN", "IS NULL", "IS NOT NULL", "NOT"])
LITERALS = st.one_of(
    hostile_number.map(str),
    hostile_text.map(lambda t: "'" + t.replace("'", "''") + "'"),
    st.sampled_from(["TIMESTAMP('9999-12-31T23:59:59Z')", "DATE('0001-01-01')", "TIMESTAMP('2024-02-30T00:00:00Z')",
                     "POINT(1e308 1e308)", "POINT(nan 0)", "ENVELOPE(200, -100, 0, 1)", "('0301', 3, 1e400)",
                     "1 AND 2", "TRUE", "NULL"]),
)  # fmt: skip
STRUCTURED = st.builds(lambda a, o, v: f"{a} {o} {v}", ATTRIBUTES, OPERATORS, LITERALS)
SPATIAL = st.builds(
    lambda f, a, v: f"{f}({a}, {v})",
    st.sampled_from(["S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_DISJOINT", "BBOX", "T_AFTER", "A_CONTAINS", "LOWER"]),
    ATTRIBUTES, LITERALS,
)  # fmt: skip
FILTERS = st.one_of(
    hostile_text, STRUCTURED, SPATIAL, st.lists(STRUCTURED, min_size=2, max_size=4).map(" AND ".join)
).filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t))  # surrogates cannot travel in a URL


@given(text=FILTERS, cid=st.sampled_from(["problems", "facilities-point", "grids", "gaps-toilet", "streets"]))
def test_random_filters_never_fail_the_server(ogc_town, as_user, text, cid):
    user = ogc_town["leader"]
    response = as_user(user).get(ITEMS.format(cid), {"filter": text, "limit": 1000})
    assert response.status_code in (200, 400), (text, response.content)
    if response.status_code == 400:
        assert response.json()["detail"]
    elif cid == "problems":
        assert {f["id"] for f in response.json()["features"]} <= set(pks(problems_visible_to(user)))


def test_queryables_as_query_parameters(ogc_town, as_user):
    client = as_user(ogc_town["admin"])
    g1 = ogc_town["g1"].code
    body = client.get(ITEMS.format("problems"), {"grid": g1, "status": "reported", "limit": 100}).json()
    assert sorted(f["id"] for f in body["features"]) == pks(Problem.objects.filter(grid=ogc_town["g1"]))
    both = client.get(
        ITEMS.format("problems"), {"grid": g1, "filter": "rework_count = 0", "limit": 100}
    ).json()
    assert both["numberMatched"] == 5
    assert client.get(ITEMS.format("problems"), {"rework_count": "0"}).json()["numberMatched"] == 7
    for bad in ({"rework_count": "x"}, {"status": "nope"}, {"grid": "o'clock"}, {"reported_at": "yesterday"},
                {"rework_count": "1e400"}):  # fmt: skip
        response = client.get(ITEMS.format("problems"), bad)
        assert response.status_code == 400, (bad, response.content)
    assert client.get(ITEMS.format("grids"), {"status": "closed"}).status_code == 400  # not a grid queryable
