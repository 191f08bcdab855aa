"""Background work: one way to declare a task, start it and follow it.

A task is a plain function registered by name (``@task("analysis.refresh_coverage")``) and
called as ``fn(progress, **kwargs)`` with JSON-able keyword arguments. Where it runs is a
setting, not the caller's business:

- ``GRIDMAP_BROKER_URL`` set (a Redis): ``submit`` and ``dispatch`` send it to the Celery workers
  (``core/celery_app.py`` registers every task under its name; ``celery beat`` runs the
  schedule);
- not set (the demo, one process): it runs in this process, on one background thread that takes
  tasks in order, so a request that starts work still answers at once.

``submit`` records a :class:`~gridmap.core.models.Job` that its user can follow (state, done of
total, message, result, a result file); ``dispatch`` starts work nobody follows (a refresh after
an edit). Tasks are registered when their module is imported: every app's ``tasks`` module is
imported by :func:`load_task_modules` before the first task runs.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from django.apps import apps
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

log = logging.getLogger("gridmap.jobs")


class Progress(Protocol):
    def __call__(self, done: int, total: int | None, message: str = "") -> None: ...


TaskFn = Callable[..., Any]
_TASKS: dict[str, TaskFn] = {}
_LOADED = False
_LOAD_LOCK = threading.Lock()
# The in-process runner: one thread, tasks in the order they came (like one Celery worker).
_RUNNER: ThreadPoolExecutor | None = None
_RUNNER_LOCK = threading.Lock()
# Progress is written at most this often (a task may report every row).
PROGRESS_EVERY_S = 0.5


# a request waits at most about a second for a broker that does not answer
SEND_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
BROKER_DOWN = "the background workers could not be reached; start it again later"


class UnknownTask(LookupError):
    pass


def task(name: str) -> Callable[[TaskFn], TaskFn]:
    """Register ``fn`` as the task ``name`` ("app.verb"): ``fn(progress, **kwargs)``."""

    def register(fn: TaskFn) -> TaskFn:
        if _TASKS.get(name, fn) is not fn:
            raise ValueError(f"task {name!r} is registered twice")
        _TASKS[name] = fn
        return fn

    return register


def load_task_modules() -> dict[str, TaskFn]:
    """Import every installed app's ``tasks`` module (once) and return the registry."""
    global _LOADED
    with _LOAD_LOCK:
        if not _LOADED:
            for config in apps.get_app_configs():
                if importlib.util.find_spec(f"{config.name}.tasks") is not None:
                    importlib.import_module(f"{config.name}.tasks")
            _LOADED = True
    return _TASKS


def task_fn(name: str) -> TaskFn:
    fn = load_task_modules().get(name)
    if fn is None:
        raise UnknownTask(f"no task named {name!r}")
    return fn


def broker_url() -> str:
    return getattr(settings, "GRIDMAP_BROKER_URL", "") or ""


def submit(name: str, *, user: Any = None, label: str = "", **kwargs: Any) -> Any:
    """Start ``name`` for ``user`` and return its Job row (state ``queued``)."""
    from gridmap.core.models import Job

    task_fn(name)  # an unknown name fails here, in the caller, not later in a worker
    job = Job.objects.create(
        id=uuid.uuid4(),
        task=name,
        label=label[:200],
        user=user if getattr(user, "pk", None) else None,
        params=kwargs,
    )
    _send(name, str(job.id), kwargs)
    return job


def dispatch(name: str, **kwargs: Any) -> None:
    """Start ``name`` with no Job row (nobody follows it)."""
    task_fn(name)
    _send(name, None, kwargs)


def _send(name: str, job_id: str | None, kwargs: dict[str, Any]) -> None:
    # Started only once the caller's transaction commits: the task must see what it wrote (and
    # a worker must find the job's row).
    from django.db import transaction

    transaction.on_commit(lambda: _start(name, job_id, kwargs))


def _start(name: str, job_id: str | None, kwargs: dict[str, Any]) -> None:
    if not broker_url():
        _in_process(name, job_id, kwargs)
        return
    from gridmap.core.celery_app import celery_app

    app = celery_app()
    try:
        # the broker of the settings at the time of sending (the app is built once per process);
        # what a task returns is kept on its Job row, so a send subscribes to no result
        with app.connection_for_write(broker_url()) as conn:
            app.send_task(
                name,
                kwargs={"job_id": job_id, **kwargs},
                connection=conn,
                retry_policy=SEND_RETRY,
                ignore_result=True,
            )
    except Exception:  # the broker is down: what the caller committed stays; the job says so
        log.exception("task %s could not be sent (job %s)", name, job_id)
        if job_id is not None:
            from gridmap.core.models import Job

            Job.objects.filter(id=job_id, state=Job.State.QUEUED).update(
                state=Job.State.FAILED, finished_at=timezone.now(), message=BROKER_DOWN
            )


def _in_process(name: str, job_id: str | None, kwargs: dict[str, Any]) -> Future[Any] | None:
    mode = getattr(settings, "GRIDMAP_TASKS_IN_PROCESS", "thread")
    if mode == "inline":  # tests that need the result before they go on
        run(name, job_id, kwargs)
        return None
    if mode == "off" and job_id is None:
        # a short-lived process (a bulk load from the shell) leaves what nobody follows, such as
        # the refreshes after an import, to the schedule's periodic run of the same task
        log.info("task %s not run in this process (GRIDMAP_TASKS_IN_PROCESS=off)", name)
        return None
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None:
            _RUNNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridmap-task")
        return _RUNNER.submit(_run_in_thread, name, job_id, kwargs)


def _run_in_thread(name: str, job_id: str | None, kwargs: dict[str, Any]) -> None:
    try:
        run_fresh(name, job_id, kwargs)
    finally:
        connections.close_all()  # this thread's own connections


def wait_in_process(timeout_s: float = 60.0) -> None:
    """Wait until the in-process runner has finished what it was given (tests, shutdown)."""
    with _RUNNER_LOCK:
        runner = _RUNNER
    if runner is not None:
        runner.submit(lambda: None).result(timeout=timeout_s)


class _JobProgress:
    """Writes done/total/message to the job's row, at most every PROGRESS_EVERY_S seconds."""

    def __init__(self, job_id: str | None) -> None:
        self.job_id = job_id
        self.last = 0.0
        self.fields: dict[str, Any] = {}

    def __call__(self, done: int, total: int | None, message: str = "") -> None:
        """``total`` None (or 0): not known yet (a CSV is not counted before it is read)."""
        total = max(0, int(total or 0))
        self.fields = {"done": max(0, int(done)), "total": total, "message": str(message)[:300]}
        now = time.monotonic()
        if self.job_id is None or (now - self.last < PROGRESS_EVERY_S and (not total or done < total)):
            return
        self.last = now
        from gridmap.core.models import Job

        Job.objects.filter(id=self.job_id).update(**self.fields)


def run_fresh(name: str, job_id: str | None, kwargs: dict[str, Any]) -> Any:
    """``run`` in a long-lived process (a worker, the runner thread, the schedule): connections
    that broke or outlived their age since the last task are closed first, as a request does."""
    close_old_connections()
    try:
        return run(name, job_id, kwargs)
    finally:
        close_old_connections()


def run(name: str, job_id: str | None, kwargs: dict[str, Any]) -> Any:
    """Run one task here and now, keeping its job row (if any) up to date. Used by the workers,
    the in-process runner and the schedule; a task's exception is recorded, logged and re-raised."""
    from gridmap.core.models import Job

    fn = task_fn(name)
    jobs = Job.objects.filter(id=job_id) if job_id else None
    if jobs is not None and not jobs.filter(state=Job.State.QUEUED).update(
        state=Job.State.RUNNING, started_at=timezone.now()
    ):
        log.info("job %s of %s is not queued (already run or gone): skipped", job_id, name)
        return None
    progress = _JobProgress(job_id)
    try:
        result = fn(progress, **kwargs)
    except Exception as exc:
        log.exception("task %s failed (job %s)", name, job_id)
        if jobs is not None:
            failed = {**progress.fields, "message": _failure_text(exc)}
            jobs.update(state=Job.State.FAILED, finished_at=timezone.now(), **failed)
        raise
    if jobs is not None:
        done = {**progress.fields, "state": Job.State.DONE, "finished_at": timezone.now()}
        if isinstance(result, dict):
            done["result"] = {k: v for k, v in result.items() if k != "file"}
            if result.get("file"):
                done["file"] = result["file"]
        jobs.update(**done)
        Job.objects.filter(id=job_id, total=0).update(done=1, total=1)
    return result


def _failure_text(exc: Exception) -> str:
    # What a user may read: the kind of failure, never a traceback or a query.
    public = getattr(exc, "public_message", None)
    return str(public)[:300] if public else f"failed ({type(exc).__name__}); the log has the details"
