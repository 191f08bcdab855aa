"""``/api/v1/``: a small public index that links a client to the OpenAPI document and its UI; the
document's and the UI's views answer their errors (a POST, a PUT) in the API's JSON too."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from gridmap.api.errors import api_exception_handler
from gridmap.api.renderers import json_response


class SchemaView(SpectacularAPIView):
    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return api_exception_handler


class DocsView(SpectacularSwaggerView):
    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return api_exception_handler


@csrf_exempt  # answers a 405 to anything but GET and HEAD
def index(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = json_response({"detail": _("Method not allowed: GET.")}, status=405)
        response["Allow"] = "GET, HEAD"
        return response

    def link(name: str, rel: str, media_type: str, title: str) -> dict[str, str]:
        href = request.build_absolute_uri(reverse(name))
        return {"href": href, "rel": rel, "type": media_type, "title": title}

    return json_response({
        "title": "gridmap API v1",
        "links": [
            link("api:index", "self", "application/json", "This index"),
            link("api:schema", "service-desc", "application/vnd.oai.openapi", "The OpenAPI 3 document"),
            link("api:docs", "service-doc", "text/html", "The document's interactive page"),
            link("api:token", "token", "application/json", "Ask for a token (POST username and password)"),
        ],
    })  # fmt: skip
