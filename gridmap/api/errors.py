"""One error shape for the API: every error body is JSON ``{"detail": "..."}``, 4xx and 5xx alike
(a failure no view answered, such as an uncaught exception or a database that is down, comes
through ``fault`` from the handlers in ``gridmap/urls.py``: a 500, or a 503 with ``Retry-After``).

Exceptions raised by services and selectors keep their meaning here: Django's ValidationError is
a 400 (its messages joined into ``detail``, field messages also under ``errors``), a missing or
invisible object a 404, ``TransitionForbidden`` a 403 and ``TransitionConflict`` a 409 that also
names the current status and the steps allowed from it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from gridmap.api.renderers import json_response
from gridmap.core.faults import with_retry_after
from gridmap.problems.lifecycle import TransitionConflict, TransitionForbidden
from layers.validate import GeometryInputError


class Conflict(exceptions.APIException):
    """409; for a step out of order, with the problem's current status and the steps allowed."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, detail: str, *, current: str | None = None, allowed: list[str] | None = None) -> None:
        super().__init__(detail)
        self.current = current
        self.allowed = allowed


def bad_request(message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({"detail": message})


def _flatten(detail: Any) -> tuple[str, dict[str, list[str]] | None]:
    """A DRF error detail (str, list or dict) as one message plus the per-field messages."""
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for key, value in detail.items():
            fields[str(key)] = [str(v) for v in (value if isinstance(value, list) else [value])]
        parts = [
            m if key in ("detail", "non_field_errors") else f"{key}: {m}"
            for key, msgs in fields.items()
            for m in msgs
        ]
        extra = {k: v for k, v in fields.items() if k not in ("detail", "non_field_errors")}
        return " ".join(parts), extra or None
    if isinstance(detail, list):
        return " ".join(str(d) for d in detail), None
    return str(detail), None


def _django_validation(exc: DjangoValidationError) -> tuple[str, dict[str, list[str]] | None]:
    if hasattr(exc, "error_dict"):
        return _flatten({k: [str(m) for m in v] for k, v in exc.message_dict.items()})
    return " ".join(str(m) for m in exc.messages), None


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, TransitionConflict):
        return Conflict(str(exc), current=exc.status, allowed=exc.allowed)
    if isinstance(exc, TransitionForbidden | PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, ObjectDoesNotExist | Http404):
        return exceptions.NotFound(_("Not found, or not yours to see."))
    if isinstance(exc, RequestDataTooBig):
        error = exceptions.APIException(_("The request body is too large."))
        error.status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        return error
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent | SuspiciousOperation):
        return exceptions.ValidationError({"detail": _("The request is malformed.")})
    return None


def _unsupported(view: Any) -> exceptions.UnsupportedMediaType:
    types = [parser.media_type for parser in getattr(view, "parser_classes", ())]
    if types == ["application/json"]:
        message = _("Send this request as JSON (Content-Type: application/json).")
    else:
        message = _("Send this request as one of: %(types)s.") % {"types": ", ".join(types)}
    return exceptions.UnsupportedMediaType("", detail=message)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """DRF exception handler: JSON ``{"detail": ...}`` for every client error; None (a 500) only for
    real faults."""
    if isinstance(exc, GeometryInputError):
        from gridmap.core.geoinput import as_validation_error

        exc = as_validation_error(exc)
    if isinstance(exc, DjangoValidationError):
        message, fields = _django_validation(exc)
        set_rollback()
        body: dict[str, Any] = {"detail": message}
        if fields:
            body["errors"] = fields
        return json_response(body, status=400)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        exc = _unsupported(context.get("view"))
    converted = _as_api_exception(exc)
    if converted is not None:
        exc = converted
    if isinstance(exc, Conflict):
        set_rollback()
        body = {"detail": str(exc.detail)}
        if exc.current is not None:
            body.update(status=exc.current, allowed=exc.allowed or [])
        return json_response(body, 409)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    message, fields = _flatten(response.data)
    body = {"detail": message}
    if fields:
        body["errors"] = fields
    out = json_response(body, status=response.status_code)
    for header, value in response.items():
        if header.lower() in ("www-authenticate", "retry-after", "allow"):
            out[header] = value
    return out


@csrf_exempt  # it does nothing: a POST to a path without its slash gets this 404, not a CSRF page
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Anything under /api/ that matches no endpoint (URLs end with a slash; a path that would
    match with one is named)."""
    path = request.path_info
    if not path.endswith("/") and _served(path + "/"):
        message = _("No such API endpoint: API paths end with a slash (%(path)s).") % {"path": path + "/"}
    else:
        message = _("No such API endpoint (API paths end with a slash).")
    return json_response({"detail": message}, status=404)


def _served(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return getattr(match.func, "__name__", "") not in ("not_found", "_unserved")


def fault(status: int, message: str) -> HttpResponse:
    """A failure no API view answered (gridmap/urls.py's handlers): the API's shape, and
    ``Retry-After`` on a 503."""
    return with_retry_after(json_response({"detail": message}, status=status))
