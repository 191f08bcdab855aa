"""What each user sees of the patrols: their own tasks and records; and, for the grids they may
see, when each was last walked (``last_walks``): the map of what was not patrolled."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from gridmap.geography.models import Grid
from gridmap.geography.selectors import grids_visible_to
from gridmap.patrols.models import PatrolRecord, PatrolTask, TaskStatus


def tasks_of(user: Any) -> QuerySet[PatrolTask]:
    """The user's tasks: open ones first by due day, then the last ones done or missed."""
    return (
        PatrolTask.objects.filter(walker_id=user.pk).select_related("plan").order_by("status", "due_on", "pk")
    )


def open_tasks_of(user: Any) -> QuerySet[PatrolTask]:
    today = timezone.localdate()
    return tasks_of(user).filter(status=TaskStatus.OPEN, due_on__lte=today)


def records_of(user: Any) -> QuerySet[PatrolRecord]:
    return PatrolRecord.objects.filter(walker_id=user.pk).prefetch_related("grids", "findings")


def last_walks(user: Any) -> list[tuple[Grid, date | None]]:
    """Each grid ``user`` may see with the local day it was last walked (None: never), the
    longest unwalked first."""
    walked = PatrolRecord.grids.through.objects.filter(grid_id=OuterRef("pk")).order_by()
    last = walked.values("grid_id").annotate(m=Max("patrolrecord__ended_at")).values("m")
    grids = grids_visible_to(user).annotate(last=Subquery(last)).order_by("code")
    rows = [(g, timezone.localdate(g.last) if g.last else None) for g in grids]
    rows.sort(key=lambda r: (r[1] is not None, r[1] or date.min, r[0].code))
    return rows
