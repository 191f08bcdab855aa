"""The base of every API view: token or session auth, signed-in users only, JSON in and out,
and one error shape (``gridmap.api.errors``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from gridmap.api.auth import AUTHENTICATION
from gridmap.api.errors import api_exception_handler
from gridmap.api.renderers import ORJSONRenderer


class ApiView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = (IsAuthenticated,)
    renderer_classes = (ORJSONRenderer,)
    # parser_classes: REST_FRAMEWORK's default, the bounded JSON parser (gridmap.core.jsonbody)

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Any]:
        return api_exception_handler
