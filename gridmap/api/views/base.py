"""The base of every API view: token or session auth, signed-in users only, JSON in and out,
and one error shape (``gridmap.api.errors``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from gridmap.api.auth import AUTHENTICATION
from gridmap.api.errors import api_exception_handler
from gridmap.api.renderers import ORJSONRenderer


class OneRepresentation(BaseContentNegotiation):
    """Every operation has one representation (GeoJSON for features, JSON otherwise, a photo as
    stored), which the document names: ``Accept`` chooses nothing, so a client asking for
    ``application/geo+json`` gets it rather than a 406."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class ApiView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = (IsAuthenticated,)
    renderer_classes = (ORJSONRenderer,)
    content_negotiation_class = OneRepresentation
    # parser_classes: REST_FRAMEWORK's default, the bounded JSON parser (gridmap.core.jsonbody)

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Any]:
        return api_exception_handler
