"""``/health/``: is this worker able to serve? For load balancers and monitoring.

No login, no session, no secrets: JSON ``{"status": "ok", "database": "ok"}`` (200) after one
trivial query, or ``{"status": "unavailable", "database": "unavailable"}`` (503, Retry-After)
when the database does not answer. Never cached.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)
RETRY_AFTER_S = 5


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as e:
        logger.warning("health: database unavailable (%s)", type(e).__name__)
        response = JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
    return JsonResponse({"status": "ok", "database": "ok"})
