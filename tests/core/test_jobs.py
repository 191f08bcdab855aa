"""Background jobs without a broker (gridmap.core.jobs): a job's row follows its task through
queued → running → done/failed with progress, the in-process thread runs tasks in order after the
caller's transaction commits, the schedule runs its entries, and a user sees only their jobs."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.core import jobs
from gridmap.core.models import Job
from gridmap.core.schedule import Schedule
from tests.factories import user

SEEN: list[tuple[str, int]] = []


@jobs.task("tests.count_to")
def count_to(progress, n: int, fail_at: int = -1) -> dict:
    for i in range(n):
        if i == fail_at:
            raise RuntimeError("select secret from somewhere")  # not shown to the user
        progress(i + 1, n, f"{i + 1} of {n}")
    SEEN.append(("count_to", n))
    return {"counted": n}


@jobs.task("tests.write_file")
def write_file(progress, text: str) -> dict:
    job = Job(id=uuid.uuid4())
    job.file.save("result.csv", ContentFile(text.encode()), save=False)
    return {"file": job.file.name, "chars": len(text)}


@pytest.fixture(autouse=True)
def _seen():
    SEEN.clear()


def test_submit_runs_after_commit_and_records_progress_and_result(transactional_db):
    alice = user("alice", Role.GRID_LEADER)
    job = jobs.submit("tests.count_to", user=alice, label="count", n=5)
    job.refresh_from_db()
    assert job.state == Job.State.DONE
    assert (job.done, job.total, job.message) == (5, 5, "5 of 5")
    assert job.result == {"counted": 5} and job.started_at and job.finished_at
    assert SEEN == [("count_to", 5)]


def test_a_failed_task_is_recorded_without_its_details(transactional_db):
    with pytest.raises(RuntimeError):
        jobs.submit("tests.count_to", n=5, fail_at=2)
    job = Job.objects.get()
    assert job.state == Job.State.FAILED and job.done == 2
    assert "secret" not in job.message and "RuntimeError" in job.message


def test_an_unknown_task_fails_in_the_caller(db):
    with pytest.raises(jobs.UnknownTask):
        jobs.submit("tests.nothing_like_this")
    assert not Job.objects.exists()


def test_nothing_starts_before_the_callers_transaction_commits(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs.dispatch("tests.count_to", n=3)
    assert SEEN == [] and len(callbacks) == 1
    callbacks[0]()
    assert SEEN == [("count_to", 3)]


def test_a_job_runs_once(transactional_db):
    job = jobs.submit("tests.count_to", n=2)
    assert jobs.run("tests.count_to", str(job.id), {"n": 2}) is None  # no longer queued
    assert SEEN == [("count_to", 2)]


@override_settings(GRIDMAP_TASKS_IN_PROCESS="thread")
def test_the_thread_runs_tasks_in_order_off_the_request(transactional_db):
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("the suite's SQLite test database is in memory, which another thread cannot open")
    submitted = [jobs.submit("tests.count_to", n=n) for n in (3, 1, 2)]
    jobs.wait_in_process(timeout_s=60)
    assert SEEN == [("count_to", 3), ("count_to", 1), ("count_to", 2)]
    assert set(Job.objects.filter(id__in=[j.id for j in submitted]).values_list("state", flat=True)) == {
        "done"
    }


def test_the_schedule_runs_every_entry_and_survives_a_failure(db):
    table = {
        "ok": {"task": "tests.count_to", "every_s": 60, "kwargs": {"n": 1}},
        "bad": {"task": "tests.count_to", "every_s": 60, "kwargs": {"n": 2, "fail_at": 0}},
        "off": {"task": "tests.count_to", "every_s": 0, "kwargs": {"n": 9}},
    }
    lines: list[str] = []
    schedule = Schedule(table, report=lines.append)
    wait_s = schedule.run_due(now=0.0)
    assert SEEN == [("count_to", 1)] and 0 < wait_s <= 60
    assert any(line.startswith("bad: failed") for line in lines)
    assert schedule.run_due(now=1.0) > 0 and SEEN == [("count_to", 1)]  # nothing due yet


def test_jobs_cleanup_forgets_old_jobs_and_their_files(transactional_db):
    old = jobs.submit("tests.write_file", text="a,b\n")
    old.refresh_from_db()
    path = old.file.path
    Job.objects.filter(id=old.id).update(finished_at=timezone.now() - timedelta(days=8))
    recent = jobs.submit("tests.count_to", n=1)
    jobs.run("core.jobs_cleanup", None, {})
    assert list(Job.objects.values_list("id", flat=True)) == [recent.id]
    import os

    assert not os.path.exists(path)


def test_a_user_follows_only_their_jobs(transactional_db, client):
    alice, bob = user("alice", Role.GRID_LEADER), user("bob", Role.GRID_LEADER)
    job = jobs.submit("tests.write_file", user=alice, label="导出", text="x,y\n1,2\n")
    client.force_login(bob)
    assert client.get(f"/dashboard/jobs/{job.id}/").status_code == 404
    assert client.get(f"/dashboard/jobs/{job.id}/file").status_code == 404
    assert "导出" not in client.get("/dashboard/jobs/").content.decode()
    client.force_login(alice)
    state = client.get(f"/dashboard/jobs/{job.id}/?format=json").json()
    assert state["state"] == "done" and state["file"] and state["label"] == "导出"
    body = b"".join(client.get(f"/dashboard/jobs/{job.id}/file").streaming_content)
    assert body == b"x,y\n1,2\n"
    assert "导出" in client.get("/dashboard/jobs/").content.decode()
    assert client.get(f"/dashboard/jobs/{uuid.uuid4()}/").status_code == 404
    assert client.get("/dashboard/jobs/not-a-uuid/").status_code == 404


def test_a_broker_that_is_down_fails_the_job_not_the_caller(transactional_db, settings):
    settings.GRIDMAP_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    job = jobs.submit("tests.count_to", n=1)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.message == jobs.BROKER_DOWN
    assert SEEN == []


@override_settings(GRIDMAP_TASKS_IN_PROCESS="off")
def test_off_leaves_unfollowed_tasks_to_the_schedule_but_runs_followed_jobs(transactional_db):
    SEEN.clear()
    jobs.dispatch("tests.count_to", n=2)  # nobody follows it: a bulk load leaves it to the schedule
    job = jobs.submit("tests.count_to", label="followed", n=3)  # someone follows it: it runs
    jobs.wait_in_process()
    assert SEEN == [("count_to", 3)]
    job.refresh_from_db()
    assert job.state == Job.State.DONE
