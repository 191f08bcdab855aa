"""Cases filed and closed per week over a period, by the rules of ``metrics`` (a duplicate is
not filed; a case counts as closed in the week of its ``closed_at``). Weeks run Monday to
Monday in local time; a week is half-open, ``[start, next start)``, like every period here."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet

from gridmap.core.dates import local_midnight
from gridmap.evaluation.metrics import DUPLICATE, Period
from gridmap.problems.models import Problem


@dataclass
class Week:
    start: date
    filed: int = 0
    closed: int = 0


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks_between(start: date, end: date) -> list[date]:
    """The Mondays from ``start``'s week up to (not including) ``end`` (both snapped to Mondays,
    ``end`` forward)."""
    first = monday(start)
    last = monday(end) if end.weekday() == 0 else monday(end) + timedelta(days=7)
    return [first + timedelta(days=7 * i) for i in range((last - first).days // 7)]


def bucket(rows: Iterable[tuple[datetime | None, datetime | None, str]], mondays: list[date]) -> list[Week]:
    """Count ``(filed_at, closed_at, status)`` rows into the weeks starting at ``mondays``."""
    weeks = [Week(d) for d in mondays]
    if not weeks:
        return weeks
    edges = [local_midnight(d) for d in mondays] + [local_midnight(mondays[-1] + timedelta(days=7))]
    period = Period(edges[0], edges[-1])

    def index(moment: datetime) -> int:
        return bisect.bisect_right(edges, moment) - 1

    for filed_at, closed_at, status in rows:
        if period.holds(filed_at) and status != DUPLICATE:
            weeks[index(filed_at)].filed += 1
        if period.holds(closed_at):
            weeks[index(closed_at)].closed += 1
    return weeks


def weekly_counts(scoped: QuerySet[Problem], mondays: list[date]) -> list[Week]:
    """Filed and closed per week over ``scoped`` (one query of three columns)."""
    if not mondays:
        return []
    start, end = local_midnight(mondays[0]), local_midnight(mondays[-1] + timedelta(days=7))
    wanted = Q(filed_at__gte=start, filed_at__lt=end) | Q(closed_at__gte=start, closed_at__lt=end)
    # the id keeps apart identical rows of a DISTINCT (scoped) queryset
    rows = scoped.filter(wanted).order_by().values_list("pk", "filed_at", "closed_at", "status")
    return bucket(((f, c, s) for _, f, c, s in rows), mondays)
