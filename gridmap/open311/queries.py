"""``GET requests``: the spec's filters over the problems the caller may see.

service_request_id (comma list) overrides every other filter. Otherwise requests are those
requested in [start_date, end_date] (W3C datetimes; a window of at most 90 days, the last 90
days by default), of the given service codes and statuses (open, closed), newest first, at most
1000.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from gridmap.geography.models import District
from gridmap.open311.access import Caller, param, public_read
from gridmap.open311.formats import Open311Error
from gridmap.problems.models import DONE_STATUSES, OPEN_STATUSES, EventCategory, Problem, Status
from gridmap.problems.selectors import problems_visible_to

MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
MAX_ID_DIGITS = 18


def problems_for(caller: Caller) -> QuerySet[Problem]:
    """Problems the caller may read: their scope (``problems_visible_to``) when known; everyone's
    except rejected reports for an anonymous reader when public read is on; none otherwise."""
    if caller.anonymous:
        if public_read():
            return Problem.objects.exclude(status=Status.REJECTED)
        raise Open311Error(403, _("Reading requests needs an api_key (public read is off)."))
    return problems_visible_to(caller.user)


def in_jurisdiction(problems: QuerySet[Problem], district: District | None) -> QuerySet[Problem]:
    return problems if district is None else problems.filter(community__subdistrict__district=district)


def parse_id(raw: str) -> int:
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > MAX_ID_DIGITS or not raw.isascii():
        raise Open311Error(400, _("service_request_id must be whole numbers separated by commas."))
    return int(raw)


def parse_when(raw: str, name: str, *, end: bool = False) -> datetime:
    """A W3C datetime with its time zone, or a date (the whole day in the site's time zone)."""
    error = Open311Error(
        400,
        _("%(name)s must be a W3C datetime with a time zone, e.g. 2024-05-01T00:00:00+08:00.")
        % {"name": name},
    )
    if len(raw) > 40:
        raise error
    try:
        day = parse_date(raw) if len(raw) == 10 else None
        if day is not None:
            value = timezone.make_aware(datetime.combine(day, time.max if end else time.min))
        else:
            value = parse_datetime(raw)
            if value is None:
                raise error
    except (ValueError, OverflowError):
        raise error from None
    if timezone.is_naive(value) or not 1900 <= value.year <= 2999:
        raise error
    return value


def _codes(raw: str) -> list[str]:
    return [c.strip() for c in raw.split(",") if c.strip()]


def filter_requests(problems: QuerySet[Problem], request: HttpRequest) -> QuerySet[Problem]:
    ids_raw = param(request, "service_request_id")
    if ids_raw:
        ids = [parse_id(i) for i in ids_raw.split(",") if i.strip()]
        if len(ids) > MAX_RESULTS:
            raise Open311Error(400, _("At most 1000 service_request_id values at once."))
        return problems.filter(pk__in=ids)
    codes = _codes(param(request, "service_code"))
    if codes:
        known = set(EventCategory.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = sorted(set(codes) - known)
        if unknown:
            raise Open311Error(400, _("Unknown service_code: %(codes)s") % {"codes": ", ".join(unknown[:5])})
        problems = problems.filter(category__code__in=codes)
    statuses = {s.lower() for s in _codes(param(request, "status"))}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status must be open, closed or both (comma separated)."))
    if statuses == {"open"}:
        problems = problems.filter(status__in=OPEN_STATUSES)
    elif statuses == {"closed"}:
        problems = problems.filter(status__in=DONE_STATUSES)
    start_raw, end_raw = param(request, "start_date"), param(request, "end_date")
    start = parse_when(start_raw, "start_date") if start_raw else None
    end = parse_when(end_raw, "end_date", end=True) if end_raw else None
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Error(400, _("end_date is before start_date."))
    if end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date and end_date may not span more than 90 days."))
    return problems.filter(reported_at__gte=start, reported_at__lte=end)
