"""The settings of what runs beside the requests, read from the environment: the cache shared by
the workers (``GRIDMAP_CACHE_URL``), background work on Celery (``GRIDMAP_BROKER_URL``,
``GRIDMAP_TASKS_IN_PROCESS``, the periodic ``GRIDMAP_SCHEDULE``) and the notifications it sends
(email through Django's ``EMAIL_*``, a gateway through ``GRIDMAP_NOTIFY_*``).

Imported by ``gridmap/settings.py``, which names each setting it takes from here; a value that
cannot work stops the start with ``ImproperlyConfigured``, naming the variable.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from gridmap.core.env import env_flag


def caches_for(url: str) -> dict[str, dict[str, str]]:
    """The cache: per-process memory, or Redis when several workers must share counters."""
    url = url.strip()
    if not url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    raise ImproperlyConfigured("GRIDMAP_CACHE_URL must be a redis://, rediss:// or unix:// URL")


CACHES = caches_for(os.environ.get("GRIDMAP_CACHE_URL", ""))

# Background work (gridmap.core.jobs, gridmap/celery.py): Celery with Redis as broker and result
# store when GRIDMAP_BROKER_URL is set; otherwise tasks run on a thread of the serving process
# ("thread"; tests may choose "inline") and `manage.py run_schedule` runs the schedule.
GRIDMAP_BROKER_URL = os.environ.get("GRIDMAP_BROKER_URL", "").strip()
if GRIDMAP_BROKER_URL and not GRIDMAP_BROKER_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("GRIDMAP_BROKER_URL must be a redis://, rediss:// or unix:// URL")
# "thread" (default), "inline" (tests) or "off": without a broker, a task nobody follows (the
# refreshes after an import) is not run in this process but left to the schedule's periodic run.
GRIDMAP_TASKS_IN_PROCESS = os.environ.get("GRIDMAP_TASKS_IN_PROCESS", "thread")
# Periodic jobs: entry → task and interval (seconds). GRIDMAP_SCHEDULE="entry=seconds,..." changes
# an interval; 0 turns the entry off.
GRIDMAP_SCHEDULE: dict[str, dict] = {
    "escalate-overdue": {"task": "problems.escalate_overdue", "every_s": 900},
    "jobs-cleanup": {"task": "core.jobs_cleanup", "every_s": 24 * 3600},
    "evaluation-summary": {"task": "evaluation.refresh_summary", "every_s": 300},
    # recompute the stale coverage sets (gridmap.analysis.precompute); a no-op when all are current
    "analysis-refresh": {"task": "analysis.refresh_coverage", "every_s": 60},
    # notifications whose last attempt failed, tried again when their wait is over
    "notifications-retry": {"task": "notifications.retry_due", "every_s": 60},
    # one lookback_remind event per case whose look-back day has come (gridmap.problems.reminders),
    # and its inspectors told of it once (gridmap.notifications)
    "lookback-reminders": {"task": "notifications.lookback_reminders", "every_s": 3600},
    # the patrol tasks of the period holding today, per active plan, never twice (gridmap.patrols)
    "patrol-tasks": {"task": "patrols.create_tasks", "every_s": 900},
    # notifications read more than GRIDMAP_NOTIFY_KEEP_DAYS ago are deleted
    "notifications-cleanup": {"task": "notifications.cleanup", "every_s": 24 * 3600},
}
for _item in filter(None, (p.strip() for p in os.environ.get("GRIDMAP_SCHEDULE", "").split(","))):
    _entry, _, _seconds = _item.partition("=")
    if _entry.strip() not in GRIDMAP_SCHEDULE or not (
        _seconds.strip().isascii() and _seconds.strip().isdigit()
    ):
        raise ImproperlyConfigured(f"GRIDMAP_SCHEDULE: {_item!r} is not <entry>=<seconds> of a known entry")
    GRIDMAP_SCHEDULE[_entry.strip()]["every_s"] = int(_seconds)

# Notifications (gridmap/notifications): the inbox always; email when EMAIL_HOST is set (Django's
# SMTP settings below); a messaging gateway when GRIDMAP_NOTIFY_WEBHOOK_URL is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_flag("EMAIL_USE_SSL")
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "gridmap@localhost")
GRIDMAP_NOTIFY = {
    "EMAIL": bool(EMAIL_HOST),
    "WEBHOOK_URL": os.environ.get("GRIDMAP_NOTIFY_WEBHOOK_URL", "").strip(),
    "WEBHOOK_SECRET": os.environ.get("GRIDMAP_NOTIFY_WEBHOOK_SECRET", ""),
    "WEBHOOK_TIMEOUT_S": float(os.environ.get("GRIDMAP_NOTIFY_WEBHOOK_TIMEOUT_S", "5")),
    "MAX_ATTEMPTS": int(os.environ.get("GRIDMAP_NOTIFY_MAX_ATTEMPTS", "6")),
    "RETRY_BASE_S": float(os.environ.get("GRIDMAP_NOTIFY_RETRY_BASE_S", "60")),
    "KEEP_DAYS": int(os.environ.get("GRIDMAP_NOTIFY_KEEP_DAYS", "180")),
    # the site's address for links in messages (https://gridmap.example.gov.cn); none: paths only
    "SITE_URL": os.environ.get("GRIDMAP_SITE_URL", "").strip(),
}
if GRIDMAP_NOTIFY["WEBHOOK_URL"]:
    if not GRIDMAP_NOTIFY["WEBHOOK_URL"].startswith(("http://", "https://")):
        raise ImproperlyConfigured("GRIDMAP_NOTIFY_WEBHOOK_URL must be an http:// or https:// URL")
    if not GRIDMAP_NOTIFY["WEBHOOK_SECRET"]:
        raise ImproperlyConfigured(
            "GRIDMAP_NOTIFY_WEBHOOK_URL needs GRIDMAP_NOTIFY_WEBHOOK_SECRET (the signing key)"
        )
