"""The demo town's campaign: points of every type in every community, their departments, and two
past mock rounds whose failures went through the loop (the first round's verified and closed,
the second's partly still open, so the readiness list shows something). Deterministic; loading
again adds nothing."""

from __future__ import annotations

import io
import random
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Polygon
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from gridmap.accounts.models import Department
from gridmap.campaign.answers import answer_record
from gridmap.campaign.catalogue import DEFAULT_DEPARTMENT, DEPARTMENTS
from gridmap.campaign.models import ChecklistItem, InspectionPoint, PointType
from gridmap.campaign.rounds import round_create
from gridmap.geography.models import Grid
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import Status

AREA_TYPES = {"market", "old_compound", "square", "building_site"}
ROUND_POINTS = 20  # points a demo round visits (every answer and fix costs the load a few ms)
HALF_DEG = 0.00015  # an area point is a box of about 30 m × 30 m


def _photo() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 140, 200)).save(buf, "JPEG")
    return SimpleUploadedFile("after.jpg", buf.getvalue(), content_type="image/jpeg")


def demo_points() -> int:
    """One point of each type per community, in the community's grids in turn."""
    if InspectionPoint.objects.filter(source_key__startswith="demo:").exists():
        return 0
    departments = {DEFAULT_DEPARTMENT: Department.objects.filter(code=DEFAULT_DEPARTMENT).first()}
    for code, (dep, name) in DEPARTMENTS.items():
        departments[code] = Department.objects.get_or_create(code=dep, defaults={"name": name})[0]
    grids: dict[int, list[Grid]] = {}
    for g in Grid.objects.order_by("code"):
        grids.setdefault(g.community_id, []).append(g)
    rows = []
    for community_id, its in grids.items():
        for n, ptype in enumerate(PointType.objects.order_by("order")):
            g = its[(n * 3) % len(its)]
            where = g.geom.point_on_surface
            geom = where
            if ptype.code in AREA_TYPES:
                geom = Polygon.from_bbox(
                    (where.x - HALF_DEG, where.y - HALF_DEG, where.x + HALF_DEG, where.y + HALF_DEG)
                )
                geom.srid = 4326
                geom = geom.intersection(g.geom) if not g.geom.contains(geom) else geom
                geom = geom if geom.geom_type == "Polygon" else where
            rows.append(InspectionPoint(
                source_key=f"demo:{ptype.code}:{g.code}", type=ptype, name=f"{g.name}{ptype.name}", geom=geom,
                grid=g, community_id=community_id, department=departments.get(ptype.code) or departments[DEFAULT_DEPARTMENT],
            ))  # fmt: skip
    InspectionPoint.objects.bulk_create(rows)
    return len(rows)


def demo_rounds() -> None:
    users = get_user_model().objects
    office = users.filter(profile__role="admin").order_by("pk").first()
    inspectors = list(users.filter(profile__role="inspector").order_by("username"))
    if office is None or not inspectors or InspectionPoint.objects.filter(visits__isnull=False).exists():
        return
    today = timezone.localdate()
    items: dict[int, list[ChecklistItem]] = {}
    for item in ChecklistItem.objects.filter(active=True).order_by("order"):
        items.setdefault(item.point_type_id, []).append(item)
    for number, (days_ago, fail_share, close_share) in enumerate(((60, 0.14, 1.0), (30, 0.08, 0.5)), start=1):
        rng = random.Random(number)
        ids = sorted(InspectionPoint.objects.values_list("pk", flat=True))
        visited = InspectionPoint.objects.filter(pk__in=rng.sample(ids, min(len(ids), ROUND_POINTS)))
        round_ = round_create(name=f"第{number}轮模拟测评", created_by=office, inspectors=inspectors,
                              points=visited, held_on=today - timedelta(days=days_ago))  # fmt: skip
        for visit in round_.visits.select_related("point", "round").order_by("pk"):
            for item in items.get(visit.point.type_id, []):
                findings = rng.choice([1, 2, 3]) if rng.random() < fail_share else 0
                recorded = answer_record(visit=visit, item=item, client_uuid=uuid.UUID(int=rng.getrandbits(128)),
                                         findings=findings, user=visit.inspector or office)  # fmt: skip
                finding = getattr(recorded.answer, "finding", None)
                if finding is not None and rng.random() < close_share:
                    _fix(finding.problem_id, visit.point, office)


def _fix(problem_id: int, point: InspectionPoint, office) -> None:
    """Handled by the office (for the department) with an after-photo where the point is, verified
    by the inspector the dispatch chose."""
    where = point.geom if point.geom.geom_type == "Point" else point.geom.point_on_surface
    outcome = problem_transition(problem_id=problem_id, action="handle", actor=office, note="已整改",
                                 lon=where.x, lat=where.y, photos=[_photo()])  # fmt: skip
    checker = outcome.problem.inspector
    if outcome.problem.status == Status.HANDLED and checker is not None:
        problem_transition(problem_id=problem_id, action="verify_pass", actor=checker, note="复查合格",
                           lon=where.x, lat=where.y, photos=[_photo()])  # fmt: skip


def campaign_demo_load() -> None:
    demo_points()
    demo_rounds()
