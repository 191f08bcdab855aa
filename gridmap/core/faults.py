"""Failures outside a view's own answers (an exception nobody caught, a database that is down or
too slow, a 404 no view answered, a failed CSRF check): what they are and what a page says.

The answer is chosen by path in one place, the handlers of ``gridmap/urls.py``: the API answers
in its shape (``gridmap.api.errors.fault``), Open311 in its own format, JSON or XML
(``gridmap.open311.views.fault``), and pages with ``fault_page`` below. A database that cannot be
reached, or that cancelled a statement at its timeout, is a 503 with ``Retry-After``, not a 500:
the request may be repeated (an API report with the same ``client_uuid`` is stored once).
Nothing about the exception is shown; it is logged (``django.request``).
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 5
# SQLite raises OperationalError for mistakes in SQL as well; only these mean "busy or unavailable".
SQLITE_UNAVAILABLE = ("locked", "unable to open", "disk i/o", "disk is full")


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` says the database is down, unreachable, busy or timed out (worth a retry)."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    if connections["default"].vendor == "sqlite":
        return any(word in str(exc).lower() for word in SQLITE_UNAVAILABLE)
    return True


def titles() -> dict[int, str]:
    return {
        400: _("Bad request"),
        403: _("Forbidden"),
        404: _("Not found"),
        405: _("Method not allowed"),
        500: _("Server error"),
        503: _("Service unavailable"),
    }


def messages() -> dict[int, str]:
    """What each failure says, the same words on pages, in the API and in Open311."""
    return {
        400: _("The request could not be understood."),
        403: _("You may not do this."),
        404: _("There is nothing at this address."),
        405: _("Method not allowed."),
        500: _("Something went wrong on the server. It has been logged; please try again later."),
        503: _("The database is not available at the moment. Please try again shortly."),
    }


def csrf_message(reason: str) -> str:
    return _("The request was refused: its CSRF check failed (%(reason)s).") % {"reason": reason}


def with_retry_after(response: HttpResponse) -> HttpResponse:
    if response.status_code == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def fault_page(status: int, message: str | None = None) -> HttpResponse:
    """A plain page for a failure: no base template, no database, nothing of the request."""
    context = {
        "status": status,
        "title": titles().get(status, str(status)),
        "message": message or messages().get(status, ""),
        "retry_after": RETRY_AFTER_SECONDS if status == 503 else None,
    }
    body = render_to_string("fault.html", context)
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return with_retry_after(response)
