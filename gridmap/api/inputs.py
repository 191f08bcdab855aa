"""Request bodies, checked field by field before any service runs: unknown and missing fields,
wrong types, over-long text, text a database cannot store (NUL, lone surrogates), times.

Coordinates are not checked here: they go raw to the services, which check them as numbers
before building a geometry. Errors are DRF ValidationErrors keyed by field (a 400).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from gridmap.api.params import parse_when
from gridmap.core import jsonbody
from gridmap.core.boundary import BoundaryError, check_text, check_time


def _error(name: str, message: str) -> ValidationError:
    return ValidationError({name: [message]})


def check_fields(data: Any, allowed: Collection[str], required: Collection[str] = ()) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationError({"detail": _("Send a JSON object.")})
    unknown = sorted(str(k)[:40] for k in data if k not in allowed)
    if unknown:
        raise ValidationError(
            {
                "detail": _("Unknown field %(names)s; accepted: %(allowed)s.")
                % {"names": ", ".join(unknown[:5]), "allowed": ", ".join(sorted(allowed))}
            }  # fmt: skip
        )
    missing = [name for name in required if name not in data or data[name] in (None, "")]
    if missing:
        raise ValidationError({name: [_("This field is required.")] for name in missing})
    return data


def text(
    data: Mapping[str, Any], name: str, max_chars: int, *, required: bool = False, strip: bool = True
) -> str:
    """A text field as stored: a string of at most ``max_chars`` characters that PostgreSQL and
    SQLite can both hold and files can carry (``gridmap.core.boundary.check_text``: no control
    characters, no lone surrogates). HTML in it stays text (escaped where it is shown)."""
    value = data.get(name)
    if value is None:
        if required:
            raise _error(name, _("This field is required."))
        return ""
    try:
        check_text(value, max_chars=max_chars)
    except BoundaryError as exc:
        raise _error(name, str(exc.message)) from None
    value = value.strip() if strip else value
    if required and not value:
        raise _error(name, _("This field is required."))
    return value


def client_uuid(data: Mapping[str, Any], name: str = "client_uuid") -> uuid.UUID | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise _error(name, _("Must be a UUID."))
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _error(name, _("Must be a UUID.")) from None


def past_time(data: Mapping[str, Any], name: str) -> datetime | None:
    """An ISO 8601 time inside the boundary's window: not before 2000 and not in the future (a
    phone's clock may run a few minutes fast)."""
    value = data.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise _error(name, _("Must be an ISO 8601 time such as 2024-05-01T08:30:00+08:00."))
    when = parse_when(value, name)
    try:
        return check_time(when)
    except BoundaryError as exc:
        raise _error(name, str(exc.message)) from None


def json_object(value: Any, name: str, *, max_keys: int = 20) -> dict[str, Any]:
    """An object field; in a multipart form it arrives as JSON text."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:  # the one JSON rule for bodies (depth and size bounded)
            value = jsonbody.loads(value, max_bytes=10_000)
        except jsonbody.JSONBodyError:
            raise _error(name, _("Must be a JSON object.")) from None
    if not isinstance(value, dict) or len(value) > max_keys:
        raise _error(name, _("Must be a JSON object of at most %(n)s members.") % {"n": max_keys})
    return value


# -- the bodies -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Intake:
    lon: Any
    lat: Any
    category: str
    description: str
    client_uuid: uuid.UUID | None
    reported_at: datetime | None


INTAKE_FIELDS = ("lon", "lat", "category", "description", "client_uuid", "reported_at")


def intake(data: Any) -> Intake:
    data = check_fields(data, INTAKE_FIELDS, ("lon", "lat", "category"))
    category = data["category"]
    if not isinstance(category, str) or not category.isascii() or not category.isalnum() or len(category) > 8:
        raise _error("category", _("Unknown event category."))
    return Intake(
        lon=data["lon"],
        lat=data["lat"],
        category=category,
        description=text(data, "description", 4000),
        client_uuid=client_uuid(data),
        reported_at=past_time(data, "reported_at"),
    )


@dataclass(frozen=True)
class Step:
    action: str
    note: str
    lon: Any
    lat: Any
    params: dict[str, Any]


STEP_FIELDS = ("action", "note", "lon", "lat", "params")


def step(data: Any) -> Step:
    data = check_fields(data, STEP_FIELDS, ("action",))
    action = data["action"]
    if not isinstance(action, str) or len(action) > 40:
        raise _error("action", _("Must be the name of a step, such as file or dispatch."))
    return Step(
        action=action,
        note=text(data, "note", 2000),
        lon=data.get("lon"),
        lat=data.get("lat"),
        params=json_object(data.get("params"), "params"),
    )


@dataclass(frozen=True)
class Site:
    lon: Any
    lat: Any
    name: str
    description: str


def site(data: Any) -> Site:
    data = check_fields(data, ("lon", "lat", "name", "description"), ("lon", "lat", "name"))
    return Site(
        data["lon"], data["lat"], text(data, "name", 200, required=True), text(data, "description", 4000)
    )


def form_fields(request_data: Any, files: Any) -> dict[str, Any]:
    """A multipart form as a plain dict (one value per field; files by name), for ``check_fields``."""
    out: dict[str, Any] = {}
    for name in request_data:
        values = request_data.getlist(name) if hasattr(request_data, "getlist") else [request_data[name]]
        if name in files:
            out[name] = files.getlist(name)
        elif len(values) != 1:
            raise _error(str(name)[:40], _("Give this field once."))
        else:
            out[name] = values[0]
    return out
