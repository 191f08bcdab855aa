"""The import page (/imports/): an administrator uploads a real file, a background job imports it
(dry run or commit, all or nothing) and its page shows the report; the uploaded file is removed
when the job ends; anyone else is refused; bad uploads are a 400 with nothing started."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gridmap.accounts.models import Role
from gridmap.core.models import Job
from gridmap.facilities.models import Facility
from tests.factories import LAT0, LON0, user
from tests.imports.test_import_layer import regions  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

CSV = (
    "编号,经度,纬度,name\n"
    f"h1,{LON0 + 0.001},{LAT0 + 0.001},东消火栓\n"
    "h2,abc,31.6,坏\n"
    f"h3,{LON0 + 0.003},{LAT0 + 0.001},西消火栓\n"
).encode()


@pytest.fixture
def admin_client(client, db):
    client.force_login(user("office", Role.ADMIN))
    return client


def upload(client, django_capture_on_commit_callbacks, *, data=CSV, name="hydrants.csv", **fields):
    form = {"target": "facilities", "kind": "hydrant", "file": SimpleUploadedFile(name, data), **fields}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/imports/", form)


def uploads_left(settings) -> list[Path]:
    return [p for p in (Path(settings.MEDIA_ROOT) / "imports").rglob("*") if p.is_file()]


@pytest.mark.usefixtures("regions")
def test_a_dry_run_then_an_import_through_a_job(admin_client, django_capture_on_commit_callbacks, settings):
    response = upload(admin_client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    job = Job.objects.get()
    assert response["Location"] == f"/dashboard/jobs/{job.id}/"
    assert job.state == Job.State.DONE and job.result["outcome"] and job.result["rejected"] == 1
    assert not Facility.objects.exists()  # a dry run writes nothing
    page = admin_client.get(response["Location"]).content.decode()
    assert "row 2:" in page and job.label.endswith(("(dry run)", "（试运行）"))

    upload(admin_client, django_capture_on_commit_callbacks, commit="on")
    assert sorted(Facility.objects.values_list("name", flat=True)) == ["东消火栓", "西消火栓"]
    assert uploads_left(settings) == []  # each upload removed when its job ended


@pytest.mark.usefixtures("regions")
def test_strict_writes_nothing_when_a_row_is_rejected(admin_client, django_capture_on_commit_callbacks):
    upload(admin_client, django_capture_on_commit_callbacks, commit="on", strict="on")
    job = Job.objects.get()
    assert job.state == Job.State.DONE and job.result["exit_code"] == 1
    assert not Facility.objects.exists()


@pytest.mark.usefixtures("regions")
def test_an_unreadable_file_fails_the_job_with_its_reason(
    admin_client, django_capture_on_commit_callbacks, settings
):
    with pytest.raises(ValueError):
        upload(
            admin_client,
            django_capture_on_commit_callbacks,
            data=b"not a geopackage",
            name="x.gpkg",
            commit="on",
        )
    job = Job.objects.get()
    assert job.state == Job.State.FAILED and job.message and "Traceback" not in job.message
    assert not Facility.objects.exists() and uploads_left(settings) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "evil.html"},  # not a layer format
        {"srid": "4326abc"},
        {"srid": "12"},  # not an EPSG code
        {"target": "nothing"},
        {"layer": "a\x00b"},  # refused by the text rule
    ],
)
def test_bad_uploads_are_a_400_and_start_nothing(
    admin_client, django_capture_on_commit_callbacks, fields, settings
):
    response = upload(admin_client, django_capture_on_commit_callbacks, **fields)
    assert response.status_code == 400
    assert not Job.objects.exists() and uploads_left(settings) == []


def test_a_file_over_the_limit_is_refused(admin_client, django_capture_on_commit_callbacks, settings):
    settings.GRIDMAP_IMPORT_MAX_MB = 0
    assert upload(admin_client, django_capture_on_commit_callbacks).status_code == 400
    assert not Job.objects.exists()


@pytest.mark.parametrize("role", [Role.GRID_LEADER, Role.PLANNER, Role.COMMUNITY_HEAD])
def test_only_administrators_import(client, db, role, django_capture_on_commit_callbacks):
    client.force_login(user("someone", role))
    assert client.get("/imports/").status_code == 403
    assert upload(client, django_capture_on_commit_callbacks).status_code == 403
    assert not Job.objects.exists()
