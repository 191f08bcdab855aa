"""Bad input gets a 4xx in the spec's error format (JSON and XML), never a 500, and stores nothing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gridmap.open311.models import ApiKey
from gridmap.problems.models import Problem
from tests.open311 import schemas
from tests.open311.conftest import BASE, IN_A, a_post, report

pytestmark = pytest.mark.django_db


def refused(api, response, status: int = 400, fmt: str = "json") -> str:
    assert response.status_code == status, response.content
    if fmt == "xml":
        return schemas.assert_xml_error(response.content, status)
    (error,) = schemas.valid(api.json(response), schemas.ERRORS)
    assert error["code"] == status
    return error["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_keys_missing_wrong_or_inactive(api, town, fmt):
    # GeoReport v2: "403 - api_key was not provided or invalid"
    assert "api_key" in refused(api, api.post(fmt, **a_post(town, api_key=None)), 403, fmt)
    refused(api, api.post(fmt, **a_post(town, api_key="wrong")), 403, fmt)
    refused(api, api.post(fmt, **a_post(town, api_key="k" * 5000)), 403, fmt)
    ApiKey.objects.filter(owner=town["app"]).update(active=False)
    refused(api, api.post(fmt, **a_post(town)), 403, fmt)
    assert not Problem.objects.exists()


def test_a_key_of_a_deactivated_user_is_refused(api, town):
    town["app"].is_active = False
    town["app"].save()
    refused(api, api.post(**a_post(town)), 403)


BAD_COORDINATES = [
    ("1e308", "1e308"),
    ("1e308", str(IN_A[0])),
    (str(IN_A[1]), "-1e308"),
    ("NaN", str(IN_A[0])),
    (str(IN_A[1]), "nan"),
    ("inf", "-Infinity"),
    ("abc", "def"),
    ("31.6,", "120.8"),
    ("", str(IN_A[0])),
    (str(IN_A[1]), None),
    ("91", "120.8"),
    ("31.6", "180.5"),
    ("1" * 400, "120.8"),
    ("0x1p3", "120.8"),
]


@pytest.mark.parametrize(("lat", "lon"), BAD_COORDINATES)
def test_bad_coordinates_are_400_never_500(api, town, lat, lon):
    refused(api, api.post(**a_post(town, lat=lat, long=lon)))
    assert not Problem.objects.exists()


def test_bad_coordinates_in_xml(api, town):
    assert "Latitude" in refused(api, api.post("xml", **a_post(town, lat="1e308", lang="en")), fmt="xml")


def test_outside_the_service_area(api, town, settings):
    settings.GRIDMAP = {**settings.GRIDMAP, "SERVICE_AREA": "120.8,31.5,121.0,31.7"}
    from gridmap.core.geoinput import _area

    _area.cache_clear()
    try:
        refused(api, api.post(**a_post(town, lat="39.9", long="116.4")))
    finally:
        _area.cache_clear()


@pytest.mark.parametrize("code", [None, "", "9999", "0301' OR 1=1 --", "x" * 300])
def test_unknown_or_missing_service_code(api, town, code):
    refused(api, api.post(**a_post(town, service_code=code)))


def test_inactive_service_is_refused(api, town):
    town["category"].active = False
    town["category"].save()
    refused(api, api.post(**a_post(town)))


def test_description_length(api, town):
    assert "4000" in refused(api, api.post(**a_post(town, description="长" * 10_000, lang="en")))
    assert api.post(**a_post(town, description="长" * 4000)).status_code == 201


def test_html_in_a_description_stays_text(api, town):
    html = '<script>alert("x")</script><img src=x onerror=alert(1)> & 😀'
    request_id = api.json(api.post(**a_post(town, description=html)))[0]["service_request_id"]
    doc = api.json(api.get(f"requests/{request_id}", api_key=town["keys"]["app"]))[0]
    assert doc["description"] == html
    body = api.get(f"requests/{request_id}", "xml", api_key=town["keys"]["app"]).content
    assert b"<script>" not in body and b"&lt;script&gt;" in body
    assert ET.fromstring(body).findtext("request/description") == html


def test_control_characters_are_refused_and_stored_ones_keep_the_xml_well_formed(api, town):
    # the boundary's one text rule: control characters are refused at the door, as by the API
    refused(api, api.post(**a_post(town, description="a\x01b\x1bc\x0bd")))
    assert not Problem.objects.exists()
    # a row stored before the rule (or through the ORM) still reads as well-formed XML
    request_id = report(town, description="a\x01b\x1bc\x0bd").pk
    body = api.get(f"requests/{request_id}", "xml", api_key=town["keys"]["app"]).content
    assert ET.fromstring(body).findtext("request/description") == "abcd"


def test_nul_characters_are_refused(api, town):
    refused(api, api.post(**a_post(town, description="a\x00b")))
    refused(api, api.get("requests", api_key=town["keys"]["a"], service_code="03\x0001"))
    assert not Problem.objects.exists()


@pytest.mark.parametrize("field", ["device_id", "account_id"])
def test_client_ids_are_bounded(api, town, field):
    refused(api, api.post(**a_post(town, **{field: "x" * 101})))


@pytest.mark.parametrize(
    "params",
    [
        {"status": "pending"},
        {"status": "open,whatever"},
        {"start_date": "yesterday"},
        {"start_date": "2024-05-01T10:00:00"},  # no time zone
        {"start_date": "2024-13-01T00:00:00Z"},
        {"start_date": "0001-01-01T00:00:00Z"},
        {"end_date": "9999-12-31T23:59:59+08:00"},
        {"start_date": "2024-01-01T00:00:00+08:00", "end_date": "2024-06-01T00:00:00+08:00"},  # > 90 days
        {"start_date": "2024-02-01T00:00:00+08:00", "end_date": "2024-01-01T00:00:00+08:00"},
        {"service_request_id": "1,abc"},
        {"service_request_id": "9" * 40},
        {"service_request_id": ",".join(["1"] * 1001)},
        {"service_code": "9999"},
    ],
)
def test_bad_filters_are_400(api, town, params):
    refused(api, api.get("requests", api_key=town["keys"]["a"], **params))


@pytest.mark.parametrize("request_id", ["0", "999999", "abc", "1.5", "9" * 40, "%E2%91%A0"])
def test_unknown_request_is_404(api, town, request_id):
    refused(api, api.get(f"requests/{request_id}", api_key=town["keys"]["a"]), 404)


def test_rate_limited_per_key(api, town, settings):
    settings.GRIDMAP_OPEN311_RATE = "3/min"
    for _ in range(3):
        assert api.get("services", api_key=town["keys"]["a"]).status_code == 200
    refused(api, api.get("services", api_key=town["keys"]["a"]), 429)
    refused(api, api.post("xml", **a_post(town, api_key=town["keys"]["a"])), 429, "xml")
    assert api.get("services", api_key=town["keys"]["b"]).status_code == 200  # another key is not affected


def test_guessing_keys_is_rate_limited_by_address(api, town, settings):
    settings.GRIDMAP_OPEN311_ANON_RATE = "5/min"
    statuses = [api.post(**a_post(town, api_key=f"guess-{i}")).status_code for i in range(7)]
    assert statuses == [403] * 5 + [429] * 2


def test_other_methods_are_405(api, town):
    response = api.client.put(
        f"{BASE}/requests.json", "x=1", content_type="application/x-www-form-urlencoded"
    )
    assert refused(api, response, 405) and response["Allow"] == "GET, HEAD, POST"
    refused(api, api.client.delete(f"{BASE}/requests/1.xml"), 405, "xml")


def test_a_json_body_is_not_the_spec_but_still_a_clear_refusal(api, town):
    response = api.client.post(f"{BASE}/requests.json", a_post(town), content_type="application/json")
    assert "api_key" in refused(api, response, 403)  # no api_key in the form fields


def test_too_many_fields(api, town, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    fields = {**a_post(town), **{f"attribute[a{i}]": "x" for i in range(30)}}
    refused(api, api.post(**fields))


def test_a_body_too_large_is_413(api, town, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert "too large" in refused(
        api,
        api.client.post(f"{BASE}/requests.json?lang=en", {**a_post(town), "description": "x" * 5000}),
        413,
    )
    multipart = {**a_post(town), "description": "x" * 5000, "media": SimpleUploadedFile("a.jpg", b"x")}
    refused(api, api.client.post(f"{BASE}/requests.xml", multipart), 413, "xml")
    body = "&".join(f"{k}={v}" for k, v in a_post(town).items()) + "&description=" + "x" * 5000
    refused(
        api,
        api.client.post(f"{BASE}/requests.json", body, content_type="application/x-www-form-urlencoded"),
        413,
    )


@pytest.mark.parametrize("path", ["services/%00.json", "services/a%00b.xml", "requests/%00.json", "%00.json"])
def test_nul_in_the_path_is_a_4xx(client, town, path):
    response = client.get(f"{BASE}/{path}", {"api_key": town["keys"]["a"]})
    assert 400 <= response.status_code < 500
