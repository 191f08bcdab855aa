"""A facility or facility kind saved or deleted (the admin, the API, a script) asks for a coverage
refresh once its transaction commits, so the planner shows the change within a refresh's time
rather than at the next scheduled run. Bulk writes send no signal: imports ask themselves, and
the schedule catches anything else (it compares stamps)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from gridmap.facilities.models import Facility, FacilityKind


def _changed(**_: Any) -> None:
    from gridmap.analysis.coverage_rows import request_refresh

    transaction.on_commit(request_refresh)


def connect() -> None:
    for model in (Facility, FacilityKind):
        post_save.connect(_changed, sender=model, dispatch_uid=f"analysis-refresh-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"analysis-refresh-delete-{model.__name__}")
