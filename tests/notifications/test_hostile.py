"""Hostile input at the notification pages' doors (preferences, mark read and its ``next``): a
clear answer every time, never a 500, never a redirect to another site, nothing stored that is
not a known kind."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from gridmap.notifications.models import Kind, Notification, Preference
from tests.hostile import hostile_text, tally
from tests.notifications.conftest import report

pytestmark = pytest.mark.django_db

NEXTS = st.one_of(hostile_text, st.sampled_from([
    "//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/inbox/\r\nX: y",
    "/problems/1/\x00", " /inbox/", "/inbox/?page=2", "\t//evil.example",
]))  # fmt: skip


def post(client, url, fields):
    """The form body as a client's bytes: a lone surrogate becomes bytes that are not UTF-8."""
    body = "&".join(
        f"{name}={quote_from_bytes(value.encode('utf-8', 'surrogatepass'))}"
        for name, values in fields.items()
        for value in (values if isinstance(values, list) else [values])
    )
    return client.post(url, body, content_type="application/x-www-form-urlencoded")


@given(kinds=st.lists(st.one_of(hostile_text, st.sampled_from(Kind.values)), max_size=4),
       email=st.one_of(hostile_text, st.sampled_from(["on", "off", ""])), nxt=NEXTS)  # fmt: skip
def test_hostile_preferences_and_next(town, kinds, email, nxt):
    client = Client()
    client.force_login(town["reporter"])
    response = post(client, reverse("notification-preferences"), {"kinds": kinds, "email": email})
    tally("notification preferences", response.status_code)
    assert response.status_code in (200, 302)
    pref = Preference.objects.filter(user=town["reporter"]).first()
    assert pref is None or set(pref.kinds) <= set(Kind.values)

    note = Notification.objects.filter(recipient=town["reporter"]).first()
    response = post(client, reverse("notification-read", args=[note.pk]), {"next": nxt})
    tally("notification mark read", response.status_code)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert location.isprintable()


@pytest.fixture
def town(town):
    report(town, reporter=town["reporter"])  # the leader's notification
    from gridmap.problems.lifecycle import problem_transition

    problem = town["grid"].problems.get()
    problem_transition(problem_id=problem.pk, action="file", actor=town["leader"])
    return town
