"""Kept results (``gridmap.core.kept``): computed once for a scope and parameters, answered as
they are while their change stamps hold, answered "updating" with one refresh sent to the
workers when a stamp moves or they grow older than their freshness, and keyed on what the
user's scope really is (``scope_signature``)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from gridmap.accounts.models import Profile, Role
from gridmap.core import jobs, kept
from gridmap.problems.models import Problem
from gridmap.problems.selectors import problems_visible_to, scope_signature
from tests.factories import grid, region_tree, user

pytestmark = pytest.mark.django_db
CALLS: list[tuple[str, dict]] = []
FAIL: list[bool] = []


@kept.keeper("tests.visible_count", scope=scope_signature, stamps=("problems",), fresh_s=60)
def visible_count(who, params):
    if FAIL:
        raise RuntimeError("database went away")
    CALLS.append((who.username, params))
    return problems_visible_to(who).count() + params.get("plus", 0)


@pytest.fixture
def place(db):
    CALLS.clear()
    FAIL.clear()
    c1, c2 = region_tree(n=2)
    leader = user("kept_leader", Role.GRID_LEADER)
    g1 = grid(c1, 1, (120.0, 31.0, 120.002, 31.002), leader=leader)
    return {"c1": c1, "c2": c2, "leader": leader, "g1": g1}


def add_problem(g):
    from django.contrib.gis.geos import Point

    from gridmap.problems.models import EventCategory

    return Problem.objects.create(
        geom=Point(120.001, 31.001), category=EventCategory.objects.get(code="0101"), grid=g,
        community=g.community, status="reported",
    )  # fmt: skip


def test_computed_once_then_current(place):
    add_problem(place["g1"])
    first = visible_count.get(place["leader"], {"plus": 0})
    again = visible_count.get(place["leader"], {"plus": 0})
    assert (first.value, first.state) == (1, "current") and again == first
    assert [c[0] for c in CALLS] == ["kept_leader"]
    other = visible_count.get(place["leader"], {"plus": 5})  # other parameters: its own result
    assert other.value == 6 and len(CALLS) == 2


def test_a_moved_stamp_answers_the_old_value_and_refreshes_once(place, django_capture_on_commit_callbacks):
    add_problem(place["g1"])
    first = visible_count.get(place["leader"], {})
    add_problem(place["g1"])  # the problems stamp moves
    with django_capture_on_commit_callbacks(execute=False) as sent:
        stale = visible_count.get(place["leader"], {})
        also = visible_count.get(place["leader"], {})
    assert (stale.value, stale.state, stale.computed_at) == (1, "updating", first.computed_at)
    assert also.updating and len(sent) == 1 and len(CALLS) == 1  # one refresh, nothing computed here
    sent[0]()  # the worker's run (inline in the tests)
    fresh = visible_count.get(place["leader"], {})
    assert (fresh.value, fresh.state) == (2, "current") and len(CALLS) == 2


def test_an_old_result_is_refreshed_though_nothing_changed(
    place, monkeypatch, django_capture_on_commit_callbacks
):
    visible_count.get(place["leader"], {})
    later = timezone.now() + timedelta(seconds=61)
    monkeypatch.setattr(kept.timezone, "now", lambda: later)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert visible_count.get(place["leader"], {}).updating
    assert len(sent) == 1


def test_a_failed_refresh_frees_its_lock(place, django_capture_on_commit_callbacks):
    visible_count.get(place["leader"], {})
    add_problem(place["g1"])
    FAIL.append(True)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert visible_count.get(place["leader"], {}).updating
    with pytest.raises(RuntimeError):
        visible_count.refresh(place["leader"].pk, {})
    with django_capture_on_commit_callbacks(execute=False) as again:
        visible_count.get(place["leader"], {})
    assert len(sent) == 1 and len(again) == 1  # the lock was released: the next request asks again


def test_a_worker_that_loads_the_tasks_knows_every_kept_result():
    assert "core.refresh_kept" in jobs.load_task_modules()
    assert {
        "analysis.hotspots",
        "analysis.suggestions",
        "evaluation.tables",
        "evaluation.weeks",
        "dashboard.city",
    } <= set(kept._KEEPERS)


def test_scope_signature_follows_what_the_scope_is_made_of(place):
    admin, planner = user("kept_admin", Role.ADMIN), user("kept_planner", Role.PLANNER)
    assert scope_signature(admin) == scope_signature(planner)  # both see the whole city
    before = scope_signature(place["leader"])
    grid(place["c1"], 2, (120.002, 31.0, 120.004, 31.002), leader=place["leader"])
    assert scope_signature(place["leader"]) != before  # a second grid led
    inspector = user("kept_inspector", Role.INSPECTOR)
    alone = scope_signature(inspector)
    Profile.objects.get(user=inspector).patrol_communities.add(place["c2"])
    assert scope_signature(inspector) != alone
    head1 = user("kept_head1", Role.COMMUNITY_HEAD, community=place["c1"])
    head2 = user("kept_head2", Role.COMMUNITY_HEAD, community=place["c2"])
    assert scope_signature(head1) != scope_signature(head2)  # (and each sees their own reports)
