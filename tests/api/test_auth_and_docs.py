"""Tokens, sessions, unauthenticated answers, and the OpenAPI document with offline docs pages."""

from __future__ import annotations

import re

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-only"


def test_a_token_for_a_username_and_password(town):
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "leader", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    key = response.json()["token"]
    assert Token.objects.get(key=key).user == town["leader"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/grids/").json()["numberMatched"] == 1
    again = APIClient().post("/api/v1/auth/token/", {"username": "leader", "password": PASSWORD})  # form
    assert again.json()["token"] == key


def test_a_token_can_be_revoked_and_is_refused_afterwards(town):
    client = APIClient()
    key = client.post("/api/v1/auth/token/", {"username": "leader", "password": PASSWORD}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert not Token.objects.filter(user=town["leader"]).exists()
    assert client.get("/api/v1/grids/").status_code == 401
    assert client.delete("/api/v1/auth/token/").status_code == 401
    assert APIClient().delete("/api/v1/auth/token/").status_code == 401
    fresh = APIClient().post("/api/v1/auth/token/", {"username": "leader", "password": PASSWORD})
    assert fresh.status_code == 200 and fresh.json()["token"] != key


def test_revoking_by_session_needs_the_csrf_token(town):
    Token.objects.create(user=town["leader"])
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(town["leader"])
    assert client.delete("/api/v1/auth/token/").status_code == 403
    assert Token.objects.filter(user=town["leader"]).exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "leader", "password": "wrong"},
        {"username": "leader"},
        {"username": "leader\x00", "password": PASSWORD},
        {"username": "x" * 10_000, "password": PASSWORD},
        {"username": "leader", "password": PASSWORD, "otp": "1"},
        {"username": ["leader"], "password": PASSWORD},
    ],
)
def test_bad_credentials_are_400(town, payload):
    response = APIClient().post("/api/v1/auth/token/", payload, format="json")
    assert response.status_code == 400 and response.json()["detail"]
    assert "token" not in response.json()


def test_sessions_work_too(town):
    client = APIClient()
    client.force_login(town["head"])
    assert client.get("/api/v1/grids/").json()["numberMatched"] == 2


@pytest.mark.parametrize("path", ["/api/v1/grids/", "/api/v1/problems/", "/api/v1/negative-list/",
                                  "/api/v1/positive-sites/", "/api/v1/problems/1/events/"])  # fmt: skip
@pytest.mark.parametrize(
    "header",
    [
        None,
        "Token 0123456789abcdef0123456789abcdef01234567",
        "Token abc\x00def",
        "Token " + "f" * 5000,
        "Token",
        "Token a b",
        "Bearer xyz",
        "Token 给我",
    ],  # fmt: skip
)
def test_unauthenticated_is_401_json(town, path, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["detail"] and response["WWW-Authenticate"] == "Token"


def test_unknown_paths_and_methods_answer_json(town, as_user):
    client = as_user(town["admin"])
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["detail"]
    response = client.get("/api/v1/grids")  # no trailing slash
    assert response.status_code == 404 and "slash" in response.json()["detail"]
    response = client.delete("/api/v1/grids/")
    assert response.status_code == 405 and response.json()["detail"]
    assert client.get("/api/v1/problems/abc/").status_code == 404


def test_openapi_document_lists_the_endpoints(db):
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/api/v1/grids/", "/api/v1/problems/", "/api/v1/problems/{id}/transitions/",
                 "/api/v1/negative-list/", "/api/v1/positive-sites/", "/api/v1/auth/token/"]:  # fmt: skip
        assert path in paths
    for name in ["coverage", "gaps", "suggestions", "hotspots", "route"]:
        operation = paths[f"/api/v1/analysis/{name}/"]["get"]
        assert operation["operationId"] == f"analysis_{name}"
        assert {p["name"] for p in operation["parameters"]} and "400" in operation["responses"]
    coverage = paths["/api/v1/analysis/coverage/"]["get"]
    assert {"kind", "metric", "radius_m", "grid", "uncovered", "bbox", "page", "page_size"} == {
        p["name"] for p in coverage["parameters"]
    }


def test_the_docs_page_uses_local_assets_only(db):
    response = APIClient().get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.findall(r"https?://", html), re.findall(r".{40}https?://.{40}", html)
    assert "/static/drf_spectacular_sidecar/" in html
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert APIClient().get(asset).status_code == 200, asset


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_the_hand_written_token_query_equals_the_orm(town):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from gridmap.api.auth import token_with_user

    head = town["head"]
    head.last_login = timezone.now()
    head.save()
    nobody = get_user_model().objects.create_user("nobody", password=PASSWORD, is_active=False)
    for u in (head, nobody):
        key = Token.objects.create(user=u).key
        ours = token_with_user(key)
        orm = Token.objects.select_related("user__profile").get(key=key)
        assert _fields(ours) == _fields(orm) and _fields(ours.user) == _fields(orm.user)
        assert type(ours.user.is_active) is bool and ours.user.last_login == orm.user.last_login
        if hasattr(orm.user, "profile"):
            assert _fields(ours.user.profile) == _fields(orm.user.profile)
            assert ours.user.profile.user is ours.user
        else:
            assert not hasattr(ours.user, "profile")
    assert token_with_user("0" * 40) is None
    inactive = APIClient()
    inactive.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=nobody).key}")
    assert inactive.get("/api/v1/grids/").status_code == 401
