"""Evaluation figures grouped per unit in the database: what ``metrics.unit_stats`` computes over
one row per case (``selectors.metric_rows``, the reference), as one row per unit (grid, community,
...). Every reader hands in a queryset already scoped to its user (``problems_visible_to``).

``Span`` (a duration between two datetime columns, exact on both databases), ``Durations`` and
``span_hours`` are shared with the daily summary (``summary``, ``summary_figures``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, overload

from django.db.models import Count, DurationField, F, Func, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce, RowNumber

from gridmap.evaluation.metrics import DUPLICATE, LEVELS, Period, UnitStats
from gridmap.problems.models import OPEN_STATUSES, Problem, ProblemRating


def in_period(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


def recurrences_in(scoped: QuerySet[Problem], period: Period) -> QuerySet[Problem]:
    """New reports in the period linked as recurrences of a case in ``scoped``."""
    return Problem.objects.filter(in_period("reported_at", period), recurrence_of__in=scoped.values("pk"))


def ratings_in(scoped: QuerySet[Problem], period: Period) -> QuerySet[ProblemRating]:
    """Satisfaction ratings given in the period on a case in ``scoped``."""
    return ProblemRating.objects.filter(in_period("at", period), problem__in=scoped.values("pk"))


def _grouped(scoped: QuerySet[Problem]) -> QuerySet[Problem]:
    """``scoped`` ready to be grouped: a scope reached through to-many joins is distinct(), so
    group its ids, not the joined rows."""
    return Problem.objects.filter(pk__in=scoped.values("pk")) if scoped.query.distinct else scoped


class Span(Func):
    """``end − start`` of two datetime columns as a duration, exact to the microsecond (a
    ``timedelta`` in Python on both databases). PostgreSQL subtracts timestamps into an interval.
    SQLite, where Django's own subtraction calls a Python function per row, gets whole seconds
    from ``julianday`` (rounded: its error is far below a second) plus the stored microseconds
    (Django stores ``YYYY-MM-DD HH:MM:SS[.ffffff]``), in integer microseconds."""

    arity = 2
    output_field = DurationField()
    template = "(%(expressions)s)"
    arg_joiner = " - "

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        (end, end_params), (start, start_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        sql = (
            f"(CAST(ROUND((julianday(substr({end}, 1, 19)) - julianday(substr({start}, 1, 19))) * 86400)"
            f" AS INTEGER) * 1000000 + CAST(substr({end}, 21) AS INTEGER)"
            f" - CAST(substr({start}, 21) AS INTEGER))"
        )
        return sql, [*end_params, *start_params, *end_params, *start_params]


def _time_to_close() -> Span:
    """``closed_at − filed_at`` as a duration."""
    return Span(F("closed_at"), F("filed_at"))


def span_hours(span: Any) -> float:
    return span.total_seconds() / 3600.0


class Durations(Sequence[float]):
    """The hours to close of one unit's timed cases, fetched only when read (the pages use the
    grouped mean and median and never read them)."""

    def __init__(self, cases: QuerySet[Problem]) -> None:
        self._cases = cases
        self.span_hours: list[float] | None = None

    def _load(self) -> list[float]:
        if self.span_hours is None:
            spans = self._cases.annotate(span=_time_to_close()).order_by("pk").values_list("span", flat=True)
            self.span_hours = [span_hours(span) for span in spans]
        return self.span_hours

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[float]: ...
    def __getitem__(self, index: int | slice) -> float | Sequence[float]:
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Iterator[float]:
        return iter(self._load())


def recurrences_by_unit(scoped: QuerySet[Problem], period: Period) -> dict[str, dict[Any, int]]:
    """{level: {unit id: recurrences in the period}}, in one query grouped by the units of the
    original case (a row per combination of units, not per case)."""
    fields = {level: f"recurrence_of__{lv.key.removesuffix('_id')}" for level, lv in LEVELS.items()}
    found: dict[str, dict[Any, int]] = {level: {} for level in LEVELS}
    rows = recurrences_in(scoped, period).order_by().values(*fields.values()).annotate(n=Count("pk"))
    for row in rows:
        for level, original in fields.items():
            key = row[original]
            if key is not None:
                found[level][key] = found[level].get(key, 0) + row["n"]
    return found


def ratings_by_unit(
    scoped: QuerySet[Problem], period: Period, levels: Iterable[str] = LEVELS
) -> dict[str, dict[Any, tuple[int, int]]]:
    """{level: {unit id: (ratings, summed stars)}} of the ratings given in the period, grouped in
    the database by the rated case's unit: one query per level, one row per unit."""
    found: dict[str, dict[Any, tuple[int, int]]] = {}
    for level in levels:
        unit_field = f"problem__{LEVELS[level].key}"
        rows = (
            ratings_in(scoped, period)
            .exclude(**{f"{unit_field}__isnull": True})
            .order_by()
            .values_list(unit_field)
            .annotate(n=Count("pk"), s=Sum("stars"))
        )
        found[level] = {key: (n, int(total or 0)) for key, n, total in rows}
    return found


def unit_aggregates(
    scoped: QuerySet[Problem],
    *,
    level: str,
    period: Period,
    now: datetime,
    recurrences: bool | Mapping[Any, int] = True,
    ratings: bool | Mapping[Any, tuple[int, int]] = True,
) -> list[UnitStats]:
    """What ``metrics.unit_stats`` computes over ``metric_rows``, grouped in the database: one
    row per unit of ``level`` (unsorted, unscored), plus one or two rows per unit for the median
    time to close. ``recurrences``: True to count them (``recurrences_by_unit``), False for none,
    or the counts already found. The rows fetched grow with the number of units, never with the
    number of cases."""
    lv = LEVELS[level]
    base = _grouped(scoped).exclude(**{f"{lv.key}__isnull": True})
    recurred = recurrences_in(scoped, period)
    wanted = (
        in_period("filed_at", period)
        | in_period("closed_at", period)
        | Q(status__in=OPEN_STATUSES)
        | Q(pk__in=recurred.values("recurrence_of_id"))
        | Q(pk__in=ratings_in(scoped, period).values("problem_id"))
    )
    filed = in_period("filed_at", period) & ~Q(status=DUPLICATE)
    closed = in_period("closed_at", period)
    timed = closed & Q(filed_at__isnull=False)
    is_open = Q(status__in=OPEN_STATUSES)
    groups = (
        base.filter(wanted)
        .order_by()
        .values(lv.key, lv.code, *lv.name_fields)
        .annotate(
            filed=Count("pk", filter=filed),
            filed_closed=Count("pk", filter=filed & Q(closed_at__lt=period.end)),
            closed=Count("pk", filter=closed),
            closed_on_time=Count("pk", filter=closed & Q(closed_on_time=True)),
            reworked=Count("pk", filter=closed & Q(rework_count__gt=0)),
            reworks=Coalesce(Sum("rework_count", filter=closed), 0),
            extended=Count("pk", filter=closed & Q(extension_count__gt=0)),
            open_now=Count("pk", filter=is_open),
            overdue_now=Count("pk", filter=is_open & Q(deadline__lt=now)),
            hours_count=Count("pk", filter=timed),
            hours_span=Sum(_time_to_close(), filter=timed),
        )
    )
    by_unit = F(lv.key)
    middle = (
        base.filter(timed)
        .order_by()
        .annotate(
            span=_time_to_close(),
            seq=Window(RowNumber(), partition_by=[by_unit], order_by=[_time_to_close().asc(), F("pk").asc()]),
            n=Window(Count("pk"), partition_by=[by_unit]),
        )
        .filter(seq__gte=(F("n") + 1) / 2, seq__lte=(F("n") + 2) / 2)
        .values_list(lv.key, "span")
    )
    middles: dict[Any, list[float]] = {}
    for key, span in middle:
        middles.setdefault(key, []).append(span_hours(span))
    if isinstance(recurrences, bool):
        counts = recurrences_by_unit(scoped, period)[level] if recurrences else {}
    else:
        counts = recurrences
    if isinstance(ratings, bool):
        rated = ratings_by_unit(scoped, period, [level])[level] if ratings else {}
    else:
        rated = ratings
    units = []
    for row in groups:
        key = row[lv.key]
        code = str(row.get(lv.code) or "")
        name = next((str(row[f]) for f in lv.name_fields if row.get(f)), code)
        span = row["hours_span"]
        units.append(
            UnitStats(
                level, key, code, name,
                filed=row["filed"], filed_closed=row["filed_closed"], closed=row["closed"],
                closed_on_time=row["closed_on_time"], reworked=row["reworked"], reworks=row["reworks"],
                extended=row["extended"], open_now=row["open_now"], overdue_now=row["overdue_now"],
                recurrences=counts.get(key, 0), rated=rated.get(key, (0, 0))[0],
                rating_total=rated.get(key, (0, 0))[1],
                hours_to_close=Durations(base.filter(timed, **{lv.key: key})),
                hours_count=row["hours_count"],
                hours_total=None if span is None else span_hours(span),
                hours_median=statistics.median(middles[key]) if key in middles else None,
            )
        )  # fmt: skip
    return units
