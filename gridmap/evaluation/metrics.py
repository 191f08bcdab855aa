"""Evaluation (考核 / 综合评价): per grid, community, department and person over a period.

The definitions, in two forms that agree figure for figure (a test holds them equal):
``unit_stats`` here, pure computation over one row per case (the reference, small scopes and
tests), and ``aggregates.unit_aggregates``, the same counts grouped in the database (one row per
unit, what the pages use, so the rows fetched do not grow with the number of cases). Nothing here
queries the database. In the grouped form the time to close is summed in SQL as a duration and
its median read from the one or two middle rows of a window; the mean is the summed duration
over the count (it may differ from the mean of a list of hours in the last binary digit).

Period and snapshot
    A period is half-open, ``[start, end)``, in aware datetimes (local midnights on the pages).
    Figures come from each case's *current* fields, not a replay of its history: a case whose
    closing was undone by a failed look-back (``closed_at`` cleared) no longer counts as closed
    until it closes again, and then counts in the period of its new ``closed_at``.

Attribution (a case counts for the unit it holds now; cases with no such unit are left out)
    grid = ``grid``; community = ``community`` (this includes the 属地兜底 cases with no grid);
    department = ``department`` (set on dispatch); handler = ``handled_by`` (the person who
    reported the fix); leader = ``grid.first_responsible`` (第一责任人 of the case's grid).

Counts
    filed      cases with ``filed_at`` in the period, not merged away as duplicates.
    closed     cases with ``closed_at`` in the period (whenever they were filed).
    filed_closed  of the filed cases, those closed before the period ends (``closed_at < end``).
    open_now   cases in an open status (reported, filed, dispatched, handled) at ``now``.
    overdue_now  open cases whose ``deadline < now`` (a snapshot at ``now``, whatever the period).
    reworks    sum of ``rework_count`` over the closed cases (failed verifications).
    recurrences  new reports made in the period that were linked as a recurrence of a case of
               the unit (``recurrence_of``), counted against the original case's unit.
    rated / rating_total  the reporters' satisfaction ratings (1–5, ``ProblemRating``) given in
               the period on cases of the unit, and their stars summed.

Rates (None, shown as "—", when the denominator is 0)
    closure_rate    结案率   = filed_closed / filed. A case filed on the 30th and closed the next
                    month counts as filed-not-closed in the first period and as closed (for the
                    quality rates below) in the second.
    on_time_rate    按期结案率 = closed with ``closed_on_time`` / closed.
    rework_rate     返工率   = closed cases with ``rework_count ≥ 1`` / closed.
    extension_rate  延期率   = closed cases with ``extension_count ≥ 1`` / closed.
    The quality rates are judged on the cases closed in the period, because only then are they
    final: a case still open may yet be reworked or extended.
    mean_hours / median_hours  time to close, ``closed_at − filed_at`` in hours, over the closed
                    cases that were filed (median of an even count: the mean of the two middle
                    values). A case closed, reopened by a failed look-back and closed again
                    counts its whole span from filing to the last closing.
    overdue_share   = overdue_now / open_now.
    satisfaction    满意度 = rating_total / rated, the mean rating (1–5).

Composite score (0–100) and ranking
    components: closure = closure_rate; on_time = on_time_rate; rework = 1 − rework_rate;
    extension = 1 − extension_rate; overdue = 1 − overdue_share (1 when nothing is open; defined
    only when the unit has filed, closed or open cases); satisfaction = (mean rating − 1) / 4
    (weight 0 by default: counted only where a town gives it a weight in its settings).
    score = 100 × Σ wᵢ·cᵢ / Σ wᵢ over the components that are defined and weighted (> 0): a unit
    that closed nothing in the period is scored on what it has, not penalised for a 0/0.
    None when no component is defined. Weights come from ``ScoreWeights`` (admin), else
    ``GRIDMAP["SCORE_WEIGHTS"]``, else ``DEFAULT_WEIGHTS``.
    Ranking per level: score (rounded to 6 decimals) high first; ties by more closed, then more
    filed, then code; units with no score come last, unranked. Ranks run 1..n with no gaps.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

OPEN = frozenset({"reported", "filed", "dispatched", "handled"})
DUPLICATE = "duplicate"
DEFAULT_WEIGHTS: dict[str, float] = {
    "closure": 0.3,
    "on_time": 0.3,
    "rework": 0.2,
    "extension": 0.1,
    "overdue": 0.1,
    "satisfaction": 0.0,
}


@dataclass(frozen=True)
class Level:
    name: str
    key: str  # the row field holding the unit's id
    code: str
    name_fields: tuple[str, ...]  # first non-empty one is the unit's name


LEVELS: dict[str, Level] = {
    lv.name: lv
    for lv in (
        Level("grid", "grid_id", "grid__code", ("grid__name",)),
        Level("community", "community_id", "community__code", ("community__name",)),
        Level("department", "department_id", "department__code", ("department__name",)),
        Level("handler", "handled_by_id", "handled_by__username", ("handled_by__profile__display_name",)),
        Level(
            "leader",
            "grid__first_responsible_id",
            "grid__first_responsible__username",
            ("grid__first_responsible__profile__display_name",),
        ),
    )
}

# What ``selectors.metric_rows`` must fetch.
ROW_FIELDS: tuple[str, ...] = (
    "id",
    "status",
    "filed_at",
    "closed_at",
    "closed_on_time",
    "rework_count",
    "extension_count",
    "deadline",
    *(f for lv in LEVELS.values() for f in (lv.key, lv.code, *lv.name_fields)),
)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


@dataclass
class UnitStats:
    level: str
    key: Any
    code: str
    name: str
    filed: int = 0
    filed_closed: int = 0
    closed: int = 0
    closed_on_time: int = 0
    reworked: int = 0
    reworks: int = 0
    extended: int = 0
    open_now: int = 0
    overdue_now: int = 0
    recurrences: int = 0
    rated: int = 0
    rating_total: int = 0
    hours_to_close: Sequence[float] = field(default_factory=list, repr=False)
    score: float | None = None
    rank: int | None = None
    # Set when the figures were grouped in the database (then ``hours_to_close`` is read only
    # when asked for): how many closed cases were timed, their hours in total, the median.
    hours_count: int | None = None
    hours_total: float | None = None
    hours_median: float | None = None

    @property
    def closure_rate(self) -> float | None:
        return _ratio(self.filed_closed, self.filed)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.closed_on_time, self.closed)

    @property
    def rework_rate(self) -> float | None:
        return _ratio(self.reworked, self.closed)

    @property
    def extension_rate(self) -> float | None:
        return _ratio(self.extended, self.closed)

    @property
    def satisfaction(self) -> float | None:
        """The mean satisfaction rating (1–5) given in the period."""
        return _ratio(self.rating_total, self.rated)

    @property
    def overdue_share(self) -> float | None:
        return _ratio(self.overdue_now, self.open_now)

    @property
    def mean_hours(self) -> float | None:
        if self.hours_count is not None:
            return (
                self.hours_total / self.hours_count
                if self.hours_count and self.hours_total is not None
                else None
            )
        return statistics.fmean(self.hours_to_close) if self.hours_to_close else None

    @property
    def median_hours(self) -> float | None:
        if self.hours_count is not None:
            return self.hours_median
        return statistics.median(self.hours_to_close) if self.hours_to_close else None

    def components(self) -> dict[str, float | None]:
        """The score's components, each in 0..1 with 1 best (None: not defined for this unit)."""
        active = self.filed or self.closed or self.open_now
        return {
            "closure": self.closure_rate,
            "on_time": self.on_time_rate,
            "rework": _invert(self.rework_rate),
            "extension": _invert(self.extension_rate),
            "overdue": (1.0 - (self.overdue_share or 0.0)) if active else None,
            "satisfaction": None if self.satisfaction is None else (self.satisfaction - 1.0) / 4.0,
        }


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _invert(rate: float | None) -> float | None:
    return None if rate is None else 1.0 - rate


def _label(row: Mapping[str, Any], level: Level) -> tuple[str, str]:
    code = str(row.get(level.code) or "")
    name = next((str(row[f]) for f in level.name_fields if row.get(f)), code)
    return code, name


def _add(stats: UnitStats, row: Mapping[str, Any], period: Period, now: datetime) -> None:
    status = row["status"]
    filed_at, closed_at = row["filed_at"], row["closed_at"]
    if period.holds(filed_at) and status != DUPLICATE:
        stats.filed += 1
        if closed_at is not None and closed_at < period.end:
            stats.filed_closed += 1
    if period.holds(closed_at):
        stats.closed += 1
        stats.closed_on_time += row["closed_on_time"] is True
        stats.reworked += row["rework_count"] > 0
        stats.reworks += row["rework_count"]
        stats.extended += row["extension_count"] > 0
        if filed_at is not None:
            stats.hours_to_close.append((closed_at - filed_at).total_seconds() / 3600.0)
    if status in OPEN:
        stats.open_now += 1
        deadline = row["deadline"]
        stats.overdue_now += deadline is not None and deadline < now


def unit_stats(
    rows: Iterable[Mapping[str, Any]],
    *,
    level: str,
    period: Period,
    now: datetime,
    recurrences: Mapping[int, int] | None = None,
    ratings: Mapping[int, tuple[int, int]] | None = None,
) -> list[UnitStats]:
    """Counts and rates per unit of ``level`` (unsorted, unscored). ``recurrences`` maps a case
    id to the number of recurrences of it reported in the period; ``ratings`` a case id to the
    (count, summed stars) of the ratings given on it in the period."""
    lv = LEVELS[level]
    units: dict[Any, UnitStats] = {}
    recurrences = recurrences or {}
    ratings = ratings or {}
    for row in rows:
        key = row.get(lv.key)
        if key is None:
            continue
        stats = units.get(key)
        if stats is None:
            stats = units[key] = UnitStats(level, key, *_label(row, lv))
        _add(stats, row, period, now)
        stats.recurrences += recurrences.get(row["id"], 0)
        rated, total = ratings.get(row["id"], (0, 0))
        stats.rated += rated
        stats.rating_total += total
    return list(units.values())


def composite_score(stats: UnitStats, weights: Mapping[str, float]) -> float | None:
    """100 × weighted mean of the defined components (see the module docstring)."""
    total = used = 0.0
    for name, value in stats.components().items():
        weight = float(weights.get(name, 0.0))
        if value is None or weight <= 0:
            continue
        total += weight * value
        used += weight
    return 100.0 * total / used if used else None


def rank_units(units: list[UnitStats], weights: Mapping[str, float]) -> list[UnitStats]:
    """Score every unit and return them best first with ranks 1..n (unscored last, no rank)."""
    for unit in units:
        unit.score = composite_score(unit, weights)
    units.sort(
        key=lambda u: (
            u.score is None,
            -round(u.score, 6) if u.score is not None else 0.0,
            -u.closed,
            -u.filed,
            u.code,
            str(u.key),
        )
    )
    for i, unit in enumerate(units, start=1):
        unit.rank = i if unit.score is not None else None
    return units


def evaluate(
    rows: list[Mapping[str, Any]],
    *,
    period: Period,
    now: datetime,
    weights: Mapping[str, float],
    recurrences: Mapping[int, int] | None = None,
    levels: Iterable[str] = LEVELS,
    ratings: Mapping[int, tuple[int, int]] | None = None,
) -> dict[str, list[UnitStats]]:
    """The ranked table of every level: {level: [UnitStats best first]}."""
    return {
        level: rank_units(
            unit_stats(rows, level=level, period=period, now=now, recurrences=recurrences, ratings=ratings),
            weights,
        )
        for level in levels
    }


def recurrence_counts(original_ids: Iterable[int | None]) -> dict[int, int]:
    """{case id: recurrences} from the ``recurrence_of_id`` of each new report in the period."""
    return dict(Counter(i for i in original_ids if i is not None))


def rating_counts(ratings: Iterable[tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """{case id: (ratings, summed stars)} from the (case id, stars) of each rating in the period."""
    found: dict[int, tuple[int, int]] = {}
    for case, stars in ratings:
        n, total = found.get(case, (0, 0))
        found[case] = (n + 1, total + stars)
    return found


def clean_weights(raw: Mapping[str, Any] | None) -> dict[str, float]:
    """Weights from settings or a form: known names, finite numbers ≥ 0; defaults for the rest."""
    weights = dict(DEFAULT_WEIGHTS)
    for name, value in (raw or {}).items():
        if name in weights and isinstance(value, (int, float)) and not isinstance(value, bool):
            if 0 <= float(value) < float("inf"):
                weights[name] = float(value)
    return weights
