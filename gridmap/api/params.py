"""Query-string parameters, parsed strictly: anything malformed is a 400 with a message saying
what is expected, never a 500 and never silently ignored.

Coordinates (``bbox``) are checked as raw numbers by ``layers.validate.BBox.parse`` before a
GEOS polygon is built. Times are ISO 8601; one without an offset is Asia/Shanghai time (the
project's TIME_ZONE).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, time

from django.contrib.gis.geos import Polygon
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from gridmap.api.errors import bad_request
from gridmap.core.boundary import BoundaryError, check_text, whole_number
from gridmap.core.geoinput import as_validation_error
from layers.validate import BBox, GeometryInputError

MAX_LIST_ITEMS = 100  # a street's grids in one list
MAX_CODE_CHARS = 40
MAX_VALUE_CHARS = MAX_LIST_ITEMS * (MAX_CODE_CHARS + 1)  # the longest list of the longest codes
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_PAGE = 1_000_000
PAGING = frozenset({"page", "page_size"})
CODE = re.compile(rf"[0-9A-Za-z_-]{{1,{MAX_CODE_CHARS}}}")
# "+08:00" sent unencoded in a query string arrives as " 08:00".
SPACE_OFFSET = re.compile(r"^(\S+[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d(?::?\d\d)?)$")


@dataclass(frozen=True)
class Paging:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def check_names(query: QueryDict, allowed: Collection[str]) -> dict[str, str]:
    """The parameters as a dict; unknown or repeated names and over-long values are refused."""
    unknown = sorted(set(query) - set(allowed))
    if unknown:
        raise bad_request(
            _("Unknown parameter %(names)s; accepted: %(allowed)s.")
            % {"names": ", ".join(n[:40] for n in unknown[:5]), "allowed": ", ".join(sorted(allowed))}
        )
    out: dict[str, str] = {}
    for name in query:
        values = query.getlist(name)
        if len(values) != 1:
            raise bad_request(_("Give %(name)s once.") % {"name": name})
        if len(values[0]) > MAX_VALUE_CHARS:
            raise bad_request(_("%(name)s is too long.") % {"name": name})
        try:
            check_text(values[0])
        except BoundaryError as exc:
            raise bad_request(f"{name}: {exc.message}") from None
        out[name] = values[0]
    return out


def _whole_number(raw: str, name: str) -> int:
    try:
        return whole_number(raw, lo=0, hi=10**12 - 1, max_digits=12)
    except BoundaryError:
        raise bad_request(_("%(name)s must be a positive whole number.") % {"name": name}) from None


def parse_paging(params: dict[str, str]) -> Paging:
    page = _whole_number(params["page"], "page") if "page" in params else 1
    size = _whole_number(params["page_size"], "page_size") if "page_size" in params else DEFAULT_PAGE_SIZE
    if not 1 <= page <= MAX_PAGE:
        raise bad_request(_("page must be between 1 and %(max)s.") % {"max": MAX_PAGE})
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_request(_("page_size must be between 1 and %(max)s.") % {"max": MAX_PAGE_SIZE})
    return Paging(page, size)


def parse_bbox(raw: str) -> Polygon:
    """``minlon,minlat,maxlon,maxlat`` in WGS84, checked as numbers before the polygon exists."""
    try:
        box = BBox.parse(raw)
    except GeometryInputError as exc:
        raise bad_request(" ".join(as_validation_error(exc).messages)) from None
    polygon = Polygon.from_bbox((box.min_lon, box.min_lat, box.max_lon, box.max_lat))
    polygon.srid = 4326
    return polygon


def parse_codes(raw: str, name: str) -> list[str]:
    """A comma list of codes (letters, digits, ``_`` and ``-``; no spaces, no empty items)."""
    items = raw.split(",")
    if not items or len(items) > MAX_LIST_ITEMS or not all(CODE.fullmatch(i) for i in items):
        raise bad_request(
            _("%(name)s must be a comma-separated list of codes (at most %(n)s).")
            % {"name": name, "n": MAX_LIST_ITEMS}
        )
    return items


def parse_choices(raw: str, name: str, choices: Iterable[str]) -> list[str]:
    allowed = list(choices)
    items = parse_codes(raw, name)
    wrong = [i for i in items if i not in allowed]
    if wrong:
        raise bad_request(
            _("%(name)s: unknown value %(value)s; accepted: %(allowed)s.")
            % {"name": name, "value": wrong[0], "allowed": ", ".join(allowed)}
        )
    return items


def parse_flag(raw: str, name: str) -> bool:
    if raw in ("1", "true"):
        return True
    if raw in ("0", "false"):
        return False
    raise bad_request(_("%(name)s must be 1 or 0.") % {"name": name})


def parse_when(raw: str, name: str) -> datetime:
    """An ISO 8601 time (``2024-05-01T08:30:00+08:00``) or date; without an offset it is local
    (Asia/Shanghai) time, and a date alone means its midnight."""
    text = SPACE_OFFSET.sub(r"\1+\2", raw.strip())
    try:
        value = parse_datetime(text)
        if value is None:
            day = parse_date(text)
            value = datetime.combine(day, time()) if day else None
    except (ValueError, OverflowError):
        value = None
    if value is None:
        raise bad_request(
            _("%(name)s must be an ISO 8601 time such as 2024-05-01T08:30:00+08:00.") % {"name": name}
        )
    if not 1970 <= value.year <= 2100:
        raise bad_request(_("%(name)s must be between 1970 and 2100.") % {"name": name})
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value
