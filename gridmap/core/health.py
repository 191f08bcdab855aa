"""``/health/``: is this worker able to serve? For load balancers and monitoring.

No login, no session, no secrets: JSON ``{"status": "ok", "database": "ok"}`` (200) after one
trivial query, or ``{"status": "unavailable", "database": "unavailable"}`` (503, Retry-After)
when the database does not answer. Never cached. With replicas (``GRIDMAP_REPLICA_URLS``) it adds
``"replicas": {"replica1": "ok" | "lagging" | "unavailable"}``, informative only: reads fall back
to the primary, so a replica alone never makes a worker unhealthy.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from gridmap.core.dbrouter import replica_states

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
    body: dict[str, object] = {"status": "ok", "database": "ok"}
    if settings.GRIDMAP_REPLICAS:
        body["replicas"] = replica_states()
    return JsonResponse(body)
