"""Finding 11, in the application: the health endpoint, the request log without secrets, the
trusted-proxy rule for X-Forwarded-*, and the Content-Security-Policy header."""

from __future__ import annotations

import json
import logging
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st

from gridmap.core import csp
from gridmap.core.client import ForwardedHeadersMiddleware, client_address, parse_proxies
from gridmap.core.gunicorn_log import RedactingLogger
from gridmap.core.redact import REDACTED, redact_query, redact_request_line
from tests.factories import user

SECRET = "SECRET-4711-do-not-log"


# --- health --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_health_answers_ok_after_asking_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"] and "Set-Cookie" not in response


@pytest.mark.django_db
def test_health_is_503_when_the_database_does_not_answer(client):
    with mock.patch("gridmap.core.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_health_needs_no_login_and_is_exempt_from_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/health/").status_code == 200
    assert client.get("/dashboard/").status_code == 301  # everything else goes to https


# --- request log ---------------------------------------------------------------------------


@pytest.fixture
def request_log():
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    everything = Keep()
    root = logging.getLogger()
    request_logger = logging.getLogger("gridmap.request")
    root.addHandler(everything)
    request_logger.addHandler(everything)
    old = request_logger.level
    request_logger.setLevel(logging.INFO)
    try:
        yield records
    finally:
        root.removeHandler(everything)
        request_logger.removeHandler(everything)
        request_logger.setLevel(old)


@pytest.mark.django_db
def test_one_json_line_per_request_with_the_user_and_no_secret(client, request_log):
    leader = user("leader")
    client.force_login(leader)
    client.get(f"/open311/v2/requests.json?api_key={SECRET}&status=open")
    client.get(f"/dashboard/?token={SECRET}&password={SECRET}&Api%5FKey={SECRET}")
    client.get(f"/no-such-page/?key={SECRET}")  # a 404 is logged by Django too
    lines = [json.loads(r.getMessage()) for r in request_log if r.name == "gridmap.request"]
    assert [line["path"] for line in lines] == ["/open311/v2/requests.json", "/dashboard/", "/no-such-page/"]
    first = lines[0]
    assert first["method"] == "GET" and first["status"] == 403 and first["ip"] == "127.0.0.1"
    assert first["query"] == "api_key=%5Bredacted%5D&status=open" and isinstance(first["ms"], float)
    assert lines[1]["user"] == leader.pk and lines[1]["status"] == 200
    assert lines[2]["status"] == 404
    # what the configured handlers write (their formatters print the message and any traceback)
    everything = "\n".join(
        logging.Formatter("%(name)s %(levelname)s %(message)s").format(r) for r in request_log
    )
    assert SECRET not in everything


@pytest.mark.django_db
def test_the_log_adds_no_session_lookup(client, request_log, django_assert_num_queries):
    client.force_login(user("someone"))
    with django_assert_num_queries(1):  # the health query alone
        client.get("/health/")
    (line,) = [json.loads(r.getMessage()) for r in request_log if r.name == "gridmap.request"]
    assert line["user"] is None and line["status"] == 200


@given(st.text(max_size=60), st.sampled_from(["api_key", "token", "Password", "x_key", "API%5FKEY"]))
def test_no_secret_named_value_survives_redaction(value, name):
    from urllib.parse import quote

    query = f"a=1&{name}={quote(value)}&b=2"
    redacted = redact_query(query)
    assert (
        f"{name}={quote(REDACTED)}" in redacted and redacted.startswith("a=1&") and redacted.endswith("&b=2")
    )


def test_gunicorns_access_log_redacts_the_request_line_query_and_referer():
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": f"/open311/v2/requests.json?api_key={SECRET}", "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": f"api_key={SECRET}", "HTTP_REFERER": f"https://x/?token={SECRET}", "REMOTE_ADDR": "10.0.0.1",
        "HTTP_COOKIE": f"sessionid={SECRET}",
    }  # fmt: skip
    request = SimpleNamespace(
        headers=[("COOKIE", f"sessionid={SECRET}"), ("REFERER", environ["HTTP_REFERER"])]
    )
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
    assert SECRET not in json.dumps({k: str(v) for k, v in atoms.items()})
    assert atoms["r"] == "GET /open311/v2/requests.json?api_key=%5Bredacted%5D HTTP/1.1"
    assert redact_request_line("GET /a?b=1 HTTP/1.1") == "GET /a?b=1 HTTP/1.1"


# --- trusted proxies -----------------------------------------------------------------------


def through(middleware_settings, **meta):
    request = RequestFactory().get("/", **meta)
    seen = {}

    def view(r):
        seen["secure"] = r.is_secure()
        seen["address"] = client_address(r)
        seen["forwarded"] = r.META.get("HTTP_X_FORWARDED_FOR")
        return None

    with override_settings(**middleware_settings):
        ForwardedHeadersMiddleware(view)(request)
    return seen


def test_x_forwarded_headers_from_anyone_are_ignored():
    seen = through(
        {"GRIDMAP_TRUSTED_PROXIES": [], "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")},
        REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="10.9.9.9",
    )  # fmt: skip
    assert seen == {"secure": False, "address": "203.0.113.9", "forwarded": None}


def test_x_forwarded_headers_from_a_trusted_proxy_count():
    seen = through(
        {"GRIDMAP_TRUSTED_PROXIES": ["10.0.0.0/8"], "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")},
        REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.5",
    )  # fmt: skip
    assert seen["secure"] and seen["address"] == "198.51.100.7"


def test_a_client_cannot_choose_its_address_by_prepending_to_the_header():
    """Read from the right: the first untrusted hop is the client; garbage ends the walk."""
    trusted = {"GRIDMAP_TRUSTED_PROXIES": ["127.0.0.1"]}
    assert through(trusted, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.7")[
        "address"
    ] == ("198.51.100.7")
    assert (
        through(trusted, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, nonsense")["address"]
        == "127.0.0.1"
    )


def test_the_settings_trust_no_proxy_by_default_and_set_the_ssl_header_only_with_one(settings):
    """With DEBUG off, X-Forwarded-Proto was trusted from anyone; now only from a configured proxy."""
    assert settings.GRIDMAP_TRUSTED_PROXIES == []
    assert getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is None


@pytest.mark.django_db
def test_a_direct_client_claiming_https_is_not_believed(client):
    response = client.get("/health/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="203.0.113.9")
    assert response.wsgi_request.is_secure() is False


def test_a_bad_proxy_setting_stops_the_start():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="not-an-ip"):
        parse_proxies("127.0.0.1, not-an-ip")


# --- Content-Security-Policy ---------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_carries_the_policy(client):
    client.force_login(user("someone"))
    for url in ("/login/", "/health/", "/dashboard/", "/api/v1/docs/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "object-src 'none'" in policy
        assert "frame-ancestors 'self'" in policy and "base-uri 'self'" in policy


@pytest.mark.django_db
def test_inline_scripts_run_only_in_the_documents_made_of_them(client, settings):
    """Pages that show stored text allow no inline script; the folium map documents, the
    admin's geometry widget and the API docs do (they are inline scripts by construction)."""
    from django.urls import resolve

    client.force_login(user("someone"))
    strict = client.get("/dashboard/")["Content-Security-Policy"]
    assert "script-src 'self';" in strict
    for path in ("/grids/0001/map/", "/route/", "/api/v1/docs/", "/admin/login/"):
        request = RequestFactory().get(path)
        request.resolver_match = resolve(path)
        assert csp.needs_inline_scripts(request), path
    for path in ("/problems/1/", "/problems/report/", "/dashboard/", "/login/", "/evaluation/figures/"):
        request = RequestFactory().get(path)
        request.resolver_match = resolve(path)
        assert not csp.needs_inline_scripts(request), path


@pytest.mark.parametrize(
    "template, origins",
    [
        ("https://tiles.intranet/{z}/{x}/{y}.png", ("https://tiles.intranet",)),
        ("https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}", ("https://*.tianditu.gov.cn",)),
        ("http://{s}.tiles.lan:8080/{z}/{x}/{y}.png", ("http://*.tiles.lan:8080",)),
        ("/tiles/{z}/{x}/{y}.png", ()),
    ],
)
def test_the_tile_server_is_allowed_for_images(template, origins):
    assert csp.tile_origins(template) == origins
    assert all(o in csp._policy(template).split("img-src ")[1].split(";")[0] for o in origins)
