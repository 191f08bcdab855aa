"""Checks of ``manage.py check --deploy`` for what production needs beyond Django's own."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

SHARED_CACHES = ("RedisCache", "PyMemcacheCache", "PyLibMCCache", "DatabaseCache")


@register(Tags.security, deploy=True)
def shared_cache(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend.rsplit(".", 1)[-1] in SHARED_CACHES:
        return []
    return [
        Warning(
            "The cache is per process: each gunicorn worker counts failed logins and rate limits "
            "on its own, so the limits are multiplied by the number of workers.",
            hint="Set GRIDMAP_CACHE_URL=redis://127.0.0.1:6379/0 (a Redis every worker reaches).",
            id="gridmap.W101",
        )
    ]
