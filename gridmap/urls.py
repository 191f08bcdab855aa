import sys

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from gridmap.accounts import views as accounts_views
from gridmap.api import errors as api_errors
from gridmap.core import faults
from gridmap.core.boundary import RefusedRequest
from gridmap.core.health import health
from gridmap.open311 import views as open311_views

API, OPEN311 = "api/v1/", "open311/v2/"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", health, name="health"),
    path("signup/", accounts_views.signup, name="signup"),
    path("admin/", admin.site.urls),
    path(API, include("gridmap.api.urls")),
    path(OPEN311, include("gridmap.open311.urls")),
    path("ogc/", include("gridmap.ogcapi.urls")),
    path("evaluation/", include("gridmap.evaluation.urls")),
    path("problems/", include("gridmap.problems.urls")),
    path("dashboard/", include("gridmap.dashboard.urls")),
    path("imports/", include("gridmap.imports.urls")),
    path("inbox/", include("gridmap.notifications.urls")),
    path("", include("gridmap.maps.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)


# -- failures no view answered, in the format of the part of the site that was asked ------------
# (see gridmap/core/faults.py): the API's JSON under /api/, Open311's JSON or XML under /open311/,
# a plain page elsewhere. Django calls these for an uncaught exception (500, or 503 when the
# database is down or timed out), a 404 or 403 raised outside the API, a bad request, and a failed
# CSRF check (settings.CSRF_FAILURE_VIEW).
def part(request: HttpRequest) -> str:
    """ "api", "open311" or "" (pages), from the first segment of the path."""
    first = request.path_info.lstrip("/").split("/", 1)[0]
    return first if first in ("api", "open311") else ""


def fault(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    where = part(request)
    if where == "api":
        if status == 404 and message is None:
            return api_errors.not_found(request)
        return api_errors.fault(status, message or faults.messages()[status])
    if where == "open311":
        return open311_views.fault(request, status, (lambda: message) if message else None)
    return faults.fault_page(status, message)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return fault(request, 400, str(exception) if isinstance(exception, RefusedRequest) else None)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return fault(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return fault(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception, so it is still at hand
    return fault(request, 503 if faults.database_unavailable(sys.exc_info()[1]) else 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if part(request) == "open311":
        return open311_views.fault(request, 403, lambda: faults.csrf_message(reason))
    return fault(request, 403, faults.csrf_message(reason))


handler400 = bad_request
handler403 = permission_denied
handler404 = page_not_found
handler500 = server_error
