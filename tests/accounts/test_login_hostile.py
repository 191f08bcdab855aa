"""Hostile input on every way a password is tried (the login page, the admin's login, the token
endpoint) and on /health/: generated user names, passwords and forwarded addresses never give a
5xx, never log anyone in who should not be, and the throttle keeps counting. Outcomes are
tallied per entry point; ``pytest -s`` prints them."""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import quote_from_bytes

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from gridmap.accounts.models import Role
from tests.factories import user

pytestmark = pytest.mark.django_db
OUTCOMES: dict[str, Counter] = {}

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.sampled_from(
        ["", " ", "\x00", "admin\x00", "a" * 5000, "' OR 1=1 --", "%00", "\ud800", "\u202e", "²"]
    ),
)
addresses = st.one_of(
    st.ip_addresses().map(str),
    st.text(max_size=60),
    st.sampled_from(["", "unknown", "::1", "1.2.3.4, 5.6.7.8"]),
)


@pytest.fixture(scope="module", autouse=True)
def _print_outcomes():
    yield
    for entry, counts in sorted(OUTCOMES.items()):
        print(f"\n{entry}: {sum(counts.values())} inputs, status codes {dict(sorted(counts.items()))}")


def tally(entry: str, status: int | str) -> None:
    OUTCOMES.setdefault(entry, Counter())[status] += 1


@pytest.fixture
def victim():
    u = user("victim", Role.ADMIN)
    u.is_staff = True
    u.save()
    return u


def post(client, entry, username, password, forwarded):
    meta = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": forwarded}
    if entry == "token":
        body = json.dumps({"username": username, "password": password})
        return client.post("/api/v1/auth/token/", body, content_type="application/json", **meta)
    url = reverse("login") if entry == "page" else reverse("admin:login")
    # the form body as a client's bytes: a lone surrogate becomes bytes that are not UTF-8
    body = "&".join(
        f"{name}={quote_from_bytes(value.encode('utf-8', 'surrogatepass'))}"
        for name, value in (("username", username), ("password", password))
    )
    return client.post(url, body, content_type="application/x-www-form-urlencoded", **meta)


@pytest.mark.parametrize("entry", ["page", "admin", "token"])
def test_hostile_logins_get_no_5xx_and_log_nobody_in(client, victim, entry):
    @given(username=hostile_text, password=hostile_text, forwarded=addresses)
    def attempt(username, password, forwarded):
        client.cookies.clear()
        response = post(client, entry, username, password, forwarded)
        refused = response.status_code == 429 or "登录失败次数过多" in response.content.decode(
            errors="replace"
        )
        tally(entry, f"{response.status_code}{' (throttled)' if refused else ''}")
        assert response.status_code < 500, response.content[:300]
        assert response.status_code in (200, 400, 403, 429)  # never 302/200-with-token: nobody logged in
        if entry == "token":
            assert "token" not in response.json()
        assert "_auth_user_id" not in client.session

    attempt()
    assert get_user_model().objects.count() == 1


def test_hostile_health_requests_get_no_5xx(client):
    @given(
        query=st.text(max_size=80),
        forwarded=addresses,
        method=st.sampled_from(["GET", "HEAD", "POST", "PUT"]),
    )
    def probe(query, forwarded, method):
        response = client.generic(method, "/health/?" + query, HTTP_X_FORWARDED_FOR=forwarded)
        tally("health", str(response.status_code))
        assert response.status_code in (200, 405)

    probe()
