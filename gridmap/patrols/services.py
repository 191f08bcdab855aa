"""Recording a walk: one transaction, idempotent on the phone's client id (a retry returns the
record already written), times and track checked at the boundary before anything is built."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap.core.boundary import BoundaryError, check_time
from gridmap.core.geoinput import geometry_from_geojson
from gridmap.geography.models import Grid
from gridmap.patrols.models import PatrolFinding, PatrolRecord, PatrolTask, TaskStatus
from gridmap.problems.models import Problem

MAX_WALK = timedelta(hours=12)
MAX_TRACK_POINTS = 20_000


def _time(value: datetime, what: str) -> datetime:
    try:
        return check_time(value)
    except BoundaryError as e:
        raise ValidationError({what: str(e)}) from None


def walk_record(
    user: Any,
    *,
    client_id: uuid.UUID,
    started_at: datetime,
    ended_at: datetime,
    task_id: int | None = None,
    track: list[Any] | None = None,
    notes: str = "",
) -> tuple[PatrolRecord, bool]:
    """The walk's record and whether it was written now (False: this client id was already)."""
    done = PatrolRecord.objects.filter(client_id=client_id).first()
    if done is not None:
        if done.walker_id != user.pk:
            raise ValidationError({"client_id": _("This client id belongs to another walk.")})
        return done, False
    started_at, ended_at = _time(started_at, "started_at"), _time(ended_at, "ended_at")
    if ended_at < started_at:
        raise ValidationError({"ended_at": _("A walk ends after it starts.")})
    if ended_at - started_at > MAX_WALK:
        raise ValidationError({"ended_at": _("A walk lasts at most 12 hours.")})
    line = None
    if track:
        if not isinstance(track, list) or len(track) > MAX_TRACK_POINTS:
            raise ValidationError({"track": _("The track must be a list of at most 20,000 positions.")})
        if len(track) >= 2:
            try:
                line = geometry_from_geojson(
                    {"type": "LineString", "coordinates": track}, allowed_types={"LineString"}
                )
            except ValidationError as e:
                raise ValidationError({"track": e.messages}) from None
    task = None
    if task_id is not None:
        task = PatrolTask.objects.filter(pk=task_id).select_related("plan").first()
        if task is None or task.walker_id != user.pk:
            raise PermissionDenied
    try:
        with transaction.atomic():
            record = PatrolRecord.objects.create(task=task, walker=user, client_id=client_id, started_at=started_at,
                                                 ended_at=ended_at, track=line, notes=notes)  # fmt: skip
            grids = set(task.plan.grids.values_list("pk", flat=True)) if task else set()
            if line is not None:
                grids |= set(Grid.objects.filter(geom__intersects=line).values_list("pk", flat=True))
            record.grids.set(grids)
            if task is not None and task.status != TaskStatus.DONE:
                PatrolTask.objects.filter(pk=task.pk).update(status=TaskStatus.DONE)
            found = Problem.objects.filter(
                reporter=user,
                reported_at__gte=started_at,
                reported_at__lte=ended_at,
                patrol_finding__isnull=True,
            ).values_list("pk", flat=True)
            PatrolFinding.objects.bulk_create([PatrolFinding(record=record, problem_id=p) for p in found])
    except IntegrityError:  # the same client id written by a retry at the same moment
        return PatrolRecord.objects.get(client_id=client_id, walker=user), False
    return record, True


def now_local() -> datetime:
    return timezone.localtime()
