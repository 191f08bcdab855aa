"""Every failure under /api/ and /open311/ answers in that interface's own error format, and pages
answer a plain page: an uncaught exception (500, nothing of it shown), a database that is down or
timed out (503 with Retry-After), a 404 or a CSRF failure no view answered. Hostile JSON bodies
(nested 10,000 deep, or any shape Hypothesis makes) are a 400 with a message, never a 500."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from django.contrib.auth.views import LoginView
from django.db import OperationalError, connection
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from gridmap.api.views.layers import GridList
from gridmap.problems.models import Problem
from tests.api.conftest import SPOT

pytestmark = pytest.mark.django_db
SECRET = "secret-internal-detail-42"


def api_error(response, status: int) -> str:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert SECRET not in response.content.decode() and "Traceback" not in response.content.decode()
    return body["detail"]


def raising(exc: BaseException):
    def view(*args, **kwargs):
        raise exc

    return view


# -- the API ------------------------------------------------------------------------------------
def test_an_uncaught_exception_in_the_api_is_a_json_500_without_the_traceback(monkeypatch, town, as_user):
    monkeypatch.setattr(GridList, "get", raising(RuntimeError(SECRET)))
    client = as_user(town["leader"])
    client.raise_request_exception = False
    detail = api_error(client.get("/api/v1/grids/"), 500)
    assert "went wrong" in detail


def test_a_database_that_is_down_is_a_json_503_with_retry_after(monkeypatch, town, as_user):
    monkeypatch.setattr(GridList, "get", raising(OperationalError(f"database is locked {SECRET}")))
    client = as_user(town["leader"])
    client.raise_request_exception = False
    response = client.get("/api/v1/grids/")
    assert "not available" in api_error(response, 503)
    assert int(response["Retry-After"]) > 0


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite only: a mistake in SQL is its OperationalError"
)
def test_a_sqlite_error_that_is_not_about_availability_stays_a_500(monkeypatch, town, as_user):
    monkeypatch.setattr(GridList, "get", raising(OperationalError('near "x": syntax error')))
    client = as_user(town["leader"])
    client.raise_request_exception = False
    api_error(client.get("/api/v1/grids/"), 500)


@pytest.mark.parametrize("path", ["/api/", "/api", "/api/v2/grids/", "/api/v1/nothing/"])
def test_paths_no_api_view_serves_are_json_404s(path):
    api_error(Client().get(path), 404)


def test_a_failed_csrf_check_under_the_api_is_json(town):
    client = Client(enforce_csrf_checks=True)
    client.force_login(town["reporter"])
    assert "CSRF" in api_error(client.post("/api/v1/problems/", {"a": "1"}), 403)


def test_a_method_the_view_does_not_take_is_a_json_405(town, as_user):
    api_error(as_user(town["leader"]).delete("/api/v1/grids/"), 405)


def test_the_api_docs_tell_clients_how_to_retry_a_report():
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = response.json()
    overview = document["info"]["description"]
    assert "503" in overview and "Retry-After" in overview and "same `client_uuid`" in overview
    intake = document["paths"]["/api/v1/problems/"]["post"]
    assert "503" in intake["responses"] and "same `client_uuid`" in intake["description"]


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("body", [deep(10_000), '{"a":' * 10_000 + "1" + "}" * 10_000, deep(33)])
def test_deeply_nested_json_is_a_400_and_stores_nothing(town, as_user, body):
    client = as_user(town["reporter"])
    client.raise_request_exception = False
    for path in ("/api/v1/problems/", "/api/v1/auth/token/", f"/api/v1/problems/{0}/transitions/"):
        response = client.generic("POST", path, body, content_type="application/json")
        assert "nested too deeply" in api_error(response, 400), path
    assert not Problem.objects.exists()


def test_json_nested_within_the_limit_still_reaches_the_intake(town, as_user):
    body = {"lon": SPOT[0], "lat": SPOT[1], "category": "0301", "extra": json.loads(deep(20))}
    response = as_user(town["reporter"]).post("/api/v1/problems/", body, format="json")
    assert response.status_code in (201, 400), response.content  # the intake decides, not the parser


def test_a_body_that_is_not_json_is_a_400(town, as_user):
    client = as_user(town["reporter"])
    for body in ("{", "NaN", '{"lon": Infinity}', b"\xff\xfe{}"):
        response = client.generic("POST", "/api/v1/problems/", body, content_type="application/json")
        api_error(response, 400)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
OUTCOMES: Counter = Counter()


@given(
    value=JSON_VALUES,
    wrap=st.integers(min_value=0, max_value=3000),
    shape=st.sampled_from(["list", "object", "field"]),
)
def test_property_hostile_json_bodies_never_give_a_5xx(town, as_user, value, wrap, shape):
    """Any JSON value buried under up to 3,000 levels of lists or objects, or a report (as is, or
    under lists): a 2xx or 4xx, never a 5xx, and nothing stored unless acknowledged."""
    body = json.dumps(value)
    if shape == "list":
        body = "[" * wrap + body + "]" * wrap
    elif shape == "object":
        body = '{"lon":' * wrap + body + "}" * wrap
    else:  # a report, plain (then it may well be stored) or buried under lists
        body = json.dumps(
            {"lon": SPOT[0], "lat": SPOT[1], "category": "0301", "description": str(value)[:500]}
        )
        levels = 0 if wrap % 3 == 0 else wrap % 40 if wrap % 2 else wrap
        body = "[" * levels + body + "]" * levels
    client = as_user(town["reporter"])
    client.raise_request_exception = False
    before = Problem.objects.count()
    response = client.generic("POST", "/api/v1/problems/", body, content_type="application/json")
    OUTCOMES[response.status_code] += 1
    assert response.status_code < 500, response.content[:300]
    assert Problem.objects.count() == before + (response.status_code == 201)
    if response.status_code >= 400:
        api_error(response, response.status_code)


def test_property_outcomes_tally():
    """Prints what the property test's inputs got (run with -s)."""
    if OUTCOMES:
        print(
            f"\nhostile JSON bodies, POST /api/v1/problems/: {sum(OUTCOMES.values())} tried, {dict(OUTCOMES)}"
        )


# -- Open311 ------------------------------------------------------------------------------------
def open311_error(response, status: int, fmt: str) -> str:
    assert response.status_code == status, response.content[:500]
    text = response.content.decode()
    assert SECRET not in text and "Traceback" not in text
    if fmt == "xml":
        assert response["Content-Type"].startswith("application/xml")
        root = ET.fromstring(response.content)
        assert root.tag == "errors" and root.find("error/code").text == str(status)
        return root.find("error/description").text
    assert response["Content-Type"].startswith("application/json")
    (error,) = response.json()
    assert error["code"] == status
    return error["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_answers_an_uncaught_exception_in_its_format(monkeypatch, fmt):
    monkeypatch.setattr("gridmap.open311.documents.services_queryset", raising(RuntimeError(SECRET)))
    client = Client(raise_request_exception=False)
    open311_error(client.get(f"/open311/v2/services.{fmt}"), 500, fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_answers_a_database_down_with_a_503_in_its_format(monkeypatch, fmt):
    monkeypatch.setattr(
        "gridmap.open311.documents.services_queryset", raising(OperationalError("database is locked"))
    )
    client = Client(raise_request_exception=False)
    response = client.get(f"/open311/v2/services.{fmt}", {"lang": "en"})
    assert "not available" in open311_error(response, 503, fmt)
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_csrf_failures_come_in_its_format(fmt):
    # every Open311 endpoint is exempt from CSRF (another method gets the spec's 405), so the
    # failure view is called as Django calls it
    from django.test import RequestFactory

    from gridmap.urls import csrf_failure

    request = RequestFactory().post(f"/open311/v2/discovery.{fmt}", {"lang": "en"})
    response = csrf_failure(request, "CSRF cookie not set.")
    response.json = lambda: json.loads(response.content)  # as the test client's responses have
    assert "CSRF" in open311_error(response, 403, fmt)
    assert Client(enforce_csrf_checks=True).post(f"/open311/v2/discovery.{fmt}").status_code == 405


# -- pages --------------------------------------------------------------------------------------
def test_a_page_with_the_database_down_is_a_plain_chinese_503(monkeypatch, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    monkeypatch.setattr(LoginView, "get", raising(OperationalError("database is locked")))
    response = Client(raise_request_exception=False).get("/login/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html") and int(response["Retry-After"]) > 0
    assert "数据库" in response.content.decode()


def test_a_page_error_shows_nothing_of_the_exception(monkeypatch, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    monkeypatch.setattr(LoginView, "get", raising(RuntimeError(SECRET)))
    response = Client(raise_request_exception=False).get("/login/")
    assert response.status_code == 500 and SECRET not in response.content.decode()
    assert "服务器" in response.content.decode()


def test_a_json_field_inside_a_form_takes_the_body_depth_rule():
    """A step's ``params`` sent as JSON text in a multipart form was parsed on its own, with no
    depth bound of ours: 900 levels were accepted. It now takes the one JSON rule of bodies."""
    from rest_framework.exceptions import ValidationError

    from gridmap.api.inputs import json_object

    deep = '{"a":' * 900 + "1" + "}" * 900
    with pytest.raises(ValidationError):
        json_object(deep, "params")
    assert json_object('{"department": "cg"}', "params") == {"department": "cg"}
