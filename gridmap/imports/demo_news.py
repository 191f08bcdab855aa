"""A few live steps after the demo town's bulk load, so that its inboxes are not empty.

The demo's history is bulk-loaded and tells nobody (an import of old cases must not). Here three
new reports are taken through the pages' own services, the intake and ``problem_transition``,
whose events reach the notifications app by its one hook, as any report and step does: the grid
leader hears of a new report, the department of a dispatch, the community head of an extension
asked for, the inspector of a fix to verify, the reporters of news of their reports. Each report
has a fixed client UUID and each step is taken only from the status before it, so loading the
demo again adds nothing.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from gridmap.accounts.models import Department, Profile, Role
from gridmap.geography.models import Grid
from gridmap.problems.intake import problem_create
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import Problem, Status

NAMESPACE = uuid.UUID("5d7c8f2e-8a1b-4c55-9d0e-6f1a2b3c4d5e")
# (reporter, description, the steps after the report: (action, who, note))
STORIES = [
    ("reporter_1", "演示：路口垃圾桶满溢", []),
    ("reporter_2", "演示：人行道乱堆杂物", [("file", "lead", ""), ("dispatch", "lead", ""),
                                        ("request_extension", "department", "需要协调清运车辆")]),
    ("reporter_3", "演示：绿化带暴露垃圾", [("file", "lead", ""), ("dispatch", "lead", ""),
                                        ("handle", "department", "已清理干净")]),
]  # fmt: skip
BEFORE = {"file": Status.REPORTED, "dispatch": Status.FILED, "request_extension": Status.DISPATCHED,
          "handle": Status.DISPATCHED}  # fmt: skip


def demo_news_send() -> int:
    """Take the demo's live steps not taken yet; returns how many steps were taken."""
    department = Department.objects.filter(categories__isnull=False).order_by("code").first()
    grid = Grid.objects.exclude(first_responsible=None).order_by("code").first()
    if department is None or grid is None:
        return 0
    category = department.categories.order_by("code").first()
    people = {p.user.username: p.user for p in Profile.objects.select_related("user")}
    spot = grid.geom.point_on_surface
    taken = 0
    for n, (reporter, description, steps) in enumerate(STORIES):
        if reporter not in people:
            continue
        with transaction.atomic():
            problem, _ = problem_create(lon=spot.x + n * 0.00003, lat=spot.y, category=category,
                                        description=description, reporter=people[reporter],
                                        client_uuid=uuid.uuid5(NAMESPACE, reporter))  # fmt: skip
        for action, who, note in steps:
            problem = Problem.objects.get(pk=problem.pk)
            actor = grid.first_responsible if who == "lead" else _handler(problem)
            if actor is None or problem.status != BEFORE[action] or _taken(problem, action):
                continue
            with transaction.atomic():
                problem_transition(problem_id=problem.pk, action=action, actor=actor, note=note,
                                   **_extra(action, problem))  # fmt: skip
            taken += 1
    return taken


def _handler(problem: Problem) -> Any:
    """A member of the department the case was dispatched to."""
    member = Profile.objects.filter(role=Role.DEPARTMENT, department_id=problem.department_id)
    first = member.select_related("user").order_by("user__username").first()
    return first.user if first else None


def _taken(problem: Problem, action: str) -> bool:
    return problem.events.filter(action=action).exists()


def _extra(action: str, problem: Problem) -> dict[str, Any]:
    if action == "request_extension":
        return {"params": {"hours": 24}}
    if action == "handle":
        return {"photos": [_photo()], "lon": problem.geom.x, "lat": problem.geom.y}
    return {}


def _photo() -> SimpleUploadedFile:
    """A small after-photo (a plain JPEG made here: the demo ships no image files)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (110, 150, 90)).save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile("demo-after.jpg", buffer.getvalue(), content_type="image/jpeg")
