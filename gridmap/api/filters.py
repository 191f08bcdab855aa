"""Filters of the GeoJSON lists, one function per query parameter: ``(queryset, raw value, now)``
→ queryset. A list view declares which of them it accepts; every value is parsed strictly
(``params``) before it reaches the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db.models import QuerySet

from gridmap.api import params as p
from gridmap.problems.models import OPEN_STATUSES, Status

Filter = Callable[[QuerySet, str, datetime], QuerySet]


def bbox(qs: QuerySet, raw: str, now: datetime) -> QuerySet:
    """Features whose geometry intersects the box (spatial index on both databases)."""
    return qs.filter(geom__intersects=p.parse_bbox(raw))


def codes_in(lookup: str, name: str) -> Filter:
    def apply(qs: QuerySet, raw: str, now: datetime) -> QuerySet:
        return qs.filter(**{f"{lookup}__in": p.parse_codes(raw, name)})

    return apply


def status(qs: QuerySet, raw: str, now: datetime) -> QuerySet:
    return qs.filter(status__in=p.parse_choices(raw, "status", Status.values))


def reported_after(qs: QuerySet, raw: str, now: datetime) -> QuerySet:
    return qs.filter(reported_at__gte=p.parse_when(raw, "reported_after"))


def reported_before(qs: QuerySet, raw: str, now: datetime) -> QuerySet:
    return qs.filter(reported_at__lt=p.parse_when(raw, "reported_before"))


def is_open(qs: QuerySet, raw: str, now: datetime) -> QuerySet:
    if p.parse_flag(raw, "open"):
        return qs.filter(status__in=OPEN_STATUSES)
    return qs.exclude(status__in=OPEN_STATUSES)


def overdue(qs: QuerySet, raw: str, now: datetime) -> QuerySet:
    if p.parse_flag(raw, "overdue"):
        return qs.filter(status__in=OPEN_STATUSES, deadline__lt=now)
    return qs.exclude(status__in=OPEN_STATUSES, deadline__lt=now)


AREA = {
    "bbox": bbox,
    "grid": codes_in("grid__code", "grid"),
    "community": codes_in("community__code", "community"),
}
GRIDS = {
    "bbox": bbox,
    "grid": codes_in("code", "grid"),
    "community": codes_in("community__code", "community"),
}
FACILITIES = {"bbox": bbox, "grid": codes_in("grid__code", "grid"), "kind": codes_in("kind__code", "kind")}
PROBLEMS = {
    **AREA,
    "category": codes_in("category__code", "category"),
    "status": status,
    "reported_after": reported_after,
    "reported_before": reported_before,
    "open": is_open,
    "overdue": overdue,
}


def apply_filters(
    qs: QuerySet, filters: dict[str, Filter], values: dict[str, str], now: datetime
) -> QuerySet:
    for name, raw in values.items():
        if name in filters:
            qs = filters[name](qs, raw, now)
    return qs
