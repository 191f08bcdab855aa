"""The machine interfaces answer in their own format whatever goes wrong, in debug or not: a POST
to a path without its slash, an unknown path under /api/ or /open311/ (no HTML 404, no CSRF page,
no APPEND_SLASH redirect or RuntimeError); ``/api/v1/`` is an index linking the OpenAPI document."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

API_PATHS = ["/api/v1/problems", "/api/v1/nothing/", "/api/x", "/api", "/api/", "/api/v2/grids/",
             "/api/v1/problems/1/photos/1"]  # fmt: skip
OPEN311_PATHS = [
    "/open311/v2/requests",
    "/open311/x/",
    "/open311",
    "/open311/v3/requests.json",
    "/open311/v2/",
]


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def client(request, settings):
    settings.DEBUG = request.param
    client = Client(enforce_csrf_checks=True)
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_api_paths_no_view_serves_answer_json_404(client, path, method):
    response = getattr(client, method)(path, {"a": "1"} if method == "post" else None)
    assert response.status_code == 404, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert "slash" in response.json()["detail"]


def test_a_post_without_the_slash_names_the_path_with_it(client):
    detail = client.post("/api/v1/problems", {"a": "1"}).json()["detail"]
    assert "/api/v1/problems/" in detail


@pytest.mark.parametrize("path", OPEN311_PATHS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_open311_paths_no_view_serves_answer_in_its_format(client, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()[0]["code"] == 404


@pytest.mark.parametrize("path", ["/open311/v2/nothing.xml", "/open311/x.xml", "/open311/v2/requests/.xml"])
def test_open311_answers_xml_when_the_path_asks(client, path):
    xml = client.post(path)
    assert xml.status_code == 404 and xml["Content-Type"].startswith("application/xml")
    assert ET.fromstring(xml.content).find("error/code").text == "404"


def test_pages_keep_their_own_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_the_api_index_links_the_openapi_document_and_its_ui(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    links = {link["rel"]: link for link in response.json()["links"]}
    assert links["service-desc"]["href"] == "http://testserver/api/v1/schema/"
    assert links["service-doc"]["href"] == "http://testserver/api/v1/docs/"
    assert client.get("/api/v1/schema/").status_code == 200
    refused = client.post("/api/v1/", {})
    assert refused.status_code == 405 and refused.json()["detail"]
    for path in ("/api/v1/schema/", "/api/v1/docs/"):
        refused = client.put(path)
        assert refused.status_code == 405 and refused["Content-Type"] == "application/json", path


_segment = st.one_of(
    st.sampled_from(
        [
            "schema",
            "docs",
            "grids",
            "problems",
            "1",
            "photos",
            "auth",
            "token",
            "analysis",
            "gaps",
            "requests.json",
            "requests.xml",
            "discovery.json",
            "services.xml",
            "media",
            "items",
            "queryables",
            "conformance",
        ]
    ),  # fmt: skip
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#%\x00"), max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.sampled_from(["/api", "/api/v1", "/open311", "/open311/v2", "/ogc", "/ogc/collections"]),
    segments=st.lists(_segment, max_size=3),
    slash=st.booleans(),
    method=st.sampled_from(["get", "post", "put", "patch", "delete"]),
)
def test_property_any_path_under_an_interface_answers_in_its_format(client, prefix, segments, slash, method):
    """Whatever the path and method: never a 5xx, and every error in the interface's format (the
    one HTML page served there is the API document's UI, a 200)."""
    path = "/".join([prefix, *segments]) + ("/" if slash else "")
    response = getattr(client, method)(path)
    assert response.status_code < 500, (path, response.status_code)
    kind = response["Content-Type"] if response.has_header("Content-Type") else ""
    if response.status_code >= 400:
        assert kind.startswith(("application/json", "application/xml")), (path, kind)


def test_the_ogc_landing_without_its_slash_is_sent_to_it(client):
    """What a GIS user types (``/ogc``) reaches the landing page; other methods get the JSON 404."""
    response = client.get("/ogc", {"f": "json"})
    assert response.status_code == 301 and response["Location"] == "/ogc/?f=json"
    refused = client.post("/ogc")
    assert refused.status_code == 404 and refused["Content-Type"] == "application/json"


@pytest.mark.parametrize("accept", ["application/geo+json", "application/json", "text/csv", "image/webp"])
def test_what_accept_asks_for_never_earns_a_406(town, as_user, accept):
    """Each operation has one representation, the one its document names: GeoJSON lists answer
    it whatever Accept says, and errors stay JSON."""
    client = as_user(town["admin"])
    listed = client.get("/api/v1/problems/", HTTP_ACCEPT=accept)
    assert listed.status_code == 200 and listed["Content-Type"] == "application/geo+json"
    missing = client.get("/api/v1/problems/999999999/", HTTP_ACCEPT=accept)
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
