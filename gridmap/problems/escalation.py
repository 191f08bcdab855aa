"""Overdue problems are escalated to the head of their community, once, with an audit event."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from gridmap.accounts.models import Profile, Role
from gridmap.problems.models import OPEN_STATUSES, Problem, ProblemEvent


def problems_overdue(now: datetime | None = None):
    now = now or timezone.now()
    return Problem.objects.filter(status__in=OPEN_STATUSES, deadline__lt=now)


@transaction.atomic
def problems_escalate_overdue(now: datetime | None = None) -> int:
    """Mark every overdue, not yet escalated problem and record whom it went to; returns how many.

    The conditional update (``escalated_at`` still empty) makes a second run, or two at once,
    escalate nothing twice.
    """
    now = now or timezone.now()
    heads = {
        p.community_id: p.user.get_username()
        for p in Profile.objects.filter(role=Role.COMMUNITY_HEAD).select_related("user")
    }
    count = 0
    for problem in (
        problems_overdue(now).filter(escalated_at__isnull=True).only("pk", "community_id", "status")
    ):
        if Problem.objects.filter(pk=problem.pk, escalated_at__isnull=True).update(escalated_at=now):
            ProblemEvent.objects.create(
                problem=problem,
                action="escalate",
                from_status=problem.status,
                to_status=problem.status,
                at=now,
                data={"to": heads.get(problem.community_id)},
            )
            count += 1
    return count
