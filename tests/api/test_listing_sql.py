"""The problem list's page read with one hand-assembled SELECT (``api.rowsql``) holds the same rows,
in the same order, with the same counts, as the ORM's ``values_list`` path it replaces, for every
role (DISTINCT scopes through joins included), filters and pages; on SpatiaLite and PostGIS."""

from __future__ import annotations

import pytest
from django.db.models import Count
from django.utils import timezone

from gridmap.api import filters as f
from gridmap.api import listing
from gridmap.api.features import PROBLEM, RowContext, actions_by_status
from gridmap.api.params import Paging
from gridmap.api.renderers import dumps
from gridmap.api.rowsql import sql_page
from gridmap.problems.models import Problem
from gridmap.problems.selectors import problems_visible_to
from tests.api.conftest import SPOT, SPOT2
from tests.api.test_geojson_reference import make_loop_states

pytestmark = pytest.mark.django_db
ROLES = ["admin", "leader", "leader2", "head", "handler", "inspector", "reporter", "reporter2"]
BOX = f"{SPOT[0] - 0.0005},{SPOT[1] - 0.0005},{SPOT2[0] + 0.0005},{SPOT2[1] + 0.0005}"
QUERIES = [{}, {"bbox": BOX}, {"status": "reported,dispatched"}, {"open": "false"}, {"overdue": "true"},
           {"category": "0301"}, {"bbox": BOX, "open": "true"}]  # fmt: skip
PAGES = [Paging(1, 1000), Paging(1, 2), Paging(2, 2), Paging(3, 2), Paging(1, 1), Paging(9, 2)]


@pytest.fixture
def shared(town):
    """The reference test's problems, and co-reporters: a problem reached through two joined rows
    (the scopes that need DISTINCT)."""
    t = make_loop_states(town)
    problem = Problem.objects.filter(reporter=t["reporter"]).order_by("pk").first()
    problem.co_reporters.add(t["reporter2"], t["leader2"])
    return t


def both(user, query: dict[str, str], paging: Paging):
    now = timezone.now()
    qs = f.apply_filters(problems_visible_to(user), listing.PROBLEMS.filters, query, now)
    ours = sql_page(Problem, PROBLEM, qs, listing.PROBLEMS.ordering, paging)
    ctx = RowContext(now, actions_by_status(None))
    theirs = listing.PROBLEMS.page(qs.order_by(*listing.PROBLEMS.ordering), paging, ctx)
    return ours, theirs


@pytest.mark.parametrize("who", ROLES)
def test_pages_equal_the_orm_pages(shared, who):
    user = shared[who]
    seen = 0
    for query in QUERIES:
        for paging in PAGES:
            ours, theirs = both(user, query, paging)
            assert ours is not None, "the problem list must not fall back to the ORM path"
            assert [tuple(r) for r in ours.rows] == [tuple(r) for r in theirs.rows], (query, paging)
            assert (ours.matched, ours.has_next, ours.has_prev) == (theirs.matched, theirs.has_next,
                                                                    theirs.has_prev), (query, paging)  # fmt: skip
            seen += len(ours.rows)
    assert seen or who == "leader"


@pytest.mark.parametrize(
    "box, some",
    [
        (BOX, True),
        (f"{SPOT[0]},{SPOT[1]},{SPOT2[0]},{SPOT2[1]}", True),  # points on the corners
        (f"{SPOT[0]},{SPOT[1]},{SPOT[0]},{SPOT[1]}", None),  # no area: GEOS and SpatiaLite differ
        (f"{SPOT[0] + 1e-9},{SPOT[1]},{SPOT2[0] - 1e-9},{SPOT2[1]}", False),  # just beside both
        ("-180,-90,180,90", True),
    ],
)
def test_the_box_filter_selects_what_the_intersects_lookup_selects(shared, box, some):
    now = timezone.now()
    problems = Problem.objects.order_by("pk")
    ours = list(listing.box_filter(problems, box, now).values_list("pk", flat=True))
    assert ours == list(f.bbox(problems, box, now).values_list("pk", flat=True))
    assert some is None or bool(ours) == some


def test_a_scope_matching_nothing_is_an_empty_page(shared):
    page = sql_page(Problem, PROBLEM, Problem.objects.none(), ("-reported_at", "-id"), Paging(1, 10))
    assert page is not None and page.rows == [] and page.matched == 0


def test_queries_of_another_shape_take_the_orm_path(shared):
    ordering = ("-reported_at", "-id")
    assert sql_page(Problem, PROBLEM, Problem.objects.all()[:3], ordering, Paging(1, 10)) is None
    grouped = Problem.objects.annotate(n=Count("co_reporters"))
    assert sql_page(Problem, PROBLEM, grouped, ordering, Paging(1, 10)) is None
    union = Problem.objects.filter(status="reported").union(Problem.objects.filter(status="closed"))
    assert sql_page(Problem, PROBLEM, union, ordering, Paging(1, 10)) is None


def test_the_list_answers_from_the_sql_path(shared, as_user, monkeypatch):
    """What the API answers is the SQL path's page (the ORM path is not consulted)."""
    calls = []
    monkeypatch.setattr(listing.Listing, "page", lambda *a: calls.append(a))
    body = as_user(shared["admin"]).get("/api/v1/problems/?page_size=2").json()
    assert calls == [] and body["numberReturned"] == 2 and body["numberMatched"] == Problem.objects.count()
    assert [link["rel"] for link in body["links"]] == ["next"]


def test_dumps_writes_keys_that_are_not_text():
    assert dumps({1: "a", "b": [1, 2]}) == b'{"1":"a","b":[1,2]}'
    with pytest.raises(TypeError):
        dumps({"a": object()})


def test_the_collector_is_paused_only_while_a_page_is_made():
    import gc

    from gridmap.api.listing import collector_paused

    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collector_paused():
        assert not gc.isenabled()
        1 / 0  # noqa: B018
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left off: someone else turned it off
    finally:
        gc.enable()
