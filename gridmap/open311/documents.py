"""The Open311 documents (plain data) for services, service definitions and requests.

Element names and their order are the GeoReport v2 specification's. Dates are ISO 8601 in the
site's time zone with its offset (``2024-05-01T09:30:00+08:00``). Nothing here names the
reporter: no user, e-mail, phone or account id ever goes out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap.core.language import english
from gridmap.open311.media import photo_url
from gridmap.open311.models import ServiceAttribute
from gridmap.problems.models import (
    OPEN_STATUSES,
    EventCategory,
    EventClass,
    Problem,
    ProblemEvent,
    ProblemPhoto,
    Status,
)


def w3c(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def service_notice(category: EventCategory) -> str:
    return _("Handled within %(hours)s hours of dispatch; checked again %(days)s days after closing.") % {
        "hours": category.deadline_hours,
        "days": category.lookback_days,
    }


def services_queryset() -> QuerySet[EventCategory]:
    return (
        EventCategory.objects.filter(active=True)
        .select_related("facility_kind")
        .prefetch_related("open311_attributes")
        .order_by("code")
    )


def service_doc(category: EventCategory) -> dict[str, Any]:
    group = str(EventClass(category.event_class).label) if category.event_class in EventClass.values else ""
    name = category.local_name
    keywords = [category.name, category.name_en, category.code]
    if category.facility_kind is not None:
        keywords.append(str(category.facility_kind))
    return {
        "service_code": category.code,
        "service_name": name,
        "description": _("%(group)s: %(name)s. %(notice)s")
        % {"group": group, "name": name, "notice": service_notice(category)},
        "metadata": bool(category.open311_attributes.all()),
        "type": "realtime",
        "keywords": ", ".join(k for k in keywords if k),
        "group": group,
    }


def attribute_doc(attribute: ServiceAttribute) -> dict[str, Any]:
    en = english()
    values = []
    for row in attribute.values if attribute.is_list else []:
        if isinstance(row, list) and len(row) >= 2:
            name = row[2] if en and len(row) > 2 and row[2] else row[1]
            values.append({"key": str(row[0]), "name": str(name)})
    return {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description or None,
        "order": attribute.order,
        "description": (attribute.description_en or attribute.description) if en else attribute.description,
        "values": values,
    }


def definition_doc(category: EventCategory) -> dict[str, Any]:
    attributes = sorted(category.open311_attributes.all(), key=lambda a: (a.order, a.code))
    return {"service_code": category.code, "attributes": [attribute_doc(a) for a in attributes]}


def requests_queryset(problems: QuerySet[Problem]) -> QuerySet[Problem]:
    """What ``request_doc`` reads, in a fixed number of queries."""
    last_event = ProblemEvent.objects.filter(problem=OuterRef("pk")).order_by("-at", "-pk").values("at")[:1]
    before = ProblemPhoto.objects.filter(stage=ProblemPhoto.Stage.BEFORE).order_by("pk")
    return (
        problems.select_related("category", "department", "grid", "community", "open311__building")
        .prefetch_related(Prefetch("photos", queryset=before, to_attr="before_photos"))
        .annotate(updated_at=Subquery(last_event))
        .order_by("-reported_at", "-pk")
    )


def status_notes(problem: Problem) -> str:
    label = str(Status(problem.status).label) if problem.status in Status.values else problem.status
    if problem.status == Status.DUPLICATE and problem.duplicate_of_id:
        return _("%(status)s: see request %(id)s") % {"status": label, "id": problem.duplicate_of_id}
    return label


def _address(problem: Problem, submission: Any) -> tuple[str | None, str | None]:
    if submission is not None:
        if submission.address_string:
            return submission.address_string, str(submission.building_id) if submission.building_id else None
        if submission.building is not None and submission.building.address:
            return submission.building.address, str(submission.building_id)
    parts = [area.name for area in (problem.community, problem.grid) if area is not None]
    return (" ".join(parts) or None), None


def request_doc(problem: Problem, request: HttpRequest, *, public: bool) -> dict[str, Any]:
    """One request. ``public``: an anonymous reader (public read) gets no media URL."""
    submission = getattr(problem, "open311", None)
    address, address_id = _address(problem, submission)
    media_url = None
    if not public:
        photos = getattr(problem, "before_photos", None)
        if photos is None:
            photos = list(problem.photos.filter(stage=ProblemPhoto.Stage.BEFORE).order_by("pk")[:1])
        if photos:
            media_url = photo_url(request, problem.pk, photos[0].pk)
        elif submission is not None and submission.media_url:
            media_url = submission.media_url
    return {
        "service_request_id": str(problem.pk),
        "status": "open" if problem.status in OPEN_STATUSES else "closed",
        "status_notes": status_notes(problem),
        "service_name": problem.category.local_name,
        "service_code": problem.category.code,
        "description": problem.description,
        "agency_responsible": problem.department.name if problem.department else None,
        "service_notice": service_notice(problem.category),
        "requested_datetime": w3c(problem.reported_at),
        "updated_datetime": w3c(getattr(problem, "updated_at", None) or problem.reported_at),
        "expected_datetime": w3c(problem.deadline),
        "address": address,
        "address_id": address_id,
        "zipcode": None,
        "lat": problem.geom.y,
        "long": problem.geom.x,
        "media_url": media_url,
    }
