"""Background work on real servers: a Celery worker and celery beat, started by the test as
separate processes against a real Redis (broker and result store) and the test's PostGIS
database, run the tasks that the web process sends and the schedule's periodic jobs.

PostGIS only: the suite's SQLite test database is in memory, which another process cannot open
(the in-process runner that replaces the worker there is tested in test_jobs.py on both)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from gridmap.core import jobs
from gridmap.core.models import Job
from gridmap.problems.models import ProblemEvent
from tests.problems.test_escalation import dispatched, town  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgis"),
    reason="PostGIS only: a worker process cannot open the in-memory SQLite test database",
)


def redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def broker(settings) -> Iterator[str]:
    if not redis_answers(REDIS_URL):
        if "TEST_REDIS_URL" in os.environ:
            pytest.fail(f"TEST_REDIS_URL={REDIS_URL} does not answer")
        pytest.skip(f"no Redis answers at {REDIS_URL} (./run test starts one)")
    # a database of its own per test process (pytest-xdist worker), emptied before and after
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    url = urlsplit(REDIS_URL)._replace(path=f"/{8 + int(worker or 0) % 2}").geturl()
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    settings.GRIDMAP_BROKER_URL = url
    yield url
    client.flushdb()


def start(args: list[str], broker_url: str, **env: str) -> subprocess.Popen:
    db = connection.settings_dict
    child_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.child_settings",
        "DATABASE_URL": f"postgis://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "GRIDMAP_BROKER_URL": broker_url,
        **env,
    }
    celery = [sys.executable, "-m", "celery", "-A", "gridmap.celery"]
    return subprocess.Popen(
        celery + args, cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def stop(*procs: subprocess.Popen) -> str:
    out = []
    for proc in procs:
        proc.terminate()
        try:
            out.append(proc.communicate(timeout=20)[0].decode(errors="replace"))
        except subprocess.TimeoutExpired:
            proc.kill()
            out.append(proc.communicate()[0].decode(errors="replace"))
    return "\n".join(out)


def worker_args() -> list[str]:
    return [
        "worker",
        "--pool",
        "solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "info",
    ]


def wait_for(check, *, timeout_s: float, what: str, procs=()) -> None:
    """Poll ``check`` until it is true (the worker runs in another process: there is no event to
    wait on); fail with the processes' output after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {timeout_s} s:\n{stop(*procs)[-4000:]}")


def test_a_worker_runs_a_submitted_job(transactional_db, catalogues, town, broker, tmp_path):  # noqa: F811
    now = timezone.now()
    problem = dispatched(town, now - timedelta(days=30))
    job = jobs.submit("problems.escalate_overdue", user=town["leader"], label="escalation")
    assert Job.objects.get(id=job.id).state == Job.State.QUEUED  # sent, not run here
    worker = start(worker_args(), broker)
    try:
        wait_for(
            lambda: Job.objects.get(id=job.id).state in {Job.State.DONE, Job.State.FAILED},
            timeout_s=90,
            what="the job",
            procs=[worker],
        )
    finally:
        log = stop(worker)
    job.refresh_from_db()
    assert job.state == Job.State.DONE, log[-3000:]
    assert job.result == {"escalated": 1} and (job.done, job.total) == (1, 1)
    assert ProblemEvent.objects.filter(problem=problem, action="escalate").count() == 1


def test_beat_runs_the_schedule_on_the_worker(transactional_db, catalogues, town, broker, tmp_path):  # noqa: F811
    now = timezone.now()
    first = dispatched(town, now - timedelta(days=30))
    schedule = {"GRIDMAP_SCHEDULE": "escalate-overdue=1,jobs-cleanup=0", "GRIDMAP_DATA_DIR": str(tmp_path)}
    worker = start(worker_args(), broker, **schedule)
    beat = start(["beat", "-l", "info", "--max-interval", "1"], broker, **schedule)
    escalated = ProblemEvent.objects.filter(action="escalate")
    try:
        wait_for(lambda: escalated.filter(problem=first).exists(), timeout_s=90, what="the first escalation",
                 procs=[worker, beat])  # fmt: skip
        # a case that becomes overdue later is escalated by a later run of the schedule
        second = dispatched(town, now - timedelta(days=30))
        wait_for(lambda: escalated.filter(problem=second).exists(), timeout_s=60, what="the second escalation",
                 procs=[worker, beat])  # fmt: skip
    finally:
        stop(beat, worker)
    assert escalated.filter(problem=first).count() == 1  # once per deadline, however often it ran
