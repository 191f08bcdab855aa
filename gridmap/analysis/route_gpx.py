"""GPX of an inspection walk: the one writer behind ``/route.gpx`` and ``manage.py plan_route
--format gpx``, so the two give the same file for the same stops.

Each stop is a waypoint named by its place in the walk and its problem number (``1. #2070``: a GPS
unit that sorts by name keeps the walking order) and described in one language, the active one
(the page: the request's; the command: ``--language``, Chinese by default): category, status and
the deadline (local time) or the look-back's due day. The document's time is when the plan was
made, so the same plan gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap.core.language import local_name
from gridmap.problems.models import OPEN_STATUSES, Problem, Status
from layers.routes import Waypoint, gpx_document

GpxStop = tuple[Any, float, float]  # (problem id, lon, lat), in walking order


def stop_descriptions(problems: QuerySet[Problem], ids: Iterable[int]) -> dict[int, str]:
    """``category · status · deadline`` of each problem of ``ids`` that ``problems`` (the
    caller's scoped queryset) holds, in the active language."""
    labels = dict(Status.choices)
    rows = problems.filter(pk__in=list(ids)).values_list(
        "pk", "category__code", "category__name", "category__name_en", "status", "deadline", "lookback_due"
    )
    out = {}
    for pk, code, name, name_en, status, deadline, lookback_due in rows:
        if status in OPEN_STATUSES:
            due = timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M") if deadline else None
        else:
            due = f"{_('look-back due')} {lookback_due:%Y-%m-%d}" if lookback_due else None
        category = " ".join(t for t in (code, local_name(name or "", name_en or "")) if t)
        out[pk] = " · ".join(t for t in (category, str(labels.get(status, status)), due) if t)
    return out


def route_gpx(
    stops: Sequence[GpxStop],
    path_lonlat: Iterable[tuple[float, float]],
    descriptions: Mapping[Any, str],
    *,
    planned_at: str | datetime | None = None,
) -> str:
    """GPX 1.1: a waypoint per stop (``<seq>. #<id>``, the description of its id) and the walk's
    path as a track; ``planned_at`` (ISO text or a datetime) is the document's time."""
    when = datetime.fromisoformat(planned_at) if isinstance(planned_at, str) and planned_at else planned_at
    waypoints = [
        Waypoint(name=f"{seq}. #{stop_id}", lon=lon, lat=lat, desc=descriptions.get(stop_id, ""))
        for seq, (stop_id, lon, lat) in enumerate(stops, start=1)
    ]
    return gpx_document(waypoints, path_lonlat, name=_("Inspection route"), time=when or None)
