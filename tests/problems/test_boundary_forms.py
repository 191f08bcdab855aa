"""The input boundary at the web forms: the report form and the step forms refuse hostile text,
numbers and photo times with a 400 (nothing written) and what they store never breaks a read."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from gridmap.accounts.models import Role
from gridmap.problems.models import Problem, ProblemEvent, ProblemPhoto, Status
from tests.factories import user
from tests.hostile import (
    hostile_exif_time,
    hostile_number,
    hostile_text,
    print_tally,  # noqa: F401
    reads_ok,
    stored_is_clean,
    tally,
)
from tests.photos import jpeg
from tests.problems.test_views import SPOT, form_data, reported, town  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("print_tally")]


def signed_in(who) -> Client:
    client = Client()
    client.force_login(who)
    return client


def step(client, problem, action, **data):
    return client.post(reverse("problem-transition", args=[problem.pk]), {"action": action, **data})


@pytest.fixture
def admin(town):  # noqa: F811
    return user("boss", Role.ADMIN)


# -- the findings --------------------------------------------------------------------------------
@pytest.mark.parametrize("note", ["a\x00b", "a\x1bb", "\x85"])
def test_a_control_character_in_a_step_note_is_a_400(town, note):  # noqa: F811
    """On PostGIS a NUL in a form note was a 500 (PostgreSQL cannot store NUL)."""
    problem = reported(town)
    response = step(signed_in(town["leader"]), problem, "reject", note=note)
    assert response.status_code == 400
    assert "control characters" in response.content.decode() or "控制字符" in response.content.decode()
    problem.refresh_from_db()
    assert problem.status == Status.REPORTED and ProblemEvent.objects.filter(problem=problem).count() == 1


@pytest.mark.parametrize("hours", ["²", "١٢", "1" * 5000])
def test_unicode_digits_as_hours_are_a_400(town, hours):  # noqa: F811
    problem = reported(town)
    leader = signed_in(town["leader"])
    assert step(leader, problem, "file").status_code == 302
    assert step(leader, problem, "dispatch", department="cg").status_code == 302
    handler = signed_in(town["handler"])
    response = step(handler, problem, "request_extension", note="需要更多时间", hours=hours)
    assert response.status_code == 400
    assert not problem.extensions.exists()
    assert step(handler, problem, "request_extension", note="需要更多时间", hours="24").status_code == 302


def test_a_nul_in_a_department_code_is_a_400(town):  # noqa: F811
    problem = reported(town)
    leader = signed_in(town["leader"])
    assert step(leader, problem, "file").status_code == 302
    assert step(leader, problem, "dispatch", department="cg\x00").status_code == 400


def test_a_year_1_exif_time_from_the_report_form_is_dropped(town, admin):  # noqa: F811
    response = signed_in(town["reporter"]).post(
        reverse("problem-report"), form_data(town, photos=jpeg(taken="0001:01:01 00:00:00"))
    )
    assert response.status_code == 302
    photo = ProblemPhoto.objects.get()
    assert photo.taken_at is None
    reads_ok(photo.problem, admin)


def test_a_control_character_in_a_description_is_a_400(town):  # noqa: F811
    response = signed_in(town["reporter"]).post(
        reverse("problem-report"), form_data(town, description="a\x01b")
    )
    assert response.status_code == 400 and not Problem.objects.exists()


# -- properties ----------------------------------------------------------------------------------
@given(spoilt=st.sets(st.sampled_from(["lon", "lat", "description", "photo"]), max_size=2), data=st.data())
def test_report_form_property(town, admin, spoilt, data):  # noqa: F811
    fields = form_data(town, client_uuid=str(uuid.uuid4()))
    for name in spoilt & {"lon", "lat"}:
        value = data.draw(hostile_number, label=name)
        fields[name] = "" if value is None else str(value)
    if "description" in spoilt:
        fields["description"] = data.draw(hostile_text, label="description")
    if "photo" in spoilt:
        fields["photos"] = jpeg(taken=data.draw(hostile_exif_time, label="exif time"))
    # the test client cannot encode a lone surrogate; a browser sends U+FFFD (or bytes Django
    # decodes with replacement), so that is what arrives
    fields = {
        k: v.encode("utf-8", "replace").decode() if isinstance(v, str) else v for k, v in fields.items()
    }
    before = Problem.objects.count()
    response = signed_in(town["reporter"]).post(reverse("problem-report"), fields)
    tally("report form", response.status_code)
    assert response.status_code in (302, 400), response.content[:300]
    if response.status_code == 400:
        assert Problem.objects.count() == before
    else:
        problem = Problem.objects.get(uuid=fields["client_uuid"])
        stored_is_clean(problem)
        reads_ok(problem, admin)


@given(note=hostile_text, value=st.one_of(hostile_number, hostile_text),
       action=st.sampled_from(["file", "reject", "mark_duplicate", "dispatch"]))  # fmt: skip
def test_step_form_property(town, admin, note, value, action):  # noqa: F811
    problem = reported(town)
    fields = {"note": note.encode("utf-8", "replace").decode()}
    text = "" if value is None else str(value).encode("utf-8", "replace").decode()
    if action == "mark_duplicate":
        fields["duplicate_of"] = text
    elif action == "dispatch":
        fields.update(department=text, inspector=text)
    response = step(signed_in(town["leader"]), problem, action, **fields)
    tally("step forms", response.status_code)
    assert response.status_code in (302, 400, 409), response.content[:300]
    if response.status_code != 302:
        assert ProblemEvent.objects.filter(problem=problem).count() == 1
    else:
        reads_ok(problem, admin)
