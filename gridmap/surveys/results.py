"""A survey's results per community, in the database: responses, the mean of each rating, the
share of yes, and the satisfaction score — the mean of the answers to the questions marked
``satisfaction``, from 1–5 to 0–100 ((mean − 1) / 4 × 100)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, Q

from gridmap.surveys.models import Answer, Question, Response, Survey


def satisfaction_score(mean: float | None) -> float | None:
    return None if mean is None else round((mean - 1) / 4 * 100, 1)


@dataclass
class CommunityResult:
    community: Any
    responses: int = 0
    satisfaction: float | None = None
    by_question: dict[int, float | None] = field(default_factory=dict)  # mean rating, or share of yes (0-1)


def survey_results(survey: Survey, communities: list[Any]) -> list[CommunityResult]:
    ids = [c.pk for c in communities]
    counts = dict(
        Response.objects.filter(survey=survey, community_id__in=ids)
        .order_by()
        .values_list("community_id")
        .annotate(n=Count("pk"))
    )
    answers = Answer.objects.filter(
        response__survey=survey, response__community_id__in=ids, number__isnull=False
    )
    per_question = (
        answers.order_by().values("response__community_id", "question_id").annotate(mean=Avg("number"))
    )
    satisfied = dict(
        answers.filter(question__satisfaction=True, question__kind=Question.Kind.RATING)
        .order_by()
        .values_list("response__community_id")
        .annotate(mean=Avg("number"))
    )
    rows = {
        c.pk: CommunityResult(c, counts.get(c.pk, 0), satisfaction_score(satisfied.get(c.pk)))
        for c in communities
    }
    for r in per_question:
        rows[r["response__community_id"]].by_question[r["question_id"]] = r["mean"]
    return [rows[c.pk] for c in communities]


def latest_satisfaction(communities: list[Any]) -> tuple[Survey | None, dict[int, float | None]]:
    """The newest survey that asks for satisfaction, and each community's score in it."""
    survey = (
        Survey.objects.filter(questions__satisfaction=True, questions__kind=Question.Kind.RATING)
        .filter(Q(responses__isnull=False))
        .order_by("-created_at", "-pk")
        .first()
    )
    if survey is None:
        return None, {}
    return survey, {r.community.pk: r.satisfaction for r in survey_results(survey, communities)}
