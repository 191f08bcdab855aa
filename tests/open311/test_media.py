"""An Open311 request's photo is served only through the request's scope: ``media_url`` names the
scoped photo view (reachable with the caller's api_key, session or API token), which answers the
photo to whoever may see the request and refuses everyone else; nothing is served under /media/,
in debug or not."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image
from rest_framework.authtoken.models import Token

from gridmap.accounts.models import Role
from gridmap.problems.models import Problem, ProblemPhoto
from gridmap.problems.selectors import problems_visible_to
from tests.factories import user
from tests.open311.conftest import BASE, a_post
from tests.photos import jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploaded(api, town):
    """A request posted by the reporting app with a real JPEG; its media_url as the app reads it."""
    response = api.post(**a_post(town), media=jpeg("street.jpg", size=(80, 60)))
    assert response.status_code == 201, response.content
    request_id = api.json(response)[0]["service_request_id"]
    doc = api.json(api.get(f"requests/{request_id}", api_key=town["keys"]["app"]))[0]
    return Problem.objects.get(pk=request_id), doc["media_url"].removeprefix("http://testserver")


def _is_the_photo(response) -> bool:
    body = b"".join(response.streaming_content)
    return response["Content-Type"] == "image/jpeg" and Image.open(io.BytesIO(body)).size == (80, 60)


def test_media_url_answers_by_api_key_to_those_who_may_see_the_request(client, town, uploaded):
    problem, url = uploaded
    assert url.startswith(f"{BASE}/requests/{problem.pk}/media/")
    seen = {"app": town["app"], "a": town["leader_a"], "b": town["leader_b"]}
    for name, owner in seen.items():
        response = client.get(url, {"api_key": town["keys"][name]})
        may_see = problems_visible_to(owner).filter(pk=problem.pk).exists()
        assert response.status_code == (200 if may_see else 404), name
        if may_see:
            assert _is_the_photo(response), name
    assert problems_visible_to(town["leader_a"]).filter(pk=problem.pk).exists()  # the case that shows
    assert not problems_visible_to(town["leader_b"]).filter(pk=problem.pk).exists()  # the one refused
    refused = client.get(url, {"api_key": "not-a-key"})
    assert refused.status_code == 401 and refused["Content-Type"] == "application/json"
    anonymous = client.get(url)
    assert anonymous.status_code == 401 and b"street" not in anonymous.content


@pytest.mark.parametrize("role", ["leader_a", "leader_b", "handler", "inspector"])
def test_media_url_answers_sessions_and_tokens_within_scope(town, uploaded, role):
    problem, url = uploaded
    who = town[role]
    may_see = problems_visible_to(who).filter(pk=problem.pk).exists()
    session = Client()
    session.force_login(who)
    token = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=who).key}")
    for client in (session, token):
        response = client.get(url)
        assert response.status_code == (200 if may_see else 404), role
        if may_see:
            assert _is_the_photo(response)


def test_an_admin_sees_it_and_another_request_id_does_not_unlock_it(town, uploaded):
    problem, url = uploaded
    admin = Client()
    admin.force_login(user("root", Role.ADMIN))
    assert admin.get(url).status_code == 200
    photo = ProblemPhoto.objects.get(problem=problem)
    assert admin.get(f"{BASE}/requests/{problem.pk}/media/{photo.pk + 1}").status_code == 404
    assert admin.get(f"{BASE}/requests/{problem.pk + 1}/media/{photo.pk}").status_code == 404


@pytest.mark.parametrize("debug", [False, True])
def test_nothing_is_served_under_media(settings, town, uploaded, debug):
    settings.DEBUG = debug
    problem, _url = uploaded
    photo = ProblemPhoto.objects.get(problem=problem)
    admin = Client(raise_request_exception=False)
    admin.force_login(user("root", Role.ADMIN))
    for client in (Client(raise_request_exception=False), admin):
        response = client.get(f"/media/{photo.image.name}")
        assert response.status_code == 404
        assert not hasattr(response, "streaming_content") and b"JFIF" not in response.content
