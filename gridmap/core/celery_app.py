"""The Celery application, built once per process from the settings (``celery_app()``).

Every task registered with ``@task`` (``gridmap.core.jobs``) in an app's ``tasks`` module becomes
a Celery task of the same name; ``GRIDMAP_SCHEDULE`` becomes beat's schedule. Broker and result
store are the Redis of ``GRIDMAP_BROKER_URL``. The entry point for ``celery -A`` is
``gridmap/celery.py``; the web process only sends (``jobs.submit``/``dispatch``).
"""

from __future__ import annotations

import functools
from typing import Any

from celery import Celery
from django.conf import settings

from gridmap.core import jobs


@functools.cache
def celery_app() -> Celery:
    app = Celery("gridmap")
    app.conf.update(
        broker_url=settings.GRIDMAP_BROKER_URL or "memory://",
        result_backend=settings.GRIDMAP_BROKER_URL or None,
        result_expires=24 * 3600,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone=settings.TIME_ZONE,
        # one task at a time per worker process: analysis tasks are long, and a worker that took
        # several would sit on them while another is idle
        worker_prefetch_multiplier=1,
        # a worker process that grew past this (KiB) is replaced after its task (worker ≤ 1 GB)
        worker_max_memory_per_child=900_000,
        broker_connection_retry_on_startup=True,
        beat_schedule_filename=str(settings.DATA_DIR / "celerybeat-schedule"),
        beat_schedule={
            entry: {
                "task": spec["task"],
                "schedule": float(spec["every_s"]),
                "kwargs": spec.get("kwargs", {}),
            }
            for entry, spec in settings.GRIDMAP_SCHEDULE.items()
            if spec["every_s"] > 0
        },
    )
    for name in jobs.load_task_modules():
        _register(app, name)
    return app


def _register(app: Celery, name: str) -> None:
    def run_task(job_id: str | None = None, **kwargs: Any) -> Any:
        return jobs.run_fresh(name, job_id, kwargs)

    run_task.__name__ = run_task.__qualname__ = name.replace(".", "_")
    app.task(name=name)(run_task)
