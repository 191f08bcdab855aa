"""The evaluation of a city-wide scope read from the daily summary (``summary``), figure for
figure what ``metrics`` defines (a test holds it equal to the per-case reference).

Used when the scope is the whole city (administrators, planners: ``CITY_WIDE_ROLES``), the period
is made of whole local days and the summary has been built; every other scope is a part of the
city and is grouped from its cases (``aggregates.unit_aggregates``).

What comes from where:
- the summed rows of the period's days: filed, closed, on time, reworked, reworks, extended, the
  timed cases and their summed time to close (the mean), recurrences, satisfaction ratings and
  their summed stars — as of the last refresh;
- live, over the cases closed in the period up to that refresh (the partial index on
  ``closed_at``): the median time to close and ``filed_closed`` (the loop closes a case only
  after filing it, so a case filed and closed in time for the period was closed in the period);
- live, now: open and overdue cases (the index on ``status``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from gridmap.accounts.models import Department
from gridmap.accounts.selectors import CITY_WIDE_ROLES, role_of
from gridmap.core.dates import local_midnight
from gridmap.evaluation import summary
from gridmap.evaluation.aggregates import Durations, Span, span_hours
from gridmap.evaluation.metrics import DUPLICATE, LEVELS, Period, UnitStats
from gridmap.evaluation.models import DailyFigures
from gridmap.evaluation.weekly import Week
from gridmap.geography.models import Community, Grid
from gridmap.problems.models import OPEN_STATUSES, Problem

# A summary this old is not used: the schedule refreshes it every 5 minutes, so it has stopped.
STALE_AFTER = timedelta(hours=1)
SUMMED = ("filed", "duplicates", "closed", "closed_on_time", "reworked", "reworks", "extended",
          "hours_count", "span_us", "recurrences", "rated", "rating_total")  # fmt: skip


def whole_days(period: Period) -> tuple[date, date] | None:
    """(first day, day after the last) when the period runs from a local midnight to another."""
    first, after = timezone.localdate(period.start), timezone.localdate(period.end)
    if local_midnight(first) != period.start or local_midnight(after) != period.end:
        return None
    return first, after


def summary_as_of(user: Any, period: Period) -> datetime | None:
    """When the summary that serves ``user``'s figures for ``period`` was read; None when their
    figures are grouped from the cases instead (a part of the city, a period of part days, a
    summary never built or older than ``STALE_AFTER``: its refreshes have stopped)."""
    if role_of(user) not in CITY_WIDE_ROLES or whole_days(period) is None:
        return None
    as_of = summary.as_of()
    return as_of if as_of is not None and timezone.now() - as_of <= STALE_AFTER else None


def _summed(levels: Iterable[str], first: date, after: date) -> dict[str, dict[Any, dict[str, int]]]:
    rows = (
        DailyFigures.objects.filter(level__in=list(levels), day__gte=first, day__lt=after)
        .order_by()
        .values("level", "unit")
        .annotate(**{n: Sum(n) for n in SUMMED})
    )
    found: dict[str, dict[Any, dict[str, int]]] = {}
    for row in rows:
        found.setdefault(row["level"], {})[row["unit"]] = {n: int(row[n] or 0) for n in SUMMED}
    return found


def _leaders(grids: dict[Any, dict[str, int]]) -> dict[Any, dict[str, int]]:
    """The grid rows summed by each grid's current first responsible (第一责任人)."""
    leader_of = dict(
        Grid.objects.filter(first_responsible__isnull=False).values_list("pk", "first_responsible_id")
    )
    found: dict[Any, dict[str, int]] = {}
    for grid, figures in grids.items():
        leader = leader_of.get(grid)
        if leader is not None:
            into = found.setdefault(leader, dict.fromkeys(SUMMED, 0))
            for n in SUMMED:
                into[n] += figures[n]
    return found


def _open_now(levels: Iterable[str], now: datetime) -> dict[str, dict[Any, list[int]]]:
    """{level: {unit: [open, overdue]}} now, in one scan of the open cases grouped by every
    level's unit at once (a row per combination of units), summed per level here."""
    keys = {level: LEVELS[level].key for level in levels}
    rows = (
        Problem.objects.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values(*sorted(set(keys.values())))
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(deadline__lt=now)))
    )
    found: dict[str, dict[Any, list[int]]] = {level: {} for level in keys}
    for row in rows:
        for level, key in keys.items():
            unit = row[key]
            if unit is not None:
                into = found[level].setdefault(unit, [0, 0])
                into[0] += row["n"]
                into[1] += row["late"]
    return found


class Closed:
    """The timed cases closed in the period up to the refresh, read live in one query: for every
    level at once, each unit's middle spans (the median, as in ``aggregates.unit_aggregates``) and
    its count of cases also filed in the period (``filed_closed``). A window per level over one
    scan; the rows fetched are the middle ones, one or two per unit and level."""

    def __init__(self, levels: Iterable[str], period: Period, until: datetime) -> None:
        self.timed = Problem.objects.filter(
            closed_at__gte=period.start, closed_at__lt=min(period.end, until), filed_at__isnull=False
        )
        self.middles: dict[str, dict[Any, list[float]]] = {}
        self.filed_closed: dict[str, dict[Any, int]] = {}
        filed_in = Q(filed_at__gte=period.start, filed_at__lt=period.end) & ~Q(status=DUPLICATE)
        span = Span(F("closed_at"), F("filed_at"))
        keys = {level: LEVELS[level].key for level in levels}
        windows: dict[str, Any] = {"span": span}
        middle = Q(pk__in=[])
        for i, key in enumerate(keys.values()):
            by_unit = [F(key)]
            windows[f"seq{i}"] = Window(
                RowNumber(), partition_by=by_unit, order_by=[span.asc(), F("pk").asc()]
            )
            windows[f"n{i}"] = Window(Count("pk"), partition_by=by_unit)
            windows[f"fc{i}"] = Window(Count("pk", filter=filed_in), partition_by=by_unit)
            middle |= Q(**{f"seq{i}__gte": (F(f"n{i}") + 1) / 2, f"seq{i}__lte": (F(f"n{i}") + 2) / 2})
        fields = [f for i in range(len(keys)) for f in (f"seq{i}", f"n{i}", f"fc{i}")]
        rows = (
            self.timed.order_by()
            .annotate(**windows)
            .filter(middle)
            .values_list(*keys.values(), "span", *fields)
        )
        for row in rows:
            units, spn, rest = row[: len(keys)], row[len(keys)], row[len(keys) + 1 :]
            for i, level in enumerate(keys):
                unit, (seq, n, fc) = units[i], rest[3 * i : 3 * i + 3]
                if unit is None:
                    continue
                self.filed_closed.setdefault(level, {})[unit] = fc
                if (n + 1) // 2 <= seq <= (n + 2) // 2:
                    self.middles.setdefault(level, {}).setdefault(unit, []).append(span_hours(spn))


def _labels(level: str, keys: Iterable[Any]) -> dict[Any, tuple[str, str]]:
    keys = list(keys)
    if level == "grid":
        rows = Grid.objects.filter(pk__in=keys).values_list("pk", "code", "name")
    elif level == "community":
        rows = Community.objects.filter(pk__in=keys).values_list("pk", "code", "name")
    elif level == "department":
        rows = Department.objects.filter(pk__in=keys).values_list("pk", "code", "name")
    else:
        rows = (
            get_user_model()
            .objects.filter(pk__in=keys)
            .values_list("pk", "username", "profile__display_name")
        )
    return {pk: (str(code or ""), str(name or code or "")) for pk, code, name in rows}


def level_figures(
    level: str, summed: dict[str, Any], open_now: dict[Any, list[int]], closed: Closed
) -> list[UnitStats]:
    """One level's UnitStats (unsorted, unscored) from the summed rows and the live reads."""
    key = LEVELS[level].key
    rows = _leaders(summed.get("grid", {})) if level == "leader" else summed.get(level, {})
    timed = closed.timed
    middles, filed_closed = closed.middles.get(level, {}), closed.filed_closed.get(level, {})
    keys = set(open_now) | {k for k, r in rows.items() if any(r.values())}
    labels = _labels(level, keys)
    units = []
    for unit in keys:
        r = rows.get(unit) or dict.fromkeys(SUMMED, 0)
        code, name = labels.get(unit, ("", ""))
        opened, late = open_now.get(unit, (0, 0))
        units.append(
            UnitStats(
                level, unit, code, name, filed=r["filed"], filed_closed=filed_closed.get(unit, 0),
                closed=r["closed"], closed_on_time=r["closed_on_time"], reworked=r["reworked"],
                reworks=r["reworks"], extended=r["extended"], open_now=opened, overdue_now=late,
                recurrences=r["recurrences"], rated=r["rated"], rating_total=r["rating_total"],
                hours_to_close=Durations(timed.filter(**{key: unit})),
                hours_count=r["hours_count"],
                hours_total=r["span_us"] / 3.6e9 if r["hours_count"] else None,
                hours_median=statistics.median(middles[unit]) if unit in middles else None,
            )
        )  # fmt: skip
    return units


def city_figures(
    period: Period, now: datetime, levels: Iterable[str], until: datetime
) -> dict[str, list[UnitStats]]:
    """{level: UnitStats (unranked)} of the whole city over ``period`` (whole days)."""
    levels = list(levels)
    days = whole_days(period)
    assert days is not None, "the summary holds whole days"
    stored = {("grid" if lv == "leader" else lv) for lv in levels}
    summed = _summed(stored, *days)
    open_now, closed = _open_now(levels, now), Closed(levels, period, until)
    return {level: level_figures(level, summed, open_now[level], closed) for level in levels}


def city_totals(period: Period, until: datetime) -> dict[str, int]:
    """Filed, filed-and-closed and closed over the whole city in ``period`` (whole days)."""
    days = whole_days(period)
    assert days is not None, "the summary holds whole days"
    row = _summed(["all"], *days).get("all", {}).get(0) or dict.fromkeys(SUMMED, 0)
    filed_in = Q(filed_at__gte=period.start, filed_at__lt=period.end) & ~Q(status=DUPLICATE)
    filed_closed = Problem.objects.filter(
        filed_in, closed_at__gte=period.start, closed_at__lt=min(period.end, until)
    ).count()
    return {"filed": row["filed"], "filed_closed": filed_closed, "closed": row["closed"]}


def city_weeks(mondays: list[date]) -> list[Week]:
    """Filed and closed per week over the whole city (``weekly.weekly_counts``), from the summary."""
    if not mondays:
        return []
    rows = (
        DailyFigures.objects.filter(level="all", day__gte=mondays[0], day__lt=mondays[-1] + timedelta(days=7))
        .order_by()
        .values_list("day", "filed", "closed")
    )
    weeks = {d: Week(d) for d in mondays}
    for day, filed, closed in rows:
        week = weeks[day - timedelta(days=day.weekday())]
        week.filed += filed
        week.closed += closed
    return list(weeks.values())
