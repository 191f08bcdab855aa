"""A large ledger is written by a job: the request answers with a redirect to the job's page,
and the file the job keeps holds the same cells as the direct export of the same data."""

import csv
import io

import pytest
from django.test import override_settings
from openpyxl import load_workbook

from gridmap.core import jobs
from gridmap.core.models import Job
from gridmap.evaluation import ledger
from tests.evaluation.conftest import MARCH_QUERY, signed_in
from tests.evaluation.test_aggregates import add_cases

# a job runs on its own terms (``jobs.run`` closes stale connections): committed data, seeded again
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _categories(catalogues):
    pass


def cells(body: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(body), read_only=True)
    return {
        sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets
    }


@pytest.fixture
def inline(settings, tmp_path):
    settings.GRIDMAP_BROKER_URL = ""
    settings.GRIDMAP_TASKS_IN_PROCESS = "inline"
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_job_file_equals_the_direct_export(
    client, town, admin, inline, monkeypatch, django_capture_on_commit_callbacks, fmt
):
    add_cases(town, 60)
    signed_in(client, admin)
    direct = client.get(f"/evaluation/ledger.{fmt}", MARCH_QUERY)
    assert direct.status_code == 200
    monkeypatch.setattr(ledger, "DIRECT_LIMIT", 10)
    with django_capture_on_commit_callbacks(execute=True):  # the job starts once the request commits
        started = client.get(f"/evaluation/ledger.{fmt}", MARCH_QUERY)
    job = Job.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/dashboard/jobs/{job.id}/"
    assert job.user == admin and job.task == "evaluation.export_ledger"
    assert job.state == Job.State.DONE, job.message
    assert job.total > 10 and job.done == job.total
    body = b"".join(client.get(f"/dashboard/jobs/{job.id}/file").streaming_content)
    if fmt == "xlsx":
        assert cells(body) == cells(direct.content)
        assert len(cells(body)["台账"]) == job.total + 1
    else:
        assert body == direct.content
        assert len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) == job.total + 1


def test_a_small_scope_stays_direct(client, town, admin, inline):
    signed_in(client, admin)
    response = client.get("/evaluation/ledger.xlsx", MARCH_QUERY)
    assert response.status_code == 200 and not Job.objects.exists()


def test_the_job_covers_only_what_its_user_may_see(
    client, town, inline, monkeypatch, django_capture_on_commit_callbacks
):
    add_cases(town, 60)
    leader = town["leader_a"]
    signed_in(client, leader)
    direct = client.get("/evaluation/ledger.xlsx", MARCH_QUERY)
    monkeypatch.setattr(ledger, "DIRECT_LIMIT", 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get("/evaluation/ledger.xlsx", MARCH_QUERY).status_code == 302
    job = Job.objects.get()
    body = b"".join(client.get(f"/dashboard/jobs/{job.id}/file").streaming_content)
    assert cells(body) == cells(direct.content)
    grids = {row[3] for row in cells(body)["台账"][1:]}
    assert grids == {town["ga"].code}


@override_settings(GRIDMAP_TASKS_IN_PROCESS="inline", GRIDMAP_BROKER_URL="")
def test_the_schedule_names_the_summary_refresh(settings):
    entry = settings.GRIDMAP_SCHEDULE["evaluation-summary"]
    assert jobs.task_fn(entry["task"]) is not None and entry["every_s"] > 0


def test_a_long_negative_list_is_written_by_a_job_equal_to_the_direct_file(
    client, town, inline, monkeypatch, django_capture_on_commit_callbacks
):
    add_cases(town, 60)
    signed_in(client, town["leader_a"])
    query = {**MARCH_QUERY, "grid": town["ga"].code}
    direct = client.get("/evaluation/negative-list.xlsx", query)
    assert direct.status_code == 200 and not Job.objects.exists()
    monkeypatch.setattr(ledger, "DIRECT_LIMIT", 3)
    monkeypatch.setattr("gridmap.evaluation.negative.DIRECT_LIMIT", 3)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.get("/evaluation/negative-list.xlsx", query)
    job = Job.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/dashboard/jobs/{job.id}/"
    assert job.task == "evaluation.export_negative_list" and job.state == Job.State.DONE, job.message
    body = b"".join(client.get(f"/dashboard/jobs/{job.id}/file").streaming_content)
    assert cells(body) == cells(direct.content) and len(cells(body)["负面清单"]) == job.total + 1 > 4


def test_a_negative_list_job_for_an_area_no_longer_visible_fails_without_a_file(
    transactional_db, town, inline
):
    from gridmap.evaluation.tasks import export_negative_list

    with pytest.raises(Exception) as refused:
        export_negative_list(lambda *a: None, user_id=town["leader_b"].pk, kind="grid", code=town["ga"].code,
                             start="2024-03-01", end="2024-04-01")  # fmt: skip
    assert "area" in refused.value.public_message


def test_a_workbook_whose_evaluation_sheet_is_long_goes_to_a_job(client, town, admin, inline, monkeypatch):
    signed_in(client, admin)
    client.get("/evaluation/", MARCH_QUERY)  # the evaluation is kept
    monkeypatch.setattr(ledger, "DIRECT_LIMIT", 5)  # fewer than the units of the sheet, more cases
    monkeypatch.setattr(ledger, "is_large", lambda user, period: False)
    assert client.get("/evaluation/ledger.xlsx", MARCH_QUERY).status_code == 302
    assert client.get("/evaluation/ledger.csv", MARCH_QUERY).status_code == 200  # no sheet in a csv
