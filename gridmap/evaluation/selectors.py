"""Reads for evaluation and the ledgers. Every one starts from ``problems_visible_to(user)``:
a figure, a ranking or an export row never covers a case the user may not see."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, DurationField, F, Func, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce, RowNumber

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import CITY_WIDE_ROLES, role_of
from gridmap.evaluation.metrics import (
    DUPLICATE,
    LEVELS,
    ROW_FIELDS,
    Period,
    UnitStats,
    clean_weights,
    evaluate,
    rank_units,
    rating_counts,
    recurrence_counts,
)
from gridmap.evaluation.models import ScoreWeights
from gridmap.geography.models import Community, Grid
from gridmap.geography.selectors import grids_visible_to
from gridmap.problems.models import OPEN_STATUSES, Problem, ProblemEvent, ProblemPhoto, ProblemRating
from gridmap.problems.selectors import problems_visible_to

# Who may open the evaluation pages and exports (reporters and users without a role may not).
EVALUATORS = frozenset(
    {Role.ADMIN, Role.PLANNER, Role.COMMUNITY_HEAD, Role.GRID_LEADER, Role.DEPARTMENT, Role.INSPECTOR}
)


def may_evaluate(user: AbstractBaseUser | AnonymousUser) -> bool:
    return role_of(user) in EVALUATORS


def score_weights() -> dict[str, float]:
    """The admin's ``ScoreWeights`` row, else ``GRIDMAP["SCORE_WEIGHTS"]``, else the defaults."""
    row = ScoreWeights.objects.order_by("pk").first()
    if row is not None:
        return clean_weights(row.as_dict())
    return clean_weights(settings.GRIDMAP.get("SCORE_WEIGHTS"))


def _in(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


def recurrences_in(scoped: QuerySet[Problem], period: Period) -> QuerySet[Problem]:
    """New reports in the period linked as recurrences of a case in ``scoped``."""
    return Problem.objects.filter(_in("reported_at", period), recurrence_of__in=scoped.values("pk"))


def ratings_in(scoped: QuerySet[Problem], period: Period) -> QuerySet[ProblemRating]:
    """Satisfaction ratings given in the period on a case in ``scoped``."""
    return ProblemRating.objects.filter(_in("at", period), problem__in=scoped.values("pk"))


def metric_rows(scoped: QuerySet[Problem], period: Period) -> list[dict[str, Any]]:
    """The rows ``metrics.unit_stats`` needs, one per case: cases filed or closed in the period,
    every open case (for overdue now), and the cases that recurred or were rated in the period.
    The pages use ``unit_aggregates`` (one row per unit); these rows are the reference it is
    tested against."""
    recurred = recurrences_in(scoped, period).values("recurrence_of_id")
    rated = ratings_in(scoped, period).values("problem_id")
    wanted = _in("filed_at", period) | _in("closed_at", period) | Q(status__in=OPEN_STATUSES)
    return list(
        scoped.filter(wanted | Q(pk__in=recurred) | Q(pk__in=rated)).values(*ROW_FIELDS).order_by("pk")
    )


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


def _hours(span: Any) -> float:
    return span.total_seconds() / 3600.0


class Durations(Sequence[float]):
    """The hours to close of one unit's timed cases, fetched only when read (the pages use the
    grouped mean and median and never read them)."""

    def __init__(self, cases: QuerySet[Problem]) -> None:
        self._cases = cases
        self._hours: list[float] | None = None

    def _load(self) -> list[float]:
        if self._hours is None:
            spans = self._cases.annotate(span=_time_to_close()).order_by("pk").values_list("span", flat=True)
            self._hours = [_hours(span) for span in spans]
        return self._hours

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
        _in("filed_at", period)
        | _in("closed_at", period)
        | Q(status__in=OPEN_STATUSES)
        | Q(pk__in=recurred.values("recurrence_of_id"))
        | Q(pk__in=ratings_in(scoped, period).values("problem_id"))
    )
    filed = _in("filed_at", period) & ~Q(status=DUPLICATE)
    closed = _in("closed_at", period)
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
        middles.setdefault(key, []).append(_hours(span))
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
                hours_total=None if span is None else _hours(span),
                hours_median=statistics.median(middles[key]) if key in middles else None,
            )
        )  # fmt: skip
    return units


def _summary_until(user: AbstractBaseUser | AnonymousUser, period: Period) -> datetime | None:
    # imported here: summary_figures reads this module's span and durations
    from gridmap.evaluation import summary_figures

    return summary_figures.summary_as_of(user, period)


def _summary_tables(
    period: Period, now: datetime, levels: Iterable[str], until: datetime
) -> dict[str, list[UnitStats]]:
    from gridmap.evaluation import summary_figures

    weights = score_weights()
    tables = summary_figures.city_figures(period, now, levels, until)
    return {level: rank_units(units, weights) for level, units in tables.items()}


def evaluation_for(
    user: AbstractBaseUser | AnonymousUser, period: Period, now: datetime, levels: Iterable[str] = LEVELS
) -> dict[str, list[UnitStats]]:
    """The ranked evaluation tables computed at ``now``, nothing kept (``evaluation_of`` is what
    the pages read): the daily summary for the whole city, else grouped from the user's cases."""
    until = _summary_until(user, period)
    if until is not None:
        return _summary_tables(period, now, levels, until)
    weights = score_weights()
    scoped = problems_visible_to(user)
    recurrences = recurrences_by_unit(scoped, period)
    ratings = ratings_by_unit(scoped, period)
    return {
        level: rank_units(
            unit_aggregates(
                scoped,
                level=level,
                period=period,
                now=now,
                recurrences=recurrences[level],
                ratings=ratings[level],
            ),
            weights,
        )  # fmt: skip
        for level in levels
    }


def evaluation_by_rows(
    user: AbstractBaseUser | AnonymousUser, period: Period, now: datetime, levels: Iterable[str] = LEVELS
) -> dict[str, list[UnitStats]]:
    """``evaluation_for`` computed the reference way, one row per case aggregated in Python (for
    the tests and ``bench/evaluation.py``; no page uses it)."""
    scoped = problems_visible_to(user)
    recurrences = recurrence_counts(recurrences_in(scoped, period).values_list("recurrence_of_id", flat=True))
    ratings = rating_counts(ratings_in(scoped, period).values_list("problem_id", "stars"))
    rows = metric_rows(scoped, period)
    return evaluate(
        rows, period=period, now=now, weights=score_weights(), recurrences=recurrences, levels=levels,
        ratings=ratings,
    )  # fmt: skip


def ledger_problems(user: AbstractBaseUser | AnonymousUser, period: Period) -> QuerySet[Problem]:
    """台账: the cases ``user`` may see that were reported, filed or closed in the period."""
    wanted = _in("reported_at", period) | _in("filed_at", period) | _in("closed_at", period)
    return (
        problems_visible_to(user)
        .filter(wanted)
        .select_related("category", "grid", "community", "department", "handled_by")
        .order_by("reported_at", "pk")
    )


@dataclass(frozen=True)
class Area:
    kind: str  # "grid" or "community"
    code: str
    name: str


def area_visible_to(
    user: AbstractBaseUser | AnonymousUser, *, grid: str = "", community: str = ""
) -> Area | None:
    """The grid or community a negative list is asked for, if ``user`` may see it."""
    if grid:
        found = grids_visible_to(user).filter(code=grid).first()
        return Area("grid", found.code, found.name) if found else None
    place = Community.objects.filter(code=community).first() if community else None
    if place is None:
        return None
    role = role_of(user)
    profile = getattr(user, "profile", None)
    own = role == Role.COMMUNITY_HEAD and profile is not None and profile.community_id == place.pk
    holds_visible_grid = Grid.objects.filter(community=place, pk__in=grids_visible_to(user).values("pk"))
    if role in CITY_WIDE_ROLES or own or holds_visible_grid.exists():
        return Area("community", place.code, place.name)
    return None


def negative_list_problems(
    user: AbstractBaseUser | AnonymousUser, area: Area, period: Period
) -> QuerySet[Problem]:
    """负面清单: the open cases of the area, and those closed out (销号) in the period."""
    where = Q(grid__code=area.code) if area.kind == "grid" else Q(community__code=area.code)
    return (
        problems_visible_to(user)
        .filter(where)
        .filter(Q(status__in=OPEN_STATUSES) | _in("closed_at", period))
        .select_related("category", "grid", "community", "department")
        # open items first, on both databases (their NULL ordering differs)
        .order_by(F("closed_at").asc(nulls_first=True), "reported_at", "pk")
    )


def closing_evidence(problems: QuerySet[Problem]) -> dict[int, dict[str, str]]:
    """{case id: {"fix_note", "check_note", "photos"}}: the latest fix report's note, the
    closing verification's note and the after-photos' file names, in two queries."""
    ids = problems.values("pk")
    evidence: dict[int, dict[str, str]] = {}
    events = ProblemEvent.objects.filter(problem__in=ids, action__in=("handle", "verify_pass"))
    for problem_id, action, note in events.order_by("at", "pk").values_list("problem_id", "action", "note"):
        slot = "fix_note" if action == "handle" else "check_note"
        evidence.setdefault(problem_id, {})[slot] = note
    photos = ProblemPhoto.objects.filter(problem__in=ids, stage=ProblemPhoto.Stage.AFTER).order_by("pk")
    names: dict[int, list[str]] = {}
    for problem_id, path in photos.values_list("problem_id", "image"):
        names.setdefault(problem_id, []).append(path.rsplit("/", 1)[-1])
    for problem_id, files in names.items():
        evidence.setdefault(problem_id, {})["photos"] = "; ".join(files)
    return evidence
