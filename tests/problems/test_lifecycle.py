"""The closed loop: report → file → dispatch → handle → verify → close → look back, on both databases."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from gridmap.accounts.models import Department, Role
from gridmap.problems import lifecycle_steps
from gridmap.problems.escalation import problems_escalate_overdue
from gridmap.problems.intake import possible_duplicates, problem_create
from gridmap.problems.lifecycle import TransitionConflict, TransitionForbidden, problem_transition
from gridmap.problems.models import EventCategory, ExtensionRequest, Problem, ProblemEvent, Status
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

pytestmark = pytest.mark.django_db
SPOT = (LON0 + 0.001, LAT0 + 0.001)


@pytest.fixture(autouse=True)
def english():
    """Messages are matched in English here (the site default is Chinese)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def town():
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    head = user("head", Role.COMMUNITY_HEAD, community=community)
    g = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    category = EventCategory.objects.get(code="0301")  # street vending
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    handler = user("handler", Role.DEPARTMENT, department=dept)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(community)
    reporter = user("reporter", Role.REPORTER)
    return {"community": community, "grid": g, "leader": leader, "head": head, "handler": handler,
            "inspector": inspector, "reporter": reporter, "category": category, "dept": dept}  # fmt: skip


def report(t, **kw):
    problem, _ = problem_create(
        lon=SPOT[0], lat=SPOT[1], category=t["category"], reporter=t["reporter"], **kw
    )
    return problem


def step(problem, action, actor, **kw):
    return problem_transition(problem_id=problem.pk, action=action, actor=actor, **kw).problem


def test_a_problem_goes_round_the_whole_loop(town):
    t = town
    p = report(t)
    assert p.grid == t["grid"] and p.status == Status.REPORTED
    p = step(p, "file", t["leader"])
    p = step(p, "dispatch", t["leader"])
    assert p.status == Status.DISPATCHED and p.department == t["dept"] and p.inspector == t["inspector"]
    assert p.deadline > timezone.now()
    p = step(p, "handle", t["handler"], photos=[jpeg(lonlat=(SPOT[0] + 0.0001, SPOT[1]))], note="已清理")
    assert (
        p.status == Status.HANDLED
        and p.handled_by == t["handler"]
        and p.photos.filter(stage="after").count() == 1
    )
    p = step(p, "verify_fail", t["inspector"], note="摊位仍在")
    assert p.status == Status.DISPATCHED and p.rework_count == 1
    p = step(p, "handle", t["handler"], photos=[jpeg()], lon=SPOT[0], lat=SPOT[1])
    p = step(p, "verify_pass", t["inspector"])
    assert p.status == Status.CLOSED and p.closed_on_time is True and p.lookback_due is not None
    with pytest.raises(ValidationError, match="due"):
        step(p, "lookback_pass", t["inspector"])  # too early
    later = timezone.now() + timedelta(days=t["category"].lookback_days)
    p = step(p, "lookback_fail", t["inspector"], note="又出摊了", now=later)
    assert p.status == Status.DISPATCHED and p.reopen_count == 1 and p.closed_at is None
    actions = list(ProblemEvent.objects.filter(problem=p).values_list("action", flat=True))
    assert actions == [
        "report",
        "file",
        "dispatch",
        "handle",
        "verify_fail",
        "handle",
        "verify_pass",
        "lookback_fail",
    ]
    assert all(e.actor_id for e in ProblemEvent.objects.filter(problem=p).exclude(action="report"))


def test_an_illegal_step_names_the_allowed_ones(town):
    p = report(town)
    with pytest.raises(TransitionConflict) as err:
        step(p, "verify_pass", town["inspector"])
    assert err.value.status == "reported" and err.value.allowed == []  # an inspector can do nothing yet
    with pytest.raises(TransitionConflict) as err:
        step(p, "dispatch", town["leader"])
    assert set(err.value.allowed) == {"file", "reject", "mark_duplicate"}


def test_roles_and_scopes_are_enforced(town):
    p = report(town)
    with pytest.raises(TransitionForbidden):
        step(p, "file", town["handler"])  # a department sees its category but does not file
    stranger = user("stranger", Role.GRID_LEADER)
    with pytest.raises(Problem.DoesNotExist):
        step(p, "file", stranger)  # a leader of no grid here cannot even see it
    # A leader who reported a problem in someone else's grid follows it but cannot file it.
    own, _ = problem_create(lon=SPOT[0], lat=SPOT[1], category=town["category"], reporter=stranger)
    with pytest.raises(TransitionForbidden, match="outside"):
        step(own, "file", stranger)


def test_the_fixer_does_not_verify_and_a_fix_needs_a_near_photo(town):
    t = town
    p = step(step(report(t), "file", t["leader"]), "dispatch", t["leader"])
    with pytest.raises(ValidationError, match="after-photo"):
        step(p, "handle", t["handler"])
    with pytest.raises(ValidationError, match="m from the problem"):
        step(p, "handle", t["handler"], photos=[jpeg(lonlat=(SPOT[0] + 0.01, SPOT[1]))])
    assert (
        Problem.objects.get(pk=p.pk).status == Status.DISPATCHED and p.photos.count() == 0
    )  # nothing half-written
    p = step(p, "handle", t["leader"], photos=[jpeg()], lon=SPOT[0], lat=SPOT[1])
    t["leader"].profile.role = Role.COMMUNITY_HEAD  # even with a checker's role, not one's own fix
    t["leader"].profile.community = t["community"]
    t["leader"].profile.save()
    with pytest.raises(ValidationError, match="does not verify"):
        step(p, "verify_pass", t["leader"])


def test_two_people_acting_at_once_exactly_one_wins(town, monkeypatch):
    t = town
    p = step(report(t), "file", t["leader"])
    real = lifecycle_steps.STEP_CHECKS["dispatch"]
    outcomes, raced = [], []

    def race(ctx):  # the head dispatches after the leader has read the problem, before the leader writes
        real(ctx)
        if not raced:
            raced.append(True)
            outcomes.append(step(Problem.objects.get(pk=p.pk), "dispatch", t["head"]).status)

    monkeypatch.setitem(lifecycle_steps.STEP_CHECKS, "dispatch", race)
    with pytest.raises(TransitionConflict, match="someone else"):
        step(p, "dispatch", t["leader"])
    assert outcomes == ["dispatched"]
    assert ProblemEvent.objects.filter(problem=p, action="dispatch").count() == 1


def test_extension_request_and_approval_move_the_deadline(town):
    t = town
    p = step(step(report(t), "file", t["leader"]), "dispatch", t["leader"])
    before = p.deadline
    with pytest.raises(ValidationError):
        step(p, "request_extension", t["handler"], params={"hours": 24})  # no reason given
    step(p, "request_extension", t["handler"], note="需采购配件", params={"hours": 24})
    with pytest.raises(ValidationError, match="already"):
        step(p, "request_extension", t["handler"], note="再延", params={"hours": 24})
    with pytest.raises(TransitionForbidden):
        step(p, "decide_extension", t["handler"], params={"approve": True})
    p = step(p, "decide_extension", t["head"], params={"approve": True})
    assert p.deadline - before == timedelta(hours=24) and p.extension_count == 1
    assert ExtensionRequest.objects.get().decision == "approved"


def test_overdue_problems_are_escalated_once(town):
    t = town
    p = step(step(report(t), "file", t["leader"]), "dispatch", t["leader"])
    assert problems_escalate_overdue() == 0
    later = timezone.now() + timedelta(hours=t["category"].deadline_hours + 1)
    assert problems_escalate_overdue(later) == 1 and problems_escalate_overdue(later) == 0
    event = ProblemEvent.objects.get(problem=p, action="escalate")
    assert event.data["to"] == ["head"] and event.data["level"] == 1


def test_duplicates_are_offered_and_merging_keeps_every_reporter(town):
    t = town
    first = report(t)
    other = user("other-reporter", Role.REPORTER)
    second, _ = problem_create(lon=SPOT[0] + 0.0001, lat=SPOT[1], category=t["category"], reporter=other)
    offered = possible_duplicates(second.geom, t["category"])
    assert [q.pk for q, _ in offered] == [second.pk, first.pk] and offered[1][1] < 15
    step(second, "mark_duplicate", t["leader"], params={"duplicate_of": first.pk})
    first.refresh_from_db()
    assert set(first.co_reporters.all()) == {other}
    assert Problem.objects.get(pk=second.pk).status == Status.DUPLICATE


def test_a_recurrence_after_closing_links_and_counts_against_the_closed_case(town):
    t = town
    p = step(step(report(t), "file", t["leader"]), "dispatch", t["leader"])
    p = step(p, "handle", t["handler"], photos=[jpeg()], lon=SPOT[0], lat=SPOT[1])
    closed = step(p, "verify_pass", t["inspector"])
    again = report(t)
    assert again.recurrence_of_id == closed.pk
    assert Problem.objects.get(pk=closed.pk).recurrence_count == 1
    far, _ = problem_create(lon=SPOT[0] + 0.0009, lat=SPOT[1], category=t["category"])  # ~85 m away
    assert far.recurrence_of_id is None
