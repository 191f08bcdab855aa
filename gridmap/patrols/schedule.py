"""Patrol tasks from plans, made by the service's scheduler (``tasks.create_tasks``, every 15
minutes): each active plan gets one task for the period holding today (local time, Asia/Shanghai
by default: a new day's tasks appear at local midnight, not UTC's). The unique (plan, period
start) makes a second run, or two at once, create nothing more. Open tasks whose period has
ended become missed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from gridmap.patrols.models import Frequency, PatrolPlan, PatrolTask, TaskStatus


def _month_day(year: int, month: int, day: int) -> date:
    return date(year, month, day)


def period_of(plan: PatrolPlan, day: date) -> tuple[date, date]:
    """The plan's period holding ``day``: (first day, last day), both inclusive."""
    if plan.frequency == Frequency.DAILY:
        return day, day
    if plan.frequency == Frequency.WEEKLY:
        start = plan.weekday if plan.weekday is not None else plan.starts_on.weekday()
        first = day - timedelta(days=(day.weekday() - start) % 7)
        return first, first + timedelta(days=6)
    m = plan.monthday or 1
    if day.day >= m:
        first = _month_day(day.year, day.month, m)
    else:
        prev = day.replace(day=1) - timedelta(days=1)
        first = _month_day(prev.year, prev.month, m)
    after = (first.replace(day=1) + timedelta(days=32)).replace(day=m)
    return first, after - timedelta(days=1)


def create_due_tasks(now: datetime | None = None) -> dict[str, int]:
    """Make the tasks due today (never twice) and mark ended open ones missed."""
    today = timezone.localdate(now or timezone.now())
    missed = PatrolTask.objects.filter(status=TaskStatus.OPEN, until__lt=today).update(
        status=TaskStatus.MISSED
    )
    plans = list(PatrolPlan.objects.filter(active=True, starts_on__lte=today))
    rows = []
    for plan in plans:
        first, last = period_of(plan, today)
        rows.append(PatrolTask(plan=plan, due_on=first, until=last, walker_id=plan.walker_id))
    before = PatrolTask.objects.filter(plan__in=plans, due_on__in={r.due_on for r in rows}).count()
    PatrolTask.objects.bulk_create(rows, ignore_conflicts=True)
    after = PatrolTask.objects.filter(plan__in=plans, due_on__in={r.due_on for r in rows}).count()
    return {"created": after - before, "missed": missed}
