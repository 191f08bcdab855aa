import sys

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import include, path, re_path, reverse
from django.views.decorators.csrf import csrf_exempt

from gridmap.accounts import views as accounts_views
from gridmap.api import errors as api_errors
from gridmap.api.ogc import views as ogc_views
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
    path("ogc/", include("gridmap.api.ogc.urls")),
    path("evaluation/", include("gridmap.evaluation.urls")),
    path("problems/", include("gridmap.problems.urls")),
    path("dashboard/", include("gridmap.dashboard.urls")),
    path("imports/", include("gridmap.imports.urls")),
    path("inbox/", include("gridmap.notifications.urls")),
    path("steps/", include("gridmap.tensteps.urls")),
    path("patrols/", include("gridmap.patrols.urls")),
    path("surveys/", include("gridmap.surveys.urls")),
    path("campaign/", include("gridmap.campaign.urls")),
    path("", include("gridmap.maps.urls")),
]
# Uploaded files (MEDIA_ROOT) are never served as /media/, in debug or not: photos are read only
# through the scoped photo views (api/views/media.py, problems/views.py's photo).


# -- the machine interfaces answer in their own format, always --------------------------------
# (see gridmap/core/faults.py): the API's JSON under /api/, Open311's JSON or XML under /open311/,
# a plain page elsewhere. ``INTERFACES`` is the one rule: for each first path segment, the answer
# to a path no view serves (a catch-all route below, exempt from CSRF so that a POST to a path
# without its slash gets the 404 that says so, and valid in Django's eyes so that APPEND_SLASH
# never redirects a POST or raises in debug; in debug too, where Django's own 404 is an HTML page)
# and to any failure no view answered. Django calls the handlers below for an uncaught exception
# (500, or 503 when the database is down or timed out), a 404 or 403 raised outside the
# interfaces' views, a bad request, and a failed CSRF check (settings.CSRF_FAILURE_VIEW).
def _api_fault(request: HttpRequest, status: int, message: str | None) -> HttpResponse:
    if status == 404 and message is None:
        return api_errors.not_found(request)
    return api_errors.fault(status, message or faults.messages()[status])


def _open311_fault(request: HttpRequest, status: int, message: str | None) -> HttpResponse:
    return open311_views.fault(request, status, (lambda: message) if message else None)


def _ogc_fault(request: HttpRequest, status: int, message: str | None) -> HttpResponse:
    if status == 404 and message is None:
        return ogc_views.not_found(request)
    return api_errors.fault(status, message or faults.messages()[status])


INTERFACES = {
    "api": _api_fault,
    "open311": _open311_fault,
    "ogc": _ogc_fault,
}


def _unserved(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return fault(request, 404)


def _ogc_without_slash(request: HttpRequest) -> HttpResponse:
    """``/ogc`` is what a GIS user types for the landing page ``/ogc/``: a GET is sent there."""
    if request.method not in ("GET", "HEAD"):
        return fault(request, 404)
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(reverse("ogc:landing") + (f"?{query}" if query else ""))


urlpatterns += [re_path(r"^ogc$", csrf_exempt(_ogc_without_slash))]
urlpatterns += [re_path(rf"^{prefix}(?:/|$)", csrf_exempt(_unserved)) for prefix in INTERFACES]


def part(request: HttpRequest) -> str:
    """The interface asked ("api", "open311", ...), or "" (pages), from the first path segment."""
    first = request.path_info.lstrip("/").split("/", 1)[0]
    return first if first in INTERFACES else ""


def fault(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    where = part(request)
    if where:
        return INTERFACES[where](request, status, message)
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
    if part(request) == "open311":  # the message in the language the request asks
        return open311_views.fault(request, 403, lambda: faults.csrf_message(reason))
    return fault(request, 403, faults.csrf_message(reason))


handler400 = bad_request
handler403 = permission_denied
handler404 = page_not_found
handler500 = server_error
