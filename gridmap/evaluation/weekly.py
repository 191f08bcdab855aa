"""Cases filed and closed per week over a period, by the rules of ``metrics`` (a duplicate is
not filed; a case counts as closed in the week of its ``closed_at``). Weeks run Monday to
Monday in local time; a week is half-open, ``[start, next start)``, like every period here."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet

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
    """Filed and closed per week over ``scoped``: one aggregate query, two counts per week
    (what ``bucket`` computes over the rows, grouped in the database)."""
    if not mondays:
        return []
    edges = [local_midnight(d) for d in mondays] + [local_midnight(mondays[-1] + timedelta(days=7))]
    # a scope reached through to-many joins is distinct(): count its ids, not the joined rows
    cases = Problem.objects.filter(pk__in=scoped.values("pk")) if scoped.query.distinct else scoped
    counts: dict[str, Count] = {}
    for i, (start, end) in enumerate(zip(edges, edges[1:], strict=False)):
        counts[f"filed_{i}"] = Count(
            "pk", filter=Q(filed_at__gte=start, filed_at__lt=end) & ~Q(status=DUPLICATE)
        )
        counts[f"closed_{i}"] = Count("pk", filter=Q(closed_at__gte=start, closed_at__lt=end))
    first, last = edges[0], edges[-1]
    wanted = Q(filed_at__gte=first, filed_at__lt=last) | Q(closed_at__gte=first, closed_at__lt=last)
    totals = cases.filter(wanted).order_by().aggregate(**counts)
    return [Week(d, totals[f"filed_{i}"], totals[f"closed_{i}"]) for i, d in enumerate(mondays)]
