"""Overdue problems are escalated (督办升级): once per missed deadline, one level up each time.

The rule. An open problem whose deadline has passed is escalated once for that deadline. A case
gets a new deadline when it is dispatched again after a failed verification (返工) or a failed
look-back (回头看不通过), or when an extension is approved; if it misses that one too, it is
escalated again, one level higher than the last time:

1. the community (社区): its head;
2. the street office (街道), the community's subdistrict;
3. the district (区) and above: every later miss stays at this level.

This system has no account for a street or district office: from level 2 on the event names the
office and its area with no recipient (``to`` is empty; no staff username goes into an event that a
reporter can read), and the administrators' dashboard lists the case among the escalated ones.

"Escalated for this deadline" is ``escalated_at >= deadline``: an escalation happens after the
deadline it is for has passed, and rework or a failed look-back sets the new deadline from the
moment of that step, later than any escalation before it (an extension approved so late that
the extended deadline had already passed when the case was escalated counts as the same missed
deadline). So the one conditional UPDATE that sets ``escalated_at`` decides it: a second run, or two at once,
escalates nothing twice; each escalation writes one ``escalate`` event with its level, office,
area, the deadline it is for and whom it went to.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from gridmap.accounts.models import Profile, Role
from gridmap.problems.models import OPEN_STATUSES, Problem, ProblemEvent

# (office, its name) by level, from 1; a level past the last stays at the last
LEVELS = (("community", "社区"), ("subdistrict", "街道"), ("district", "区"))


def problems_overdue(now: datetime | None = None) -> QuerySet[Problem]:
    now = now or timezone.now()
    return Problem.objects.filter(status__in=OPEN_STATUSES, deadline__lt=now)


def not_escalated_for_deadline() -> Q:
    """The problems not yet escalated for their current deadline."""
    return Q(escalated_at__isnull=True) | Q(escalated_at__lt=F("deadline"))


def escalation_due(now: datetime | None = None) -> QuerySet[Problem]:
    """Overdue problems not yet escalated for the deadline they missed."""
    return problems_overdue(now).filter(not_escalated_for_deadline())


ESCALATE_CHUNK = 2000


def problems_escalate_overdue(now: datetime | None = None) -> int:
    """Escalate every problem due (``escalation_due``) one level up; returns how many.

    Each case in its own transaction (``problem_escalate``): a run over a backlog holds no lock
    on the cases it has done, and what it did stays done if it stops halfway (the next run goes
    on; the conditional UPDATE keeps it to once per deadline)."""
    now = now or timezone.now()
    due = escalation_due(now).select_related("community__subdistrict__district").order_by("pk")
    escalated, after = 0, 0
    while True:  # in chunks by id: a backlog of 100,000s of cases stays small in memory
        chunk = list(due.filter(pk__gt=after)[:ESCALATE_CHUNK])
        escalated += sum(problem_escalate(problem, now) for problem in chunk)
        if len(chunk) < ESCALATE_CHUNK:
            return escalated
        after = chunk[-1].pk


def problem_escalate(problem: Problem, now: datetime) -> bool:
    """Escalate ``problem`` (as read, overdue) for its current deadline, unless a run did it
    since it was read: the UPDATE's condition decides. True when this call escalated it."""
    with transaction.atomic():
        won = (
            Problem.objects.filter(pk=problem.pk, deadline=problem.deadline, deadline__lt=now)
            .filter(not_escalated_for_deadline())
            .update(escalated_at=now)
        )
        if not won:
            return False
        level = ProblemEvent.objects.filter(problem_id=problem.pk, action="escalate").count() + 1
        office, _name = LEVELS[min(level, len(LEVELS)) - 1]
        ProblemEvent.objects.create(
            problem=problem,
            action="escalate",
            from_status=problem.status,
            to_status=problem.status,
            at=now,
            data={
                "level": level,
                "office": office,
                "area": _area_code(problem, office),
                "deadline": problem.deadline.isoformat(),
                "to": _recipients(problem, office),
            },
        )
    return True


def _area_code(problem: Problem, office: str) -> str | None:
    """The code of the office's area (community, street or district); None without a community."""
    community = problem.community
    if community is None:
        return None
    return {"community": community, "subdistrict": community.subdistrict,
            "district": community.subdistrict.district}[office].code  # fmt: skip


def _recipients(problem: Problem, office: str) -> list[str]:
    """Usernames the escalation goes to: the community's head(s); above the community, nobody has
    an account for the office (see the module docstring)."""
    if office != "community" or problem.community_id is None:
        return []
    heads = Profile.objects.filter(role=Role.COMMUNITY_HEAD, community_id=problem.community_id)
    return sorted(heads.values_list("user__username", flat=True))
