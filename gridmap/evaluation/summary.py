"""Keeping the daily summary (``models.DailyFigures``): per town, level, unit and local day, the
additive figures of ``metrics`` (filed, closed, on time, reworked, reworks, extended, timed
cases and their summed time to close, recurrences), so that a city-wide evaluation sums a few
thousand rows instead of grouping a million cases.

A refresh finds what changed since the last one and rewrites only that:

- the towns whose ``problems`` stamp (``gridmap.core.stamps``) differs from the one it last saw
  (a change in town 0, the shared rows, counts for every town);
- the days touched: of every case with an event or a report since the last refresh began (less
  ``OVERLAP``, for transactions that were still open), or with a case or event id above the
  highest it had seen (imports, events written with old times), the local days of its filing,
  closing and report, of every event in its history (a closing undone by a failed look-back
  leaves its day in the history) and of the reports that recur it — in the changed towns where
  such cases lie. A changed town where none lies (an edit outside the loop, in the admin or in
  SQL; a case moved to another town) is rebuilt whole; ``--full`` rebuilds all.

Each rewrite deletes the rows of those towns and days and writes them again with one
``INSERT … SELECT`` per level, grouped in the database (``UNION ALL`` of the cases grouped by
filing day, by closing day, of the recurrences grouped by report day and of the satisfaction
ratings grouped by the day they were given; a rating writes a ``rate`` event, so its day is a
touched day).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Func, IntegerField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from gridmap.core.dates import local_midnight
from gridmap.core.stamps import stamp_of
from gridmap.evaluation.aggregates import Span
from gridmap.evaluation.metrics import DUPLICATE
from gridmap.evaluation.models import DailyFigures, SummaryRun
from gridmap.geography.models import Subdistrict
from gridmap.problems.models import Problem, ProblemEvent, ProblemRating

# The column of the case holding the unit of each stored level ("all": the scope's totals).
UNIT_FIELDS: dict[str, str | None] = {
    "all": None,
    "grid": "grid_id",
    "community": "community_id",
    "department": "department_id",
    "handler": "handled_by_id",
}
FIGURES = ("filed", "duplicates", "closed", "closed_on_time", "reworked", "reworks", "extended",
           "hours_count", "span_us", "recurrences", "rated", "rating_total")  # fmt: skip
OVERLAP = timedelta(minutes=5)
MAX_RANGES = 60  # more scattered days than this: rewrite from the first to the last


class Micros(Func):
    """A duration as integer microseconds (``Span`` already is one on SQLite)."""

    output_field = IntegerField()
    template = "CAST(EXTRACT(EPOCH FROM (%(expressions)s)) * 1000000 AS BIGINT)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return compiler.compile(self.get_source_expressions()[0])


def _town(prefix: str = "") -> Coalesce:
    """The town of a case: of its community, else of its grid's community, else 0."""
    return Coalesce(
        F(f"{prefix}community__subdistrict_id"),
        F(f"{prefix}grid__community__subdistrict_id"),
        Value(0),
        output_field=IntegerField(),
    )


def _unit(field: str | None, prefix: str = "") -> Any:
    return Value(0, output_field=IntegerField()) if field is None else F(prefix + field)


def _within(column: str, ranges: Sequence[tuple[datetime, datetime]] | None) -> Q:
    if ranges is None:
        return Q(**{f"{column}__isnull": False})
    q = Q(pk__in=[])
    for start, end in ranges:
        q |= Q(**{f"{column}__gte": start, f"{column}__lt": end})
    return q


def _zeros(*names: str) -> dict[str, Value]:
    return {n: Value(0, output_field=IntegerField()) for n in FIGURES if n not in names}


def _ordered(qs: QuerySet, day: Any, town: Any, unit: Any, figures: dict[str, Any]) -> QuerySet:
    """``qs`` grouped by (day, town, unit) with every figure, in ``FIGURES`` order."""
    grouped = qs.order_by().annotate(d=day, t=town, u=unit).values("d", "t", "u")
    return grouped.annotate(**{n: figures[n] for n in FIGURES})


def level_selects(
    level: str, towns: Iterable[int] | None, ranges: Sequence[tuple[datetime, datetime]] | None
) -> list[QuerySet]:
    """The three grouped selects whose union is the level's rows for ``towns`` and ``ranges``
    (None: every town, every day)."""
    field = UNIT_FIELDS[level]
    tz = timezone.get_current_timezone()
    cases = Problem.objects.all()
    if field is not None:
        cases = cases.exclude(**{f"{field}__isnull": True})
    mine = Q(t__in=list(towns)) if towns is not None else Q()
    dup = Q(status=DUPLICATE)
    filed = _ordered(
        cases.filter(_within("filed_at", ranges)), TruncDate("filed_at", tzinfo=tz), _town(), _unit(field),
        {"filed": Count("pk", filter=~dup), "duplicates": Count("pk", filter=dup), **_zeros("filed", "duplicates")},
    ).filter(mine)  # fmt: skip
    timed = Q(filed_at__isnull=False)
    closing = {
        "closed": Count("pk"),
        "closed_on_time": Count("pk", filter=Q(closed_on_time=True)),
        "reworked": Count("pk", filter=Q(rework_count__gt=0)),
        "reworks": Sum("rework_count"),
        "extended": Count("pk", filter=Q(extension_count__gt=0)),
        "hours_count": Count("pk", filter=timed),
        "span_us": Coalesce(Sum(Micros(Span(F("closed_at"), F("filed_at"))), filter=timed), 0),
    }
    closed = _ordered(
        cases.filter(_within("closed_at", ranges)), TruncDate("closed_at", tzinfo=tz), _town(), _unit(field),
        {**closing, **_zeros(*closing)},
    ).filter(mine)  # fmt: skip
    recurring = Problem.objects.filter(recurrence_of__isnull=False)
    if field is not None:
        recurring = recurring.exclude(**{f"recurrence_of__{field}__isnull": True})
    recurred = _ordered(
        recurring.filter(_within("reported_at", ranges)), TruncDate("reported_at", tzinfo=tz),
        _town("recurrence_of__"), _unit(field, "recurrence_of__"),
        {"recurrences": Count("pk"), **_zeros("recurrences")},
    ).filter(mine)  # fmt: skip
    # satisfaction ratings by the day they were given, counted for the rated case's unit (the
    # filter and the aggregates share the one join to the ratings)
    rated = _ordered(
        cases.filter(_within("ratings__at", ranges)), TruncDate("ratings__at", tzinfo=tz), _town(), _unit(field),
        {"rated": Count("ratings__pk"), "rating_total": Coalesce(Sum("ratings__stars"), 0),
         **_zeros("rated", "rating_total")},
    ).filter(mine)  # fmt: skip
    return [filed, closed, recurred, rated]


def write_level(
    level: str, towns: Iterable[int] | None, ranges: Sequence[tuple[datetime, datetime]] | None
) -> int:
    """Write the level's rows for ``towns`` and ``ranges`` in one statement (the old rows must be
    gone); the number of rows written."""
    parts, params = [], []
    for qs in level_selects(level, towns, ranges):
        sql, p = qs.query.get_compiler(connection=connection).as_sql()
        parts.append(sql)
        params.extend(p)
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in ("day", "town", "level", "unit", *FIGURES))
    sums = ", ".join(f"SUM(x.{q(n)})" for n in FIGURES)
    sql = (
        f"INSERT INTO {q(DailyFigures._meta.db_table)} ({columns}) "
        f"SELECT x.{q('d')}, x.{q('t')}, %s, x.{q('u')}, {sums} "
        f"FROM ({' UNION ALL '.join(parts)}) x GROUP BY x.{q('d')}, x.{q('t')}, x.{q('u')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [level, *params])  # the level's placeholder comes first
        return cursor.rowcount


def rewrite(*, towns: Iterable[int] | None, days: Iterable[date] | None) -> int:
    """Replace the rows of ``towns`` (None: all) on ``days`` (None: all) by their current figures."""
    towns = None if towns is None else sorted(set(towns))
    ranges = None if days is None else day_ranges(days)
    old = DailyFigures.objects.all()
    if towns is not None:
        old = old.filter(town__in=towns)
    if ranges is not None:  # exactly the days written again
        tz = timezone.get_current_timezone()
        old = old.filter(
            reduce(
                or_,
                (Q(day__gte=a.astimezone(tz).date(), day__lt=b.astimezone(tz).date()) for a, b in ranges),
                Q(pk__in=[]),
            )
        )
    old._raw_delete(old.db)
    return sum(write_level(level, towns, ranges) for level in UNIT_FIELDS)


def day_ranges(days: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """Consecutive local days as [first midnight, midnight after the last) ranges, at most
    ``MAX_RANGES`` (beyond: one range from the first to the last day)."""
    ordered = sorted(set(days))
    if not ordered:
        return []
    runs: list[list[date]] = [[ordered[0], ordered[0]]]
    for day in ordered[1:]:
        if day == runs[-1][1] + timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    if len(runs) >= MAX_RANGES:
        runs = [[ordered[0], ordered[-1]]]
    return [(local_midnight(a), local_midnight(b + timedelta(days=1))) for a, b in runs]


def _local_days(qs: QuerySet, column: str) -> set[date]:
    tz = timezone.get_current_timezone()
    found = qs.filter(**{f"{column}__isnull": False}).annotate(d=TruncDate(column, tzinfo=tz))
    return {
        d if isinstance(d, date) else date.fromisoformat(d)
        for d in found.order_by().values_list("d", flat=True).distinct()
    }


def touched_cases(since: datetime | None, above_id: int, above_event: int) -> QuerySet[Problem]:
    """The cases changed since the last refresh: with an event or a report since ``since``, or an
    id above those it had seen (an import; an event written with an old time)."""
    events = ProblemEvent.objects.filter(pk__gt=above_event)
    changed = Q(pk__gt=above_id)
    if since is not None:
        changed |= Q(reported_at__gte=since) | Q(
            pk__in=ProblemRating.objects.filter(at__gte=since).values("problem_id")
        )
        events = ProblemEvent.objects.filter(Q(pk__gt=above_event) | Q(at__gte=since))
    return Problem.objects.filter(changed | Q(pk__in=events.values("problem_id")))


def touched_days(cases: QuerySet[Problem]) -> set[date]:
    """The local days whose figures ``cases`` may have moved (see the module docstring)."""
    days: set[date] = set()
    for column in ("filed_at", "closed_at", "reported_at"):
        days |= _local_days(cases, column)
    days |= _local_days(ProblemEvent.objects.filter(problem__in=cases.values("pk")), "at")
    days |= _local_days(ProblemRating.objects.filter(problem__in=cases.values("pk")), "at")
    days |= _local_days(Problem.objects.filter(recurrence_of__in=cases.values("pk")), "reported_at")
    return days


def touched_towns(cases: QuerySet[Problem]) -> set[int]:
    """The towns of ``cases`` and of the cases they recur."""
    towns = set(cases.annotate(t=_town()).order_by().values_list("t", flat=True).distinct())
    recurred = Problem.objects.filter(
        pk__in=cases.filter(recurrence_of__isnull=False).values("recurrence_of_id")
    )
    return towns | set(recurred.annotate(t=_town()).order_by().values_list("t", flat=True).distinct())


def town_stamps() -> dict[str, int | None]:
    """The ``problems`` stamp of every town (and of town 0, the shared rows), by town id as text."""
    towns = [0, *Subdistrict.objects.order_by("pk").values_list("pk", flat=True)]
    return {str(t): stamp_of("problems", t) for t in towns}


def refresh(*, full: bool = False) -> dict[str, Any]:
    """Bring ``DailyFigures`` up to date (everything with ``full``); what was rewritten."""
    with transaction.atomic():
        run = SummaryRun.objects.select_for_update().order_by("pk").first() or SummaryRun.objects.create()
        started = timezone.now()
        stamps = town_stamps()
        top = Problem.objects.aggregate(m=Max("pk"))["m"] or 0
        top_event = ProblemEvent.objects.aggregate(m=Max("pk"))["m"] or 0
        if full or run.finished_at is None:
            done = {"towns": "all", "days": "all", "rows": rewrite(towns=None, days=None)}
        else:
            done = _rewrite_changed(run, stamps)
        run.started_at, run.finished_at = started, timezone.now()
        run.stamps, run.max_problem_id, run.max_event_id = stamps, top, top_event
        run.save()
    return done


def _rewrite_changed(run: SummaryRun, stamps: dict[str, int | None]) -> dict[str, Any]:
    """Rewrite the towns whose stamp changed: the touched days where touched cases lie, the whole
    town where none does (an edit outside the loop, a case moved away)."""
    seen = run.stamps or {}
    changed = {int(t) for t, s in stamps.items() if seen.get(t) != s}
    if not changed:
        return {"towns": 0, "days": 0, "rows": 0}
    since = run.started_at - OVERLAP if run.started_at else None
    cases = touched_cases(since, run.max_problem_id, run.max_event_id)
    days = touched_days(cases)
    with_cases = changed & touched_towns(cases) if days else set()
    rows = rewrite(towns=with_cases, days=days) if with_cases else 0
    whole = changed - with_cases
    if whole:
        rows += rewrite(towns=whole, days=None)
    return {"towns": len(changed), "days": len(days) if not whole else "all", "rows": rows}


def as_of() -> datetime | None:
    """When the cases the summary holds were read (None: never built)."""
    run = SummaryRun.objects.order_by("pk").only("started_at", "finished_at").first()
    return run.started_at if run is not None and run.finished_at is not None else None
