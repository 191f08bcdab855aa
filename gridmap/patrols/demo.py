"""The demo town's patrols: a daily plan for the first inspector over the grids of the
communities they patrol, a weekly plan for each of the first grid leaders over their own grids,
walks on some of the last fourteen days (so the map of grids not walked lately shows both), and
today's tasks. Loading again adds nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.geography.models import Grid
from gridmap.patrols.models import Frequency, PatrolPlan, PatrolRecord
from gridmap.patrols.schedule import create_due_tasks

LEADERS = 3
WALK_DAYS = (1, 2, 4, 6, 9, 13)  # days ago


def demo_fill() -> None:
    if PatrolPlan.objects.exists():
        return
    users = get_user_model().objects.select_related("profile")
    today = timezone.localdate()
    inspector = users.filter(profile__role=Role.INSPECTOR).order_by("username").first()
    if inspector is not None:
        grids = Grid.objects.filter(community__in=inspector.profile.patrol_communities.all()).order_by("code")
        plan = PatrolPlan.objects.create(name="社区日常巡查", frequency=Frequency.DAILY, walker=inspector,
                                         starts_on=today - timedelta(days=30))  # fmt: skip
        plan.grids.set(grids)
        for n, ago in enumerate(WALK_DAYS):
            walked = list(grids[n % 2 :: 2])  # every other grid, alternating: some are left behind
            end = timezone.now() - timedelta(days=ago, hours=-2)
            record = PatrolRecord.objects.create(walker=inspector, client_id=uuid.uuid5(uuid.NAMESPACE_URL, f"demo-walk-{n}"),
                                                 started_at=end - timedelta(hours=1, minutes=20), ended_at=end,
                                                 notes="按计划巡查，发现问题已上报")  # fmt: skip
            record.grids.set(walked[: max(1, len(walked) // 2)])
    for leader in users.filter(profile__role=Role.GRID_LEADER).order_by("username")[:LEADERS]:
        grids = Grid.objects.filter(first_responsible=leader)
        if grids.exists():
            plan = PatrolPlan.objects.create(name=f"{leader.first_name or leader.username} 网格周巡", frequency=Frequency.WEEKLY,
                                             weekday=0, walker=leader, starts_on=today - timedelta(days=30))  # fmt: skip
            plan.grids.set(grids)
    create_due_tasks()
