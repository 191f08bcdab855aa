"""A finding follows its problem through the loop by the loop's one hook: every ``ProblemEvent``
written sends ``post_save`` (as the notifications use it). A passed verification closes the
finding; a failed look-back opens it again. No loop file knows of the campaign."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from gridmap.problems.models import ProblemEvent

CLOSES, REOPENS = frozenset({"verify_pass"}), frozenset({"lookback_fail"})


def _event_saved(sender: Any, instance: ProblemEvent, created: bool, raw: bool = False, **_: Any) -> None:
    if not created or raw or instance.action not in CLOSES | REOPENS:
        return
    from gridmap.campaign.models import Finding

    findings = Finding.objects.filter(problem_id=instance.problem_id)
    if instance.action in CLOSES:
        findings.filter(closed_at__isnull=True).update(closed_at=instance.at)
    else:
        findings.update(closed_at=None)


def connect() -> None:
    post_save.connect(_event_saved, sender=ProblemEvent, dispatch_uid="campaign-finding-follows-problem")
