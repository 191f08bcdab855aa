"""Reads for evaluation and the ledgers. Every one starts from ``problems_visible_to(user)``:
a figure, a ranking or an export row never covers a case the user may not see. The figures per
unit are grouped in the database by ``aggregates`` (``unit_aggregates``); ``metric_rows`` and
``evaluation_by_rows`` are the per-case reference they are tested against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, Q, QuerySet

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import CITY_WIDE_ROLES, role_of
from gridmap.evaluation import summary_figures
from gridmap.evaluation.aggregates import (
    in_period,
    ratings_by_unit,
    ratings_in,
    recurrences_by_unit,
    recurrences_in,
    unit_aggregates,
)
from gridmap.evaluation.metrics import (
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
from gridmap.problems.models import OPEN_STATUSES, Problem, ProblemEvent, ProblemPhoto
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


def metric_rows(scoped: QuerySet[Problem], period: Period) -> list[dict[str, Any]]:
    """The rows ``metrics.unit_stats`` needs, one per case: cases filed or closed in the period,
    every open case (for overdue now), and the cases that recurred or were rated in the period.
    The pages use ``unit_aggregates`` (one row per unit); these rows are the reference it is
    tested against."""
    recurred = recurrences_in(scoped, period).values("recurrence_of_id")
    rated = ratings_in(scoped, period).values("problem_id")
    wanted = in_period("filed_at", period) | in_period("closed_at", period) | Q(status__in=OPEN_STATUSES)
    return list(
        scoped.filter(wanted | Q(pk__in=recurred) | Q(pk__in=rated)).values(*ROW_FIELDS).order_by("pk")
    )


def _summary_until(user: AbstractBaseUser | AnonymousUser, period: Period) -> datetime | None:
    return summary_figures.summary_as_of(user, period)


def _summary_tables(
    period: Period, now: datetime, levels: Iterable[str], until: datetime
) -> dict[str, list[UnitStats]]:
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
    wanted = in_period("reported_at", period) | in_period("filed_at", period) | in_period("closed_at", period)
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
        .filter(Q(status__in=OPEN_STATUSES) | in_period("closed_at", period))
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
