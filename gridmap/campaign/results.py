"""A round's results as the pages and the workbook read them: scores per point and per type,
grid, community and department (every formula in ``scores``), the round against the one before
(per item), and the readiness list. ``visits`` is always a scoped queryset
(``selectors.visits_visible_to``), so a leader's results hold only their grids' points."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from gridmap.campaign.models import Answer, Finding, InspectionPoint, Round, RoundPoint
from gridmap.campaign.scores import GroupScore, compared, group_scores, point_score
from gridmap.core.language import local_name

LEVELS = ("type", "grid", "community", "department")


@dataclass
class PointResult:
    point_id: int
    name: str
    type: str
    grid: str
    community: str
    department: str
    inspector: str
    score: float | None
    failed_items: list[str] = field(default_factory=list)


@dataclass
class RoundResults:
    round: Round
    points: list[PointResult]
    groups: dict[str, dict[str, GroupScore]]  # level → group name → score
    overall: GroupScore | None


def round_results(round_: Round, visits: QuerySet[RoundPoint]) -> RoundResults:
    rows = (
        visits.filter(round=round_)
        .select_related("point__type", "point__grid", "point__community", "point__department", "inspector")
        .order_by("point__type__order", "point__name", "pk")
    )
    answers: dict[int, list[tuple[float, float, bool]]] = defaultdict(list)
    failed: dict[int, list[str]] = defaultdict(list)
    for visit_id, points, weight, na, is_failed, code in Answer.objects.filter(visit__in=rows).values_list(
        "visit_id", "points", "weight", "not_applicable", "failed", "item__code"
    ):
        answers[visit_id].append((points, weight, na))
        if is_failed:
            failed[visit_id].append(code)
    results = []
    for v in rows:
        p = v.point
        results.append(PointResult(
            point_id=p.pk, name=p.name, type=p.type.local_name,
            grid=p.grid.code if p.grid else "", community=p.community.name if p.community else "",
            department=p.department.name if p.department else "",
            inspector=v.inspector.get_username() if v.inspector else "",
            score=point_score(answers.get(v.pk, [])), failed_items=sorted(failed.get(v.pk, [])),
        ))  # fmt: skip
    groups = {level: group_scores((getattr(r, level), r.score) for r in results) for level in LEVELS}
    overall = group_scores(("all", r.score) for r in results).get("all")
    return RoundResults(round_, results, groups, overall)


def previous_round(round_: Round) -> Round | None:
    return (
        Round.objects.filter(held_on__lte=round_.held_on)
        .exclude(pk=round_.pk)
        .exclude(held_on=round_.held_on, pk__gt=round_.pk)
        .order_by("-held_on", "-pk")
        .first()
    )


def item_fail_rates(round_: Round, visits: QuerySet[RoundPoint]) -> dict[int, tuple[str, str, float, int]]:
    """Item id → (code, text, share of its applicable answers that failed, answers)."""
    counts: dict[int, list[Any]] = {}
    for item_id, code, text, text_en, is_failed in (
        Answer.objects.filter(visit__in=visits.filter(round=round_), not_applicable=False)
        .values_list("item_id", "item__code", "item__text", "item__text_en", "failed")
        .order_by("item__point_type__order", "item__order", "item_id")
    ):
        entry = counts.setdefault(item_id, [code, text, text_en, 0, 0])
        entry[3] += is_failed
        entry[4] += 1
    return {k: (c, local_name(t, te), f / n, n) for k, (c, t, te, f, n) in counts.items()}


def round_compared(round_: Round, visits: QuerySet[RoundPoint]) -> list[dict[str, Any]]:
    """Per item: its failure rate now and in the round before, and better / worse / same / new
    (a lower failure rate is better)."""
    before_round = previous_round(round_)
    now = item_fail_rates(round_, visits)
    before = item_fail_rates(before_round, visits) if before_round else {}
    rows = []
    for item_id, (code, text, rate, n) in now.items():
        old = before.get(item_id)
        rows.append({
            "code": code, "text": text, "rate": rate, "answers": n,
            "before": old[2] if old else None,
            "trend": compared(rate, old[2] if old else None, lower_is_better=True),
        })  # fmt: skip
    return rows


def readiness(points: QuerySet[InspectionPoint]) -> list[dict[str, Any]]:
    """The points that would fail if the assessors came tomorrow: those with a failed item whose
    problem is not yet verified, most open items first."""
    open_ = (
        Finding.objects.filter(point__in=points.values("pk"), closed_at__isnull=True)
        .select_related("point__type", "point__community", "point__department", "item", "problem")
        .order_by("point_id", "item__code")
    )
    by_point: dict[int, dict[str, Any]] = {}
    for f in open_:
        entry = by_point.setdefault(f.point_id, {"point": f.point, "items": []})
        entry["items"].append({"item": f.item, "problem": f.problem})
    return sorted(by_point.values(), key=lambda e: (-len(e["items"]), e["point"].name))
