"""``/api/v1/``: a small public index that links a client to the OpenAPI document and its UI; the
document's and the UI's views answer their errors (a POST, a PUT, an unknown parameter) in the
API's JSON too."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

from gridmap.api.errors import api_exception_handler, bad_request
from gridmap.api.openapi import STR, obj
from gridmap.api.params import check_names
from gridmap.api.renderers import json_response
from gridmap.api.schema import responses
from gridmap.api.views.base import ApiView

LANGUAGES = [code for code, _name in settings.LANGUAGES]
FORMATS = ["json", "yaml"]
_OPENAPI_TYPES = ["application/vnd.oai.openapi", "application/yaml", "application/vnd.oai.openapi+json",
                  "application/json"]  # fmt: skip


class SchemaView(SpectacularAPIView):
    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return api_exception_handler

    @extend_schema(
        tags=["index"],
        parameters=[
            OpenApiParameter("format", {"type": "string", "enum": FORMATS}, description="json or yaml"),
            OpenApiParameter(
                "lang", {"type": "string", "enum": LANGUAGES}, description="The document's language."
            ),
        ],
        responses={
            **{(200, t): {"type": "object", "additionalProperties": True} for t in _OPENAPI_TYPES},
            # an unknown format: no renderer for it (DRF's format suffix), a 404
            **{(code, "application/json"): answer for code, answer in responses({}, 404).items()},
        },
    )
    def get(self, request: Request, *args, **kwargs):  # type: ignore[no-untyped-def]
        """This OpenAPI 3 document (YAML, or JSON when asked: ``format=json`` or the Accept header)."""
        values = check_names(request.query_params, {"format", "lang"})
        if values.get("lang", LANGUAGES[0]) not in LANGUAGES:
            raise bad_request(_("lang must be one of: %(languages)s.") % {"languages": ", ".join(LANGUAGES)})
        return super().get(request, *args, **kwargs)


class DocsView(SpectacularSwaggerView):
    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return api_exception_handler


LINK = obj({"href": {"type": "string", "format": "uri"}, "rel": STR, "type": STR, "title": STR})


class Index(ApiView):
    """The API's landing page; public."""

    permission_classes = (AllowAny,)

    @extend_schema(
        tags=["index"],
        operation_id="index",
        responses=responses({200: obj({"title": STR, "links": {"type": "array", "items": LINK}})}),
    )
    def get(self, request: Request) -> HttpResponse:
        """Links to the OpenAPI document (``service-desc``), its interactive page (``service-doc``)
        and the token endpoint."""
        check_names(request.query_params, ())

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


index = Index.as_view()
