"""The evaluation as the pages read it: kept between requests (``gridmap.core.kept``).

Grouping a part of the city's cases takes seconds at city scale (a department sees 829,000 of
a city's million), and the city-wide figures read the daily summary plus live open counts; both
are kept under the user's scope, the period and the change stamps, current for five minutes
(open and overdue cases are counted as of their time), and refreshed by the workers. The first
computation for a large scope is left to the workers (the pages answer "computing").
``selectors.evaluation_for`` stays the computation of now."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from gridmap.core.kept import Kept, keeper
from gridmap.evaluation.aggregates import ratings_by_unit, recurrences_by_unit, unit_aggregates
from gridmap.evaluation.metrics import LEVELS, Period, UnitStats, rank_units
from gridmap.evaluation.selectors import _summary_until, score_weights
from gridmap.evaluation.weekly import Week, weekly_counts
from gridmap.problems.selectors import problems_visible_to, scope_is_large, scope_signature

# What the evaluation is kept under: the cases, the areas and leaders, the categories and
# departments, the daily summary; and how long it stays current when none of them moved.
EVALUATION_STAMPS = ("problems", "grids", "categories", "departments", "summary")
FRESH_S = 300


def _period_params(period: Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


def _period_of(params: Mapping[str, Any]) -> Period:
    return Period(datetime.fromisoformat(params["start"]), datetime.fromisoformat(params["end"]))


@keeper("evaluation.tables", scope=scope_signature, stamps=EVALUATION_STAMPS, fresh_s=FRESH_S)
def kept_tables(user: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Every level's unranked units over what ``user`` may see, kept between requests: for the
    whole city from the daily summary (``summary_figures``; its time in ``summary_until``), for a
    part of it grouped from the cases. The hours of each unit's cases are left out (the grouped
    mean and median stand for them), so the value pickles."""
    period = _period_of(params)
    now = timezone.now()
    until = _summary_until(user, period)
    if until is not None:
        from gridmap.evaluation import summary_figures

        tables = summary_figures.city_figures(period, now, LEVELS, until)
    else:
        scoped = problems_visible_to(user)
        recurrences = recurrences_by_unit(scoped, period)
        ratings = ratings_by_unit(scoped, period)
        tables = {
            level: unit_aggregates(
                scoped,
                level=level,
                period=period,
                now=now,
                recurrences=recurrences[level],
                ratings=ratings[level],
            )  # fmt: skip
            for level in LEVELS
        }
    stripped = {level: [replace(u, hours_to_close=()) for u in units] for level, units in tables.items()}
    return {"tables": stripped, "summary_until": until}


@dataclass(frozen=True)
class Evaluation:
    """The ranked tables of the levels asked for, and where their figures come from: the daily
    summary as of ``summary_as_of`` (the whole city), or the kept grouping of the user's cases
    (``kept``: its time, and whether a refresh is under way)."""

    tables: dict[str, list[UnitStats]]
    summary_as_of: datetime | None = None
    kept: Kept[Any] | None = None


def evaluation_of(
    user: AbstractBaseUser | AnonymousUser,
    period: Period,
    now: datetime,
    levels: Iterable[str] = LEVELS,
    *,
    may_defer: bool = True,
) -> Evaluation:
    """The ranked evaluation table of every level asked for (all by default), over what ``user``
    may see, as the pages show it, kept (``kept_tables``): for the whole city from the daily
    summary's rows (``summary_as_of`` is then set and ``kept`` None), for a part of it grouped
    from its cases (seconds for a department at city scale; ``kept`` says as of when). Ranked with the weights of now. The first
    computation for a large scope (``scope_is_large``, counted only when nothing is kept) is left
    to the workers when ``may_defer`` (the pages): the tables are then empty and
    ``kept.computing`` is true."""
    kept = kept_tables.get(user, _period_params(period), defer=lambda: may_defer and _too_large(user, period))
    if kept.computing:
        return Evaluation({level: [] for level in levels}, kept=kept)
    weights = score_weights()
    tables = {level: rank_units(kept.value["tables"][level], weights) for level in levels}
    until = kept.value["summary_until"]
    return Evaluation(tables, summary_as_of=until, kept=None if until is not None else kept)


def _too_large(user: AbstractBaseUser | AnonymousUser, period: Period) -> bool:
    """Grouping ``user``'s cases would take seconds: no daily summary serves them and the scope is
    large (``scope_is_large``)."""
    return _summary_until(user, period) is None and scope_is_large(user)


def evaluation_at_hand(user: AbstractBaseUser | AnonymousUser, period: Period) -> bool:
    """Whether ``evaluation_of`` answers at once for ``user`` and ``period`` (kept, or cheap to
    compute): the ledger's evaluation sheet is written in the request only then."""
    return kept_tables.has(user, _period_params(period)) or not _too_large(user, period)


@keeper("evaluation.weeks", scope=scope_signature, stamps=EVALUATION_STAMPS)
def kept_weeks(user: Any, params: dict[str, Any]) -> list[Week]:
    """Filed and closed per week (``weekly_counts``) over what ``user`` may see, kept."""
    return weekly_counts(problems_visible_to(user), [date.fromisoformat(d) for d in params["mondays"]])


def weeks_of(user: AbstractBaseUser | AnonymousUser, mondays: list[date]) -> Kept[list[Week]]:
    """The kept weekly counts (left to the workers the first time for a large scope)."""
    params = {"mondays": [d.isoformat() for d in mondays]}
    return kept_weeks.get(user, params, defer=lambda: scope_is_large(user))
