"""The input boundary at the API: hostile numbers, times and text in the intake, the steps and
photo uploads get a 4xx (nothing stored) or are stored clean; what is stored never breaks a read."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap.problems.models import Problem, ProblemEvent, ProblemPhoto, Status
from tests.api.conftest import SPOT, report
from tests.hostile import (
    hostile_exif_time,
    hostile_number,
    hostile_text,
    hostile_time,
    print_tally,  # noqa: F401
    reads_ok,
    stored_is_clean,
    tally,
)
from tests.photos import jpeg

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("print_tally")]
URL = "/api/v1/problems/"


def post_json(client, url, data):
    """Raw JSON (NaN, huge integers and lone surrogates included) as a hostile client sends it."""
    try:
        raw = json.dumps(data)
    except ValueError:  # an int past Python's digit limit: send its digits as they would arrive
        raw = json.dumps({k: (f"__{k}__" if isinstance(v, int) else v) for k, v in data.items()})
        for k, v in data.items():
            if isinstance(v, int):
                raw = raw.replace(f'"__{k}__"', "9" * 5000 if v > 0 else "-" + "9" * 5000)
    return client.post(url, raw, content_type="application/json")


def body(**kw):
    return {"lon": SPOT[0], "lat": SPOT[1], "category": "0301", "description": "占道经营", **kw}


# -- the findings --------------------------------------------------------------------------------
def test_a_401_digit_integer_coordinate_is_a_400(town, as_user):
    client = as_user(town["reporter"])
    for lon, lat in ((10**400, SPOT[1]), (SPOT[0], -(10**400))):
        response = post_json(client, URL, body(lon=lon, lat=lat))
        assert response.status_code == 400, response.content
    p = report(town)
    leader = as_user(town["leader"])
    response = post_json(leader, f"{URL}{p.pk}/transitions/", {"action": "file", "lon": 10**400, "lat": 1})
    assert response.status_code == 400, response.content
    assert Problem.objects.count() == 1 and Problem.objects.get().status == Status.REPORTED


@pytest.mark.parametrize("value", ["²", "١٢", "1" * 5000, "𝟙"])
def test_unicode_digits_where_a_whole_number_is_expected_are_a_400(town, as_user, value):
    p, other = report(town), report(town)
    leader = as_user(town["leader"])
    url = f"{URL}{p.pk}/transitions/"
    response = leader.post(
        url, {"action": "mark_duplicate", "params": {"duplicate_of": value}}, format="json"
    )
    assert response.status_code == 400, response.content
    assert Problem.objects.get(pk=p.pk).status == Status.REPORTED
    assert leader.post(url, {"action": "mark_duplicate", "params": {"duplicate_of": str(other.pk)}},
                       format="json").status_code == 200  # fmt: skip


def test_a_year_1_exif_time_is_dropped_and_the_problem_still_reads(town, as_user):
    """On PostGIS the year-1 time was stored as a BC date and every read of the problem was a 500."""
    p = report(town)
    upload = jpeg("old.jpg", taken="0001:01:01 00:00:00")
    response = as_user(town["reporter"]).post(f"{URL}{p.pk}/photos/", {"image": upload}, format="multipart")
    assert response.status_code == 201, response.content
    assert ProblemPhoto.objects.get().taken_at is None  # the photo is kept, its time is not
    reads_ok(p, town["admin"])


def test_control_characters_in_a_note_or_a_param_are_a_400(town, as_user):
    p = report(town)
    leader = as_user(town["leader"])
    url = f"{URL}{p.pk}/transitions/"
    assert leader.post(url, {"action": "file", "note": "a\x1bb"}, format="json").status_code == 400
    response = leader.post(url, {"action": "file"}, format="json")
    assert response.status_code == 200
    bad = {"action": "dispatch", "params": {"department": "cg\x00"}}
    assert leader.post(url, bad, format="json").status_code == 400
    assert Problem.objects.get(pk=p.pk).status == Status.FILED and ProblemEvent.objects.count() == 2


# -- properties ----------------------------------------------------------------------------------
@given(spoilt=st.sets(st.sampled_from(["lon", "lat", "description", "reported_at", "category"]), max_size=2),
       data=st.data())  # fmt: skip
def test_intake_property(town, as_user, spoilt, data):
    """A good report with up to two of its fields replaced by hostile values."""
    hostile = {"lon": hostile_number, "lat": hostile_number, "description": hostile_text,
               "reported_at": hostile_time, "category": hostile_text}  # fmt: skip
    fields = {"lon": SPOT[0], "lat": SPOT[1], "category": "0301", "description": "占道经营",
              "reported_at": "2024-05-01T08:30:00+08:00"}  # fmt: skip
    for name in spoilt:
        fields[name] = data.draw(hostile[name], label=name)
    client = as_user(town["reporter"])
    before = Problem.objects.count()
    response = post_json(client, URL, fields)
    tally("api intake", response.status_code)
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert Problem.objects.count() == before
    else:
        problem = Problem.objects.get(pk=response.json()["id"])
        stored_is_clean(problem)
        reads_ok(problem, town["admin"])


@given(
    note=hostile_text,
    lon=st.one_of(st.none(), hostile_number),
    value=st.one_of(hostile_number, hostile_text),
    action=st.sampled_from(["file", "mark_duplicate", "dispatch", "reject"]),
)
def test_step_property(town, as_user, note, lon, value, action):
    p = report(town)
    data = {"action": action, "note": note}
    if lon is not None:
        data.update(lon=lon, lat=SPOT[1])
    if action == "mark_duplicate":
        data["params"] = {"duplicate_of": value}
    elif action == "dispatch":
        data["params"] = {"department": value, "inspector": value}
    events = ProblemEvent.objects.count()
    response = post_json(as_user(town["leader"]), f"{URL}{p.pk}/transitions/", data)
    tally("api steps", response.status_code)
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert ProblemEvent.objects.count() == events
        assert Problem.objects.get(pk=p.pk).status == Status.REPORTED
    else:
        reads_ok(p, town["admin"])


@given(taken=hostile_exif_time)
def test_exif_time_property(town, as_user, taken):
    p = report(town)
    upload = jpeg("p.jpg", taken=taken)
    response = as_user(town["reporter"]).post(f"{URL}{p.pk}/photos/", {"image": upload}, format="multipart")
    tally("api photo (EXIF time)", response.status_code)
    assert response.status_code == 201, response.content[:300]
    stored_is_clean(p)
    reads_ok(p, town["admin"])


@pytest.mark.parametrize("value", ["a\x00b", "\x1b", "1\x85"])
def test_control_characters_in_a_query_parameter_are_a_400(town, as_user, value):
    for path in ("problems/", "analysis/hotspots/"):
        response = as_user(town["admin"]).get(f"/api/v1/{path}", {"page": value})
        assert response.status_code == 400, (path, response.content[:200])


def test_a_unicode_digit_content_length_on_a_photo_upload_is_a_400(town, as_user):
    p = report(town)
    client = as_user(town["reporter"])
    response = client.post(f"{URL}{p.pk}/photos/", {"image": jpeg()}, format="multipart", CONTENT_LENGTH="²")
    assert response.status_code == 400 and not ProblemPhoto.objects.exists()
