"""Every score of the campaign, computed here and nowhere else.

An item: with no finding it earns its weight; rule ``all``: any finding earns 0; rule
``per_finding``: ``weight - deduction × findings``, never below 0. It fails at ``fail_at``
findings or more. A "not applicable" answer earns nothing and counts for nothing.

A point's score (0–100): ``100 × Σ points / Σ weight`` over its applicable answered items; a
point with no applicable answer has no score (None). A group of points (a type, a grid, a
community, a department, the round): the mean of its points' scores, each point counted once
whatever its checklist's length, so a market with twelve items weighs as much as a bus stop with
four; its pass rate is the share of its points scoring at least ``PASS_SCORE``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

PASS_SCORE = 80.0  # a point scoring less would fail the assessors' visit


@dataclass(frozen=True)
class ItemScore:
    points: float
    failed: bool


def item_score(*, weight: float, rule: str, deduction: float, fail_at: int, findings: int) -> ItemScore:
    """The points an item earns with ``findings`` findings, and whether it failed."""
    if findings < 0:
        raise ValueError("findings cannot be negative")
    if findings == 0:
        return ItemScore(float(weight), False)
    if rule == "per_finding":
        earned = max(0.0, float(weight) - float(deduction) * findings)
    else:
        earned = 0.0
    return ItemScore(earned, findings >= max(1, fail_at))


def point_score(answers: Iterable[tuple[float, float, bool]]) -> float | None:
    """``answers``: (points earned, weight, not applicable) per answered item."""
    earned = possible = 0.0
    for points, weight, not_applicable in answers:
        if not_applicable:
            continue
        earned += points
        possible += weight
    return round(100.0 * earned / possible, 2) if possible > 0 else None


@dataclass(frozen=True)
class GroupScore:
    score: float | None  # mean of the points' scores
    points: int  # points with a score
    passed: int  # of them, scoring at least PASS_SCORE

    @property
    def pass_rate(self) -> float | None:
        return round(self.passed / self.points, 4) if self.points else None


def group_scores(scores: Iterable[tuple[Hashable, float | None]]) -> dict[Hashable, GroupScore]:
    """``scores``: (group key, point score) per point; points without a score are left out."""
    sums: dict[Hashable, list[float]] = defaultdict(list)
    for key, score in scores:
        if score is not None:
            sums[key].append(score)
    return {
        key: GroupScore(
            round(sum(values) / len(values), 2), len(values), sum(v >= PASS_SCORE for v in values)
        )
        for key, values in sums.items()
    }


def compared(now: float | None, before: float | None, *, lower_is_better: bool = False) -> str:
    """``better``, ``worse``, ``same`` or ``new`` (nothing to compare with)."""
    if now is None or before is None:
        return "new"
    if abs(now - before) < 1e-9:
        return "same"
    return "better" if (now < before) == lower_is_better else "worse"
