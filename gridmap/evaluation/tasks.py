"""Background tasks of the evaluation (``gridmap.core.jobs``): keeping the daily summary, and
writing a large ledger."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.utils import timezone

from gridmap.core.dates import local_midnight
from gridmap.core.jobs import Progress, task
from gridmap.core.models import Job
from gridmap.evaluation import summary
from gridmap.evaluation.ledger import stem, write_ledger
from gridmap.evaluation.metrics import Period
from gridmap.evaluation.negative import write_negative_list
from gridmap.evaluation.selectors import area_visible_to


@task("evaluation.refresh_summary")
def refresh_summary(progress: Progress, full: bool = False) -> dict[str, Any]:
    """The schedule's refresh of the daily summary (every 5 minutes by default); ``full``
    rebuilds it all (``manage.py refresh_evaluation_summary --full``)."""
    result = summary.refresh(full=full)
    progress(1, 1, f"{result['rows']} rows rewritten")
    return result


class ExportRefused(Exception):
    public_message = "the export's user or area is gone"


@task("evaluation.export_ledger")
def export_ledger(
    progress: Progress, *, user_id: int, start: str, end: str, fmt: str = "xlsx"
) -> dict[str, Any]:
    """The ledger of ``user_id``'s scope over [start, end) (local dates, ISO) as an xlsx or csv
    file on the job."""
    user = get_user_model().objects.filter(pk=user_id).select_related("profile").first()
    if user is None:
        raise ExportRefused()
    period = Period(local_midnight(date.fromisoformat(start)), local_midnight(date.fromisoformat(end)))
    suffix = "csv" if fmt == "csv" else "xlsx"
    handle, path = tempfile.mkstemp(suffix=f".{suffix}")
    os.close(handle)
    try:
        if suffix == "csv":
            with open(path, "w", encoding="utf-8-sig", newline="") as out:
                write_ledger(out, user=user, period=period, fmt="csv", now=timezone.now(), progress=progress)
        else:
            write_ledger(path, user=user, period=period, fmt="xlsx", now=timezone.now(), progress=progress)
        holder = Job(id=uuid.uuid4())
        with open(path, "rb") as body:
            holder.file.save(f"{stem('ledger', period)}.{suffix}", File(body), save=False)
    finally:
        os.unlink(path)
    return {"file": holder.file.name, "format": suffix}


@task("evaluation.export_negative_list")
def export_negative_list(
    progress: Progress, *, user_id: int, kind: str, code: str, start: str, end: str
) -> dict[str, Any]:
    """The negative list of the grid or community ``code`` (``kind``) as ``user_id`` may see it,
    over [start, end) (local dates, ISO), as an xlsx file on the job."""
    user = get_user_model().objects.filter(pk=user_id).select_related("profile").first()
    if user is None:
        raise ExportRefused()
    area = area_visible_to(user, **{kind: code}) if kind in ("grid", "community") else None
    if area is None:
        raise ExportRefused()
    period = Period(local_midnight(date.fromisoformat(start)), local_midnight(date.fromisoformat(end)))
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_negative_list(path, user=user, area=area, period=period, now=timezone.now(), progress=progress)
        holder = Job(id=uuid.uuid4())
        with open(path, "rb") as body:
            holder.file.save(f"{stem('negative-list-' + area.code, period)}.xlsx", File(body), save=False)
    finally:
        os.unlink(path)
    return {"file": holder.file.name, "format": "xlsx"}
