"""Who sees and works the ten steps of which community, and each community's progress.

Seeing: the whole city for city-wide roles; a community head their community; a grid leader the
communities of their grids; an inspector the communities they patrol; a signer (``Signer``) the
communities of their street. Working a community's sub-items (status, note, evidence): its head
and administrators. Signing a step's stage acceptance: the street's signers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.geography.models import Community
from gridmap.geography.selectors import communities_followed_by
from gridmap.tensteps.models import Acceptance, ItemProgress, ItemStatus, Signer, Step, StepItem


def communities_for_steps(user: Any) -> QuerySet[Community]:
    """The communities whose ten steps ``user`` may see: those they follow, and those of the
    streets whose stage acceptances they sign."""
    if not getattr(user, "is_authenticated", False):
        return Community.objects.none()
    signed = Signer.objects.filter(user_id=user.pk).values("subdistrict_id")
    return Community.objects.filter(
        Q(pk__in=communities_followed_by(user).values("pk")) | Q(subdistrict_id__in=signed)
    ).order_by("code")


def may_work(user: Any, community: Community) -> bool:
    """May ``user`` set the state of the community's sub-items and add evidence?"""
    role = role_of(user)
    return role == Role.ADMIN or (role == Role.COMMUNITY_HEAD and user.profile.community_id == community.pk)


def may_sign(user: Any, community: Community) -> bool:
    """May ``user`` sign the community's stage acceptances (a signer of its street)?"""
    return Signer.objects.filter(user_id=user.pk, subdistrict_id=community.subdistrict_id).exists()


def standing(community_ids: list[int]) -> dict[tuple[int, int], Acceptance]:
    """(community, step) -> the latest acceptance decision."""
    latest: dict[tuple[int, int], Acceptance] = {}
    rows = Acceptance.objects.filter(community_id__in=community_ids).select_related("signed_by__profile")
    for a in rows.order_by("community_id", "step_id", "-signed_at", "-pk"):
        latest.setdefault((a.community_id, a.step_id), a)
    return latest


def done_items(community_ids: list[int]) -> dict[int, set[int]]:
    """community -> the ids of its sub-items done."""
    found: dict[int, set[int]] = {c: set() for c in community_ids}
    rows = ItemProgress.objects.filter(community_id__in=community_ids, status=ItemStatus.DONE)
    for community_id, item_id in rows.values_list("community_id", "item_id"):
        found[community_id].add(item_id)
    return found


def step_items() -> dict[int, list[int]]:
    """step id -> its sub-item ids."""
    items: dict[int, list[int]] = {s: [] for s in Step.objects.values_list("pk", flat=True)}
    for step_id, item_id in StepItem.objects.values_list("step_id", "pk"):
        items[step_id].append(item_id)
    return items


def step_accepted(accepted: Acceptance | None, items: list[int], done: set[int]) -> bool:
    """A step stands accepted while its latest decision accepts it and all its items are done
    (an item set back after the acceptance reopens the step)."""
    return (
        accepted is not None
        and accepted.decision == Acceptance.Decision.ACCEPTED
        and bool(items)
        and set(items) <= done
    )


@dataclass
class Progress:
    community: Community
    items_done: int
    items_total: int
    steps_accepted: int
    steps_total: int
    in_progress: int = 0
    accepted_steps: list[int] = field(default_factory=list)

    @property
    def share_done(self) -> float:
        return self.items_done / self.items_total if self.items_total else 0.0


def progress_of(communities: QuerySet[Community] | list[Community]) -> list[Progress]:
    """Each community's progress: sub-items done, steps accepted (a fixed number of queries)."""
    communities = list(communities)
    ids = [c.pk for c in communities]
    items = step_items()
    total = sum(len(v) for v in items.values())
    done = done_items(ids)
    latest = standing(ids)
    busy = dict(
        ItemProgress.objects.filter(community_id__in=ids, status=ItemStatus.IN_PROGRESS)
        .order_by()
        .values_list("community_id")
        .annotate(n=Count("pk"))
    )
    rows = []
    for c in communities:
        accepted = [s for s, its in items.items() if step_accepted(latest.get((c.pk, s)), its, done[c.pk])]
        rows.append(
            Progress(c, len(done[c.pk]), total, len(accepted), len(items), busy.get(c.pk, 0), accepted)
        )
    return rows
