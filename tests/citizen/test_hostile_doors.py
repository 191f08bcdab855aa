"""Hostile inputs at the new doors of citizen reporting (Hypothesis): the nearby API, "is it
this one?", the rating and the sign-up answer 2xx/3xx or a clear 4xx — never a 5xx — and write
nothing when they refuse; what they store reads back and exports cleanly."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from gridmap.core.models import PublicAccess
from gridmap.problems.models import ProblemEvent, ProblemRating
from tests.citizen.conftest import SPOT, close, report
from tests.factories import user
from tests.hostile import hostile_number, hostile_text, print_tally, reads_ok, tally  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("print_tally")]


def text(value) -> str:
    """What a browser sends: text, a lone surrogate replaced."""
    return ("" if value is None else str(value)).encode("utf-8", "replace").decode()


hostile_value = st.one_of(hostile_number.map(text), hostile_text.map(text))


def signed_in(who) -> Client:
    c = Client()
    c.force_login(who)
    return c


@given(lon=hostile_value, lat=hostile_value, category=hostile_value)
def test_nearby_api_property(town, lon, lat, category):
    cache.clear()  # the per-user rate is not what is tried here
    report(town)
    response = signed_in(town["other"]).get(
        reverse("api:problems-nearby"), {"lon": lon, "lat": lat, "category": category}
    )
    tally("nearby api", response.status_code)
    # 404: a well-formed category code that names no category (as an unknown id)
    assert response.status_code in (200, 400, 404), response.content[:300]
    assert response["Content-Type"].startswith("application/json")


@given(problem=hostile_value, lon=st.one_of(hostile_value, st.just(str(SPOT[0]))), lat=hostile_value)
def test_join_property(town, problem, lon, lat):
    first = report(town)
    response = signed_in(town["other"]).post(
        reverse("problem-join"), {"problem": problem, "lon": lon, "lat": lat}
    )
    tally("join form", response.status_code)
    assert response.status_code in (302, 400, 404), response.content[:300]
    if response.status_code != 302:
        assert not first.co_reporters.exists()
        assert not ProblemEvent.objects.filter(action="co_report").exists()


@pytest.fixture
def closed_case(town):
    return close(town, report(town))


@given(stars=st.one_of(hostile_value, st.sampled_from(["1", "5"])), comment=hostile_value)
def test_rating_property(town, closed_case, stars, comment):
    ProblemRating.objects.all().delete()
    response = signed_in(town["reporter"]).post(
        reverse("problem-rate", args=[closed_case.pk]), {"stars": stars, "comment": comment}
    )
    tally("rating form", response.status_code)
    assert response.status_code in (302, 400), response.content[:300]
    if response.status_code == 400:
        assert not ProblemRating.objects.exists()
    else:
        rating = ProblemRating.objects.get()
        assert 1 <= rating.stars <= 5
        reads_ok(closed_case, user(f"boss{rating.pk}", "admin"))


@given(contact=hostile_value, name=hostile_value, password=hostile_value)
def test_signup_property(town, contact, name, password):
    cache.clear()  # the per-address count is not what is tried here
    PublicAccess.objects.get_or_create(defaults={"self_signup": True})
    before = get_user_model().objects.count()
    response = Client().post(
        reverse("signup"),
        {"contact": contact, "display_name": name, "password1": password, "password2": password},
    )
    tally("signup form", response.status_code)
    assert response.status_code in (302, 400), response.content[:300]
    if response.status_code == 400:
        assert get_user_model().objects.count() == before
