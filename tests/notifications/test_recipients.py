"""Who is told of each step of the loop, as what, and nobody outside the case's scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.notifications.models import Kind, Notification
from gridmap.notifications.recipients import scoped
from gridmap.notifications.record import lookback_reminders
from gridmap.problems.escalation import problems_escalate_overdue
from gridmap.problems.models import ProblemEvent
from tests.notifications.conftest import SPOT, report, step
from tests.photos import jpeg

pytestmark = pytest.mark.django_db
K = Kind


def told(problem, action):
    event = ProblemEvent.objects.filter(problem=problem, action=action).latest("pk")
    return {(n.recipient.username, n.kind) for n in Notification.objects.filter(event=event)}


def test_each_step_tells_the_next_person_and_the_reporter(town):
    t = town
    p = report(t)
    assert told(p, "report") == {("leader", K.NEW_REPORT)}  # the reporter made it: not told
    p = step(p, "file", t["leader"])
    assert told(p, "file") == {("reporter", K.REPORT_NEWS)}
    p = step(p, "dispatch", t["leader"])
    assert told(p, "dispatch") == {("handler", K.DISPATCHED), ("handler2", K.DISPATCHED),
                                   ("reporter", K.REPORT_NEWS)}  # fmt: skip
    step(p, "request_extension", t["handler"], note="雨天", params={"hours": 24})
    assert told(p, "request_extension") == {("head", K.EXTENSION_REQUESTED)}
    step(p, "decide_extension", t["head"], params={"approve": True})
    assert told(p, "decide_extension") == {("handler", K.EXTENSION_DECIDED)}
    p = step(p, "handle", t["handler"], photos=[jpeg()], lon=SPOT[0], lat=SPOT[1])
    assert told(p, "handle") == {("inspector", K.TO_VERIFY), ("reporter", K.REPORT_NEWS)}
    p = step(p, "verify_fail", t["inspector"], note="仍在")
    assert told(p, "verify_fail") == {
        ("handler", K.REWORK),
        ("handler2", K.REWORK),
        ("reporter", K.REPORT_NEWS),
    }
    p = step(p, "handle", t["handler2"], photos=[jpeg()], lon=SPOT[0], lat=SPOT[1])
    p = step(p, "verify_pass", t["inspector"])
    assert told(p, "verify_pass") == {("reporter", K.REPORT_NEWS)}

    # the look-back falls due: the inspector is reminded once for that date
    assert lookback_reminders(p.lookback_due - timedelta(days=1)) == 0
    assert lookback_reminders(p.lookback_due) == 1
    assert lookback_reminders(p.lookback_due + timedelta(days=3)) == 0
    reminder = Notification.objects.get(kind=K.LOOKBACK_DUE)
    assert reminder.recipient == t["inspector"] and reminder.problem == p

    later = timezone.now() + timedelta(days=t["category"].lookback_days)
    p = step(p, "lookback_fail", t["inspector"], note="又出摊了", now=later)
    assert told(p, "lookback_fail") == {
        ("handler", K.REWORK),
        ("handler2", K.REWORK),
        ("reporter", K.REPORT_NEWS),
    }

    # the deadline passes: the community head is told of the escalation
    assert problems_escalate_overdue(p.deadline + timedelta(hours=1)) == 1
    assert told(p, "escalate") == {("head", K.ESCALATED)}
    # nobody outside the case's community, department or grid heard anything
    outside = ["other_leader", "other_head", "other_handler", "other_inspector", "stranger", "co_reporter"]
    assert not Notification.objects.filter(recipient__username__in=outside).exists()


def test_a_refused_extension_tells_the_requester(town):
    t = town
    p = step(step(report(t), "file", t["leader"]), "dispatch", t["leader"])
    step(p, "request_extension", t["handler2"], note="缺人", params={"hours": 4})
    step(p, "decide_extension", t["head"], params={"approve": False})
    (note,) = Notification.objects.filter(kind=K.EXTENSION_DECIDED)
    assert note.recipient == t["handler2"] and note.data == {"approved": False}


def test_co_reporters_hear_of_the_case_they_were_merged_into(town):
    t = town
    first = step(report(t), "file", t["leader"])
    second = report(t, reporter=t["co_reporter"])
    step(second, "mark_duplicate", t["leader"], params={"duplicate_of": first.pk})
    assert told(second, "mark_duplicate") == {("co_reporter", K.REPORT_NEWS)}
    step(first, "dispatch", t["leader"])
    assert {("reporter", K.REPORT_NEWS), ("co_reporter", K.REPORT_NEWS)} <= told(first, "dispatch")


def test_someone_whose_role_no_longer_covers_the_case_is_not_told(town):
    t = town
    t["leader"].profile.role = Role.REPORTER  # still named on the grid, no longer its leader
    t["leader"].profile.save()
    p = report(t)
    assert told(p, "report") == set()
    assert scoped(p, [(K.NEW_REPORT, [t["stranger"].pk, t["other_leader"].pk, t["reporter"].pk])],
                  actor_id=None) == [(t["reporter"], K.NEW_REPORT)]  # fmt: skip


def test_one_event_tells_one_person_once(town):
    """A leader who reported a case in their own grid and a department member who reported one
    are each told once per event (work before news)."""
    t = town
    p = report(t, reporter=t["handler"])
    step(p, "file", t["leader"])
    step(p, "dispatch", t["leader"])
    assert told(p, "dispatch") == {("handler", K.DISPATCHED), ("handler2", K.DISPATCHED)}
    event = ProblemEvent.objects.get(problem=p, action="dispatch")
    from gridmap.notifications.record import event_recorded

    assert event_recorded(event) == []  # recorded again: nobody told twice
    assert Notification.objects.filter(event=event).count() == 2
