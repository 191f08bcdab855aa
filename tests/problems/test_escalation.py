"""Escalation is per deadline (issue 12, finding 13): each missed deadline escalates once, one
level higher than the last (community head, then the street office, then the district); a case
escalated once escalates again when rework gives it a new deadline that it also misses."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from gridmap.accounts.models import Department, Role
from gridmap.problems.escalation import problems_escalate_overdue
from gridmap.problems.intake import problem_create
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import EventCategory, Problem, ProblemEvent
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

SPOT = (LON0 + 0.001, LAT0 + 0.001)
HOUR = timedelta(hours=1)


@pytest.fixture
def town(db):
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    user("head", Role.COMMUNITY_HEAD, community=community)
    user("office", Role.ADMIN)
    grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    category = EventCategory.objects.get(code="0301")
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    handler = user("handler", Role.DEPARTMENT, department=dept)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(community)
    return {"community": community, "leader": leader, "handler": handler, "inspector": inspector,
            "category": category, "hours": timedelta(hours=category.deadline_hours)}  # fmt: skip


def dispatched(t, at) -> Problem:
    problem, _ = problem_create(lon=SPOT[0], lat=SPOT[1], category=t["category"], reporter=t["leader"])
    for action in ("file", "dispatch"):
        problem = step(problem, action, t["leader"], at)
    return problem


def step(problem, action, actor, at, **kw) -> Problem:
    return problem_transition(problem_id=problem.pk, action=action, actor=actor, now=at, **kw).problem


def rework(t, problem, at) -> Problem:
    """Handled, then the verification fails: back to dispatched with a new deadline."""
    problem = step(problem, "handle", t["handler"], at, photos=[jpeg()], lon=SPOT[0], lat=SPOT[1])
    return step(problem, "verify_fail", t["inspector"], at + HOUR, note="仍未整改", photos=[jpeg()],
                lon=SPOT[0], lat=SPOT[1])  # fmt: skip


def escalations(problem) -> list[dict]:
    return [e.data for e in ProblemEvent.objects.filter(problem=problem, action="escalate").order_by("pk")]


def test_each_missed_deadline_escalates_once_one_level_up(town, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    t = town
    t0 = timezone.now()
    p = dispatched(t, t0)
    first_deadline = p.deadline
    assert problems_escalate_overdue(first_deadline - HOUR) == 0  # not yet late
    late1 = first_deadline + HOUR
    assert problems_escalate_overdue(late1) == 1
    assert problems_escalate_overdue(late1 + HOUR) == 0  # never twice for the same deadline
    assert len(escalations(p)) == 1

    p = rework(t, p, late1 + 2 * HOUR)  # a new deadline, from the failed verification
    assert p.deadline == late1 + 3 * HOUR + t["hours"] and p.rework_count == 1
    assert problems_escalate_overdue(p.deadline - HOUR) == 0  # the new deadline is not missed yet
    late2 = p.deadline + HOUR
    assert problems_escalate_overdue(late2) == 1  # missed again: escalated again, one level up
    assert problems_escalate_overdue(late2 + HOUR) == 0
    second_deadline = p.deadline

    p = rework(t, p, late2 + HOUR)
    p = rework(t, p, p.deadline + HOUR)  # a third and a fourth deadline, both missed
    assert problems_escalate_overdue(p.deadline + HOUR) == 1
    assert [(e["level"], e["office"]) for e in escalations(p)] == [
        (1, "community"), (2, "subdistrict"), (3, "district")]  # fmt: skip
    assert Problem.objects.get(pk=p.pk).escalated_at == p.deadline + HOUR
    e1, e2, e3 = escalations(p)
    assert e1 == {"level": 1, "office": "community", "area": t["community"].code,
                  "deadline": first_deadline.isoformat(), "to": ["head"]}  # fmt: skip
    assert e2 == {"level": 2, "office": "subdistrict", "area": t["community"].subdistrict.code,
                  "deadline": second_deadline.isoformat(), "to": []}  # fmt: skip
    assert e3["area"] == t["community"].subdistrict.district.code and e3["to"] == []


def test_a_run_that_read_before_another_escalated_escalates_nothing(town):
    from gridmap.problems.escalation import escalation_due, problem_escalate

    t = town
    p = dispatched(t, timezone.now())
    late = p.deadline + HOUR
    stale = list(escalation_due(late))  # one run has read its list...
    assert [q.pk for q in stale] == [p.pk]
    assert problems_escalate_overdue(late) == 1  # ...another escalates first
    assert [problem_escalate(q, late) for q in stale] == [False]
    assert len(escalations(p)) == 1


def test_the_command_says_the_rule_and_escalates(town):
    t = town
    p = dispatched(t, timezone.now() - 2 * t["hours"])
    out = StringIO()
    call_command("escalate_overdue", stdout=out)
    assert out.getvalue().strip() == "escalated 1 problems" and len(escalations(p)) == 1
    call_command("escalate_overdue", stdout=out)
    assert len(escalations(p)) == 1
    from gridmap.problems.management.commands.escalate_overdue import Command

    assert "once for that deadline" in Command.help and "街道" in Command.help


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads share no in-memory SQLite database")
def test_concurrent_runs_do_not_double(catalogues, town):
    """(A transactional test: an earlier one may have flushed the seeded catalogues.)"""
    t = town
    problems = [dispatched(t, timezone.now()) for _ in range(5)]
    late = max(p.deadline for p in problems) + HOUR
    barrier = threading.Barrier(4)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            counts.append(problems_escalate_overdue(late))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and sum(counts) == 5
    assert ProblemEvent.objects.filter(action="escalate").count() == 5


def test_a_backlog_is_escalated_in_chunks_each_case_once(town, monkeypatch):
    from gridmap.problems import escalation

    now = timezone.now()
    cases = [dispatched(town, now - timedelta(days=30)) for _ in range(5)]
    monkeypatch.setattr(escalation, "ESCALATE_CHUNK", 2)  # 2 + 2 + 1
    assert problems_escalate_overdue(now) == 5
    assert problems_escalate_overdue(now) == 0
    for case in cases:
        assert ProblemEvent.objects.filter(problem=case, action="escalate").count() == 1
