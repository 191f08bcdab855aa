"""The readiness score of a grid or a community (创建准备度): how ready it is for the assessors,
from five parts, each 0–100:

- ``mock``: the mean score of its points in the latest mock evaluation held by then;
- ``on_time``: cases closed on time, of those closed in the last 30 days;
- ``no_rework``: cases closed without rework, of those closed in the last 30 days;
- ``no_recurrence``: cases filed in the last 30 days that were not a recurrence;
- ``satisfaction``: the latest satisfaction survey by then (a grid takes its community's).

The score is the weighted mean of the parts present (``ReadinessWeights``, in the admin): a part
with no data (no round, no case closed, no survey) leaves the others' weights to share its
place. The trend compares the score with the same computed 30 days earlier."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from gridmap.campaign.models import Answer, ReadinessWeights, Round, RoundPoint
from gridmap.campaign.scores import point_score
from gridmap.core.kept import keeper
from gridmap.evaluation.aggregates import unit_aggregates
from gridmap.evaluation.metrics import Period
from gridmap.geography.models import Community, Grid
from gridmap.geography.selectors import communities_followed_by, grids_visible_to
from gridmap.problems.models import Problem
from gridmap.problems.selectors import scope_signature
from gridmap.surveys.models import Question, Survey
from gridmap.surveys.results import survey_results

WINDOW = timedelta(days=30)
PARTS = ("mock", "on_time", "no_rework", "no_recurrence", "satisfaction")


@dataclass
class Readiness:
    unit: Any
    parts: dict[str, float | None] = field(default_factory=dict)
    score: float | None = None
    before: float | None = None  # the score 30 days earlier
    rank: int | None = None

    @property
    def trend(self) -> float | None:
        return None if self.score is None or self.before is None else round(self.score - self.before, 1)


def weighted(parts: dict[str, float | None], weights: ReadinessWeights) -> float | None:
    """The weighted mean of the parts present; None when no part is (or every weight is 0)."""
    total = sum(getattr(weights, p) for p in PARTS if parts.get(p) is not None)
    if total <= 0:
        return None
    return round(sum(getattr(weights, p) * parts[p] for p in PARTS if parts.get(p) is not None) / total, 1)


def _share(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(100.0 * part / whole, 1)


def _mock(level: str, units: list[Any], as_of: datetime) -> dict[int, float]:
    latest = Round.objects.filter(held_on__lte=as_of.date()).order_by("-held_on", "-pk").first()
    if latest is None:
        return {}
    field_name = f"point__{level}_id"
    visits = RoundPoint.objects.filter(round=latest, **{f"{field_name}__in": [u.pk for u in units]})
    answers: dict[int, list[tuple[float, float, bool]]] = defaultdict(list)
    for visit_id, points, weight, na in Answer.objects.filter(visit__in=visits).values_list(
        "visit_id", "points", "weight", "not_applicable"
    ):
        answers[visit_id].append((points, weight, na))
    per_unit: dict[int, list[float]] = defaultdict(list)
    for visit_id, unit_id in visits.values_list("pk", field_name):
        score = point_score(answers.get(visit_id, []))
        if score is not None:
            per_unit[unit_id].append(score)
    return {u: round(sum(v) / len(v), 1) for u, v in per_unit.items()}


def _loop(level: str, units: list[Any], as_of: datetime) -> dict[int, dict[str, float | None]]:
    scoped = Problem.objects.filter(**{f"{level}__in": [u.pk for u in units]})
    stats = unit_aggregates(
        scoped, level=level, period=Period(as_of - WINDOW, as_of), now=as_of, ratings=False
    )
    return {
        s.key: {
            "on_time": _share(s.closed_on_time, s.closed),
            "no_rework": _share(s.closed - s.reworked, s.closed),
            "no_recurrence": _share(s.filed - s.recurrences, s.filed),
        }
        for s in stats
    }


def _satisfaction(level: str, units: list[Any], as_of: datetime) -> dict[int, float | None]:
    survey = (
        Survey.objects.filter(
            created_at__lte=as_of, questions__satisfaction=True, questions__kind=Question.Kind.RATING
        )  # fmt: skip
        .order_by("-created_at", "-pk")
        .first()
    )
    if survey is None:
        return {}
    community_of = {u.pk: (u.pk if level == "community" else u.community_id) for u in units}
    communities = list(Community.objects.filter(pk__in=set(community_of.values())))
    scores = {r.community.pk: r.satisfaction for r in survey_results(survey, communities)}
    return {u: scores.get(c) for u, c in community_of.items()}


def scores_at(level: str, units: list[Grid] | list[Community], as_of: datetime) -> dict[int, dict[str, Any]]:
    """Each unit's parts and score as of ``as_of``."""
    weights = ReadinessWeights.current()
    mock, loop, happy = (
        _mock(level, units, as_of),
        _loop(level, units, as_of),
        _satisfaction(level, units, as_of),
    )
    found = {}
    for u in units:
        parts = {"mock": mock.get(u.pk), **loop.get(u.pk, {}), "satisfaction": happy.get(u.pk)}
        parts = {p: parts.get(p) for p in PARTS}
        found[u.pk] = {"parts": parts, "score": weighted(parts, weights)}
    return found


def ranking(level: str, units: list[Grid] | list[Community], now: datetime) -> list[Readiness]:
    """The units ranked by readiness (best first; no score last), with their trend."""
    current, before = scores_at(level, units, now), scores_at(level, units, now - WINDOW)
    rows = [
        Readiness(u, current[u.pk]["parts"], current[u.pk]["score"], before[u.pk]["score"]) for u in units
    ]
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), getattr(r.unit, "code", "")))
    for i, r in enumerate(x for x in rows if x.score is not None):
        r.rank = i + 1
    return rows


# The ranking kept between requests (``gridmap.core.kept``): at city scale it groups every case
# of the last 30 days and the 30 days before (2.3–3.0 s for an administrator), so a page answers
# what is kept, marked "updating" while the workers compute it again. Answers and surveys move no
# stamp: the ranking is kept at most two minutes.
RANKING_STAMPS = ("problems", "grids", "campaign")
RANKING_FRESH_S = 120


@keeper("campaign.readiness", scope=scope_signature, stamps=RANKING_STAMPS, fresh_s=RANKING_FRESH_S)
def kept_ranking(user: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    """``ranking`` of the units ``user`` follows at ``params["level"]``, as plain rows."""
    level = params["level"]
    units = list(
        grids_visible_to(user).order_by("code") if level == "grid" else communities_followed_by(user)
    )
    return [
        {"code": r.unit.code, "name": r.unit.name, "parts": r.parts, "score": r.score, "before": r.before,
         "trend": r.trend, "rank": r.rank}
        for r in ranking(level, units, timezone.now())
    ]  # fmt: skip
