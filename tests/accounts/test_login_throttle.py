"""Finding 7: failed logins are limited per account and address, in the shared cache, by one rule
for the login page, the admin's login and the token endpoint; a refusal says how long to wait and
nobody else is locked out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse

from gridmap.accounts.models import Role
from gridmap.core import throttle
from tests.factories import user

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-for-tests-only"
ATTACKER = "10.0.0.66"
REFUSED_ZH = "登录失败次数过多"


def page_login(client, username, password, address):
    response = client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )
    return response.status_code == 302, response


def admin_login(client, username, password, address):
    response = client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )
    return response.status_code == 302, response


def token_login(client, username, password, address):
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, content_type="application/json",
        REMOTE_ADDR=address,
    )  # fmt: skip
    return response.status_code == 200, response


ENTRY_POINTS = {"page": page_login, "admin": admin_login, "token": token_login}


def staff(name: str):
    u = user(name, Role.ADMIN)
    u.is_staff = True
    u.save()
    return u


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_fifty_wrong_passwords_then_the_right_one_is_refused_for_a_while(client, entry, monkeypatch):
    login = ENTRY_POINTS[entry]
    staff("victim")
    for _ in range(50):
        ok, _response = login(client, "victim", "wrong", ATTACKER)
        assert not ok
    ok, response = login(client, "victim", PASSWORD, ATTACKER)
    assert not ok
    text = response.content.decode()
    assert REFUSED_ZH in text and "15" in text  # how long to wait, in Chinese by default
    if entry == "token":
        assert response.status_code == 429 and int(response["Retry-After"]) > 0
        assert set(response.json()) >= {"detail"}
    # once the window has passed, the right password works again
    later = time.time() + 15 * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)
    ok, response = login(client, "victim", PASSWORD, ATTACKER)
    assert ok, response.content[:500]


def test_the_refusal_is_said_in_english_when_asked(client):
    user("victim")
    for _ in range(5):
        page_login(client, "victim", "wrong", ATTACKER)
    client.cookies["django_language"] = "en"
    ok, response = page_login(client, "victim", PASSWORD, ATTACKER)
    assert not ok and "Too many failed logins. Try again in 15 minutes." in response.content.decode()


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_another_user_on_the_same_address_still_logs_in(client, entry):
    login = ENTRY_POINTS[entry]
    staff("victim"), staff("colleague")
    for _ in range(60):  # more than the token endpoint's old 60 requests a minute per address
        login(client, "victim", "wrong", ATTACKER)
    ok, response = login(client, "colleague", PASSWORD, ATTACKER)
    assert ok, response.content[:500]


def test_the_same_account_elsewhere_is_held_only_by_the_account_limit(client):
    """5 failures lock the pair; the account is locked everywhere only at 20, except from an
    address it has logged in from before."""
    user("victim")
    ok, _ = page_login(client, "victim", PASSWORD, "10.0.0.1")  # the victim's own office
    assert ok
    client.logout()
    for _ in range(5):
        page_login(client, "victim", "wrong", ATTACKER)
    assert not page_login(client, "victim", PASSWORD, ATTACKER)[0]  # pair locked
    ok, _ = page_login(client, "victim", PASSWORD, "10.0.0.2")  # another address: not yet
    assert ok
    client.logout()
    for i in range(15):  # 20 failures in all, spread over other addresses
        page_login(client, "victim", "wrong", f"10.0.1.{i}")
    ok, response = page_login(client, "victim", PASSWORD, "10.0.0.3")  # now the account is held
    assert not ok and REFUSED_ZH in response.content.decode()
    ok, _ = page_login(client, "victim", PASSWORD, "10.0.0.1")  # but not where it is known
    assert ok


def test_one_address_trying_many_accounts_is_held_after_the_address_limit(client):
    user("colleague")
    ok, _ = page_login(client, "colleague", PASSWORD, ATTACKER)  # a known pair
    client.logout()
    for i in range(100):
        page_login(client, f"guess{i}", "wrong", ATTACKER)
    assert not page_login(client, "newcomer", "whatever", ATTACKER)[0]
    assert throttle.refusal(ATTACKER, "newcomer") is not None
    ok, _ = page_login(client, "colleague", PASSWORD, ATTACKER)
    assert ok  # who has logged in from here before is held only by their own count


def test_the_client_address_behind_a_trusted_proxy_is_the_forwarded_one(client, settings):
    settings.GRIDMAP_TRUSTED_PROXIES = ["127.0.0.1"]
    user("victim"), user("colleague")
    for _ in range(5):
        page_login_via_proxy(client, "victim", "wrong", ATTACKER)
    assert throttle.refusal(ATTACKER, "victim") is not None
    assert throttle.refusal("127.0.0.1", "victim") is None  # the proxy itself is not the client
    ok, _ = page_login_via_proxy(client, "victim", PASSWORD, "10.0.0.9")
    assert ok


def page_login_via_proxy(client, username, password, address):
    response = client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=address,
    )  # fmt: skip
    return response.status_code == 302, response


def test_a_forged_forwarded_for_is_ignored_without_a_trusted_proxy(client, settings):
    settings.GRIDMAP_TRUSTED_PROXIES = []
    user("victim")
    for i in range(5):
        client.post(reverse("login"), {"username": "victim", "password": "wrong"}, REMOTE_ADDR=ATTACKER,
                    HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")  # fmt: skip
    assert throttle.refusal(ATTACKER, "victim") is not None


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


CHILD = """
import django, os, sys
django.setup()
from gridmap.core import throttle
for _ in range(int(sys.argv[1])):
    throttle.failed(sys.argv[2], sys.argv[3])
print(throttle.refusal(sys.argv[2], sys.argv[3]) is not None)
"""


@pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")
def test_the_limit_holds_across_two_processes_sharing_redis(client):
    """Another process (another gunicorn worker) fails 4 times; this one sees them: one more
    failure here locks the pair, and the other process sees the lock."""
    url = "redis://127.0.0.1:6379/12"
    prefix = f"test-throttle-{uuid.uuid4().hex}"
    shared = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.child_settings", "GRIDMAP_CACHE_URL": url,
           "GRIDMAP_TEST_CACHE_PREFIX": prefix}  # fmt: skip
    user("victim")
    with override_settings(CACHES=shared):
        try:
            other = subprocess.run([sys.executable, "-c", CHILD, "4", ATTACKER, "victim"], env=env, cwd=ROOT,
                                   capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
            assert other.stdout.strip() == "False", other.stderr
            ok, _ = page_login(client, "victim", "wrong", ATTACKER)  # the fifth failure, in this process
            ok, response = page_login(client, "victim", PASSWORD, ATTACKER)
            assert not ok and REFUSED_ZH in response.content.decode()
            seen = subprocess.run([sys.executable, "-c", CHILD, "0", ATTACKER, "victim"], env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
            assert seen.stdout.strip() == "True", seen.stderr
        finally:
            import redis

            connection = redis.Redis.from_url(url)
            for key in connection.scan_iter(f"{prefix}:*"):
                connection.delete(key)
            caches["default"].close()
