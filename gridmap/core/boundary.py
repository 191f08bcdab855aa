"""The input boundary for numbers, times and text: one rule each, called by every door (the API,
Open311, the web forms and steps, EXIF, the import rows). Geometry is checked in
``gridmap.core.geoinput`` / ``layers.validate``.

- **Text** from outside is refused, never silently changed, when it holds a control character
  (C0 other than tab, line feed and carriage return; DEL; C1 U+0080–U+009F; NUL among them) or a
  lone surrogate: neither database stores NUL in text (PostgreSQL refuses it), a lone surrogate
  cannot be encoded, and Excel files cannot hold control characters. A door turns the refusal into
  its own 4xx (or a rejected import row with its reason). ``printable`` is the writers' side: what
  is already stored is made safe for a file without changing what is stored.
- **Times** from outside lie in a plausible window: not before 2000-01-01 (UTC) and not later than
  now plus ``CLOCK_SKEW`` (a phone's clock may run a few minutes fast). A time outside it is
  refused by the API, Open311 and the forms, rejects an import row, and is dropped (not stored,
  the photo still accepted) when it comes from a photo's EXIF.
- **Whole numbers** written as text are ASCII digits only (``'²'.isdigit()`` is true, yet
  ``int('²')`` fails) and at most ``MAX_DIGITS`` long (``int`` of a 5,000-digit string raises).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import BadRequest, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TIME_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
# What a time column may hold at all (a database CHECK, see ``storable_times``): a day inside
# Python's years 1..9999, so that moving it to any time zone still gives a date Python and
# PostgreSQL can represent (a year-1 time east of UTC is a BC date PostgreSQL stores and no read
# can load; 9999-12-31 23:00 UTC overflows in Asia/Shanghai).
STORABLE = (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC))
CLOCK_SKEW = timedelta(minutes=10)
MAX_DIGITS = 18  # fits a 64-bit signed integer
# C0 except \t \n \r, DEL, C1, and lone surrogates (U+D800–U+DFFF never stand alone in valid text).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
ASCII_DIGITS = re.compile(r"[0-9]+")


class BoundaryError(ValueError):
    """Input refused at the boundary; ``code`` names the rule, ``message`` says it to the user."""

    def __init__(self, code: str, message: Any) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message


# -- text ------------------------------------------------------------------------------------
def check_text(value: str, *, max_chars: int | None = None) -> str:
    """``value`` unchanged when it is storable text; BoundaryError otherwise."""
    if not isinstance(value, str):
        raise BoundaryError("text_type", _("Must be text."))
    if max_chars is not None and len(value) > max_chars:
        raise BoundaryError("text_too_long", _("At most %(n)s characters.") % {"n": max_chars})
    bad = FORBIDDEN.search(value)
    if bad is not None:
        if "\ud800" <= bad.group() <= "\udfff":
            raise BoundaryError("text_surrogate", _("Must be valid Unicode text."))
        raise BoundaryError(
            "text_control",
            _("Must not contain control characters (here U+%(code)04X).") % {"code": ord(bad.group())},
        )
    return value


class RefusedRequest(BadRequest):
    """A request refused at the boundary outside a form or an API view (e.g. an admin list's
    query values): the 400 handler shows its message, in the format of the part of the site."""


def text_validator(value: str) -> None:
    """``check_text`` as a Django field validator (forms, admin)."""
    try:
        check_text(value)
    except BoundaryError as exc:
        raise ValidationError(exc.message, code=exc.code) from None


def printable(value: str) -> str:
    """Text made safe for a file (Excel, CSV) or a cleaned record: control characters removed,
    lone surrogates replaced by U+FFFD. Tab, line feed and carriage return stay."""
    if not FORBIDDEN.search(value):
        return value
    return FORBIDDEN.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", value)


# -- times -----------------------------------------------------------------------------------
def check_time(when: datetime, *, now: datetime | None = None) -> datetime:
    """``when`` (aware; a naive time is the site's) unchanged when inside the window."""
    if timezone.is_naive(when):
        try:
            when = timezone.make_aware(when)
        except (OverflowError, ValueError):
            raise BoundaryError("time_early", _("Must not be before 2000-01-01.")) from None
    try:
        early = when < TIME_FLOOR
    except OverflowError:  # a time a few hours from year 1 or 9999 cannot be moved to UTC
        early = when.year < TIME_FLOOR.year
        if not early:
            raise BoundaryError("time_future", _("Must not be in the future.")) from None
    if early:
        raise BoundaryError("time_early", _("Must not be before 2000-01-01."))
    if when > (now or timezone.now()) + CLOCK_SKEW:
        raise BoundaryError("time_future", _("Must not be in the future."))
    return when


def time_validator(value: datetime | None) -> None:
    """``check_time`` as a Django field validator (admin)."""
    if value is not None:
        try:
            check_time(value)
        except BoundaryError as exc:
            raise ValidationError(exc.message, code=exc.code) from None


def plausible_time(when: datetime | None, *, now: datetime | None = None) -> datetime | None:
    """For sources whose time is optional (EXIF): the time when inside the window, else None."""
    if when is None:
        return None
    try:
        return check_time(when, now=now)
    except BoundaryError:
        return None


# -- numbers ---------------------------------------------------------------------------------
def whole_number(value: Any, *, lo: int, hi: int, max_digits: int = MAX_DIGITS) -> int:
    """An int (not a bool) or text of ASCII digits, inside ``lo..hi``."""
    if isinstance(value, bool):
        raise BoundaryError("not_whole", _("Must be a whole number."))
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        digits = value.strip()
        if len(digits) > max_digits or not ASCII_DIGITS.fullmatch(digits):
            raise BoundaryError("not_whole", _("Must be a whole number."))
        number = int(digits)
    else:
        raise BoundaryError("not_whole", _("Must be a whole number."))
    if not lo <= number <= hi:
        raise BoundaryError("out_of_range", _("Must be between %(lo)s and %(hi)s.") % {"lo": lo, "hi": hi})
    return number


def storable_times(name: str, *fields: str, nullable: tuple[str, ...] = ()) -> models.CheckConstraint:
    """One CHECK constraint keeping each time column of a model inside ``STORABLE``: whatever
    the ORM writes, every read can load it and show it in local time."""
    condition = models.Q()
    for field in fields:
        inside = models.Q(**{f"{field}__range": STORABLE})
        condition &= (models.Q(**{f"{field}__isnull": True}) | inside) if field in nullable else inside
    return models.CheckConstraint(condition=condition, name=name)


class BoundaryAdminMixin:
    """For a ModelAdmin: its text fields take the text rule and its time fields the window."""

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if field is not None and isinstance(db_field, (models.CharField, models.TextField)):
            field.validators.append(text_validator)
        elif field is not None and isinstance(db_field, models.DateTimeField):
            field.validators.append(time_validator)
        return field
