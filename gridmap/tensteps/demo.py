"""The demo town's ten-step progress: each community at a different point, a signer for the
street (the demo user whose entry says ``signs_for``), accepted steps, and a step returned once
with the street's remarks. Loading again changes nothing already there."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from gridmap.geography.models import Community, Subdistrict
from gridmap.tensteps.models import Acceptance, ItemProgress, ItemStatus, Signer, StepItem

# Sub-items done per community, in the catalogue's order (the communities by code, cycling).
DONE = (41, 27, 14, 5)
BUSY = 3  # the next ones in progress
RETURNED = "宣传栏内容未更新，请补充照片后再申请验收"


def demo_fill(entries: list[dict[str, Any]]) -> None:
    users = get_user_model().objects
    for entry in entries:
        if entry.get("signs_for"):
            sub = Subdistrict.objects.filter(code=entry["signs_for"]).first()
            if sub is not None:
                Signer.objects.get_or_create(user=users.get(username=entry["username"]), subdistrict=sub)
    items = list(StepItem.objects.select_related("step").order_by("step__number", "number"))
    for i, community in enumerate(Community.objects.order_by("code")):
        if ItemProgress.objects.filter(community=community).exists():
            continue  # loaded before: keep what the demo's users did since
        done = DONE[i % len(DONE)]
        ItemProgress.objects.bulk_create(
            [ItemProgress(community=community, item=it, status=ItemStatus.DONE, note="已完成") for it in items[:done]]
            + [ItemProgress(community=community, item=it, status=ItemStatus.IN_PROGRESS) for it in items[done : done + BUSY]]
        )  # fmt: skip
        signer = Signer.objects.filter(subdistrict_id=community.subdistrict_id).select_related("user").first()
        if signer is None:
            continue
        finished = {it.step_id for it in items[:done]} - {it.step_id for it in items[done:]}
        for step_id in sorted(finished):
            if step_id == items[0].step_id + 1 and i % 2 == 0:  # publicity: returned once, then accepted
                Acceptance.objects.create(community=community, step_id=step_id, decision="returned",
                                          remarks=RETURNED, signed_by=signer.user)  # fmt: skip
            Acceptance.objects.create(
                community=community, step_id=step_id, decision="accepted", signed_by=signer.user
            )
