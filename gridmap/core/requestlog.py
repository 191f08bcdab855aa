"""One JSON line per request on the ``gridmap.request`` logger: method, path, query with its
secrets redacted (gridmap.core.redact), status, duration in ms, user id, client address.

Never written: bodies, headers, cookies, and any value of a query parameter whose name says
key, token, password or secret (Open311's ``api_key`` among them). The user id is read only when
the request already resolved its user (no session lookup is added for the log).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

from gridmap.core.client import client_address
from gridmap.core.redact import redact_query

logger = logging.getLogger("gridmap.request")


def _user_id(request: HttpRequest) -> int | None:
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty or not getattr(wrapped, "is_authenticated", False):
        return None
    return getattr(wrapped, "pk", None)


class RequestLogMiddleware:
    """Outermost middleware: times the whole request, then writes its line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not logger.isEnabledFor(logging.INFO):
            return self.get_response(request)
        start = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            record = {
                "method": request.method,
                "path": request.path,
                "query": redact_query(request.META.get("QUERY_STRING", "")),
                "status": status,
                "ms": round((time.perf_counter() - start) * 1000, 1),
                "user": _user_id(request),
                "ip": client_address(request),
            }
            logger.info(json.dumps(record, ensure_ascii=False))
