"""The input boundary at Open311 ``POST requests``: hostile numbers, times and text get a 400 in
the spec's format (nothing stored) or are stored clean; stored requests never break a read."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from hypothesis import given
from hypothesis import strategies as st

from gridmap.accounts.models import Role
from gridmap.open311.models import ServiceAttribute
from gridmap.problems.models import Problem, ProblemPhoto
from tests.factories import user
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
from tests.open311.conftest import a_post
from tests.photos import jpeg

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("print_tally")]


@pytest.fixture
def admin(town):
    return user("boss", Role.ADMIN)


@pytest.fixture
def when_attribute(town):
    return ServiceAttribute.objects.create(
        category=town["category"], code="seen", datatype=ServiceAttribute.Datatype.DATETIME, required=False,
        description="when it was seen", order=1,
    )  # fmt: skip


def test_a_year_1_exif_time_is_dropped_and_the_request_still_reads(api, town, admin):
    """On PostGIS the upload answered 201 with a BC date stored, then every read was a 500."""
    response = api.post(**a_post(town, media=jpeg(taken="0001:01:01 00:00:00")))
    assert response.status_code == 201, response.content
    photo = ProblemPhoto.objects.get()
    assert photo.taken_at is None
    reads_ok(photo.problem, admin)
    assert api.get("requests", api_key=town["keys"]["a"]).status_code == 200


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+08:00", "2999-01-01T00:00:00+08:00"])
def test_a_datetime_attribute_outside_the_window_is_a_400(api, town, when_attribute, value):
    response = api.post(**a_post(town, **{"attribute[seen]": value}))
    assert response.status_code == 400 and not Problem.objects.exists()
    ok = api.post(**a_post(town, **{"attribute[seen]": "2024-05-01T08:00:00+08:00"}))
    assert ok.status_code == 201


@given(spoilt=st.sets(st.sampled_from(["lat", "long", "description", "address_string", "device_id",
                                       "attribute[seen]", "media"]), max_size=2),
       data=st.data())  # fmt: skip
def test_post_property(api, town, admin, when_attribute, spoilt, data):
    cache.clear()
    fields = a_post(town)
    for name in spoilt:
        if name in ("lat", "long"):
            value = data.draw(hostile_number, label=name)
            fields[name] = "" if value is None else str(value)
        elif name == "attribute[seen]":
            fields[name] = data.draw(hostile_time, label=name)
        elif name == "media":
            fields[name] = jpeg(taken=data.draw(hostile_exif_time, label=name))
        else:
            fields[name] = data.draw(hostile_text, label=name)
    if "address_string" in spoilt:
        fields.pop("lat"), fields.pop("long")
    fields = {
        k: v.encode("utf-8", "replace").decode() if isinstance(v, str) else v for k, v in fields.items()
    }
    before = Problem.objects.count()
    response = api.post(**fields)
    tally("open311 POST", response.status_code)
    assert response.status_code in (200, 201, 400, 404), response.content[:300]  # 404: no such address
    if response.status_code in (400, 404):
        assert Problem.objects.count() == before
    else:
        problem = Problem.objects.get(pk=api.json(response)[0]["service_request_id"])
        stored_is_clean(problem)
        reads_ok(problem, admin)
        cache.clear()
        assert api.get("requests", api_key=town["keys"]["a"]).status_code == 200
