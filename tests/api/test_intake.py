"""POST /api/v1/problems/ (JSON intake) and photos on a problem."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from gridmap.problems.models import Problem, ProblemEvent, ProblemPhoto
from tests.api.conftest import SPOT, report
from tests.photos import jpeg

pytestmark = pytest.mark.django_db
URL = "/api/v1/problems/"


def body(**kw):
    return {"lon": SPOT[0], "lat": SPOT[1], "category": "0301", "description": "占道经营", **kw}


def test_a_report_is_created_and_answered_as_a_feature(town, as_user):
    t = town
    key = str(uuid.uuid4())
    response = as_user(t["reporter"]).post(URL, body(client_uuid=key), format="json")
    assert response.status_code == 201, response.content
    feature = response.json()
    problem = Problem.objects.get(uuid=key)
    assert feature["id"] == problem.pk and feature["properties"]["grid"] == t["g1"].code
    assert feature["properties"]["uuid"] == key and feature["possible_duplicates"] == []
    assert problem.reporter == t["reporter"] and problem.description == "占道经营"
    # the answer is the same feature the detail gives
    detail = as_user(t["reporter"]).get(f"{URL}{problem.pk}/").json()
    del detail["photos"], feature["possible_duplicates"]
    assert detail["properties"] == feature["properties"]
    assert detail["geometry"]["coordinates"] == pytest.approx(feature["geometry"]["coordinates"], abs=1e-7)


def test_a_replayed_client_uuid_returns_the_first_result(town, as_user):
    t = town
    key = str(uuid.uuid4())
    client = as_user(t["reporter"])
    first = client.post(URL, body(client_uuid=key), format="json")
    again = client.post(URL, body(client_uuid=key, description="changed"), format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert (
        again.json()["id"] == first.json()["id"] and again.json()["properties"]["description"] == "占道经营"
    )
    assert Problem.objects.count() == 1 and ProblemEvent.objects.count() == 1
    # someone else replaying that uuid learns nothing about it
    other = as_user(t["reporter2"]).post(URL, body(client_uuid=key), format="json")
    assert other.status_code == 409 and set(other.json()) == {"detail"}


def test_possible_duplicates_are_offered(town, as_user):
    t = town
    first = report(t)
    response = as_user(t["reporter2"]).post(URL, body(lon=SPOT[0] + 0.0001), format="json")
    dups = response.json()["possible_duplicates"]
    assert [d["id"] for d in dups] == [first.pk] and 5 < dups[0]["distance_m"] < 15


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"lat": SPOT[1], "category": "0301"}, "lon"),
        (body(extra="x"), "extra"),
        (body(category="9999"), "category"),
        (body(category=["0301"]), "category"),
        (body(category="0301'; drop table"), "category"),
        (body(description="长" * 10_000), "description"),
        (body(description="a\x00b"), "description"),
        (b'{"lon": 120.871, "lat": 31.621, "category": "0301", "description": "\\ud800"}', "description"),
        (body(description=123), "description"),
        (body(lon=1e308), "ongitude"),
        (b'{"lon": NaN, "lat": 31.621, "category": "0301"}', "NaN"),
        (b'{"lon": 1e999, "lat": 31.621, "category": "0301"}', "finite"),
        (body(lon="abc"), "number"),
        (body(lon=True), "number"),
        (body(lon=None), "lon"),
        (body(lat=SPOT[0], lon=SPOT[1]), "atitude"),
        (body(client_uuid="not-a-uuid"), "client_uuid"),
        (body(client_uuid=42), "client_uuid"),
        (body(reported_at="yesterday"), "reported_at"),
        (body(reported_at="2999-01-01T00:00:00+08:00"), "reported_at"),
        (body(reported_at="0001-01-01T00:00:00+08:00"), "reported_at"),
        ([1, 2, 3], "JSON object"),
    ],
)
def test_bad_reports_are_400_with_a_message(town, as_user, payload, field):
    client = as_user(town["reporter"])
    if isinstance(payload, bytes):
        response = client.post(URL, payload, content_type="application/json")
    else:
        response = client.post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]
    assert Problem.objects.count() == 0


def test_huge_numbers_are_refused_before_any_geometry(town, as_user):
    raw = b'{"lon": 1e308, "lat": 1e308, "category": "0301"}'
    response = as_user(town["reporter"]).post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    response = as_user(town["reporter"]).post(URL, b'{"lon": 1e999, "lat": 1, "category": "0301"}',
                                              content_type="application/json")  # fmt: skip
    assert response.status_code == 400


def test_naive_reported_at_is_shanghai_time(town, as_user):
    response = as_user(town["reporter"]).post(URL, body(reported_at="2024-05-01 08:00:00"), format="json")
    assert response.status_code == 201
    assert response.json()["properties"]["reported_at"] == "2024-05-01T00:00:00Z"


def test_text_keeps_chinese_emoji_and_html_as_text(town, as_user):
    text = '<img src=x onerror="alert(1)"> 盲道被占 🚧 ' + "字" * 3900
    response = as_user(town["reporter"]).post(URL, body(description=text), format="json")
    assert response.status_code == 201
    assert Problem.objects.get().description == text.strip()
    assert response["Content-Type"] == "application/geo+json"


def test_multipart_and_bad_json_to_the_json_endpoint(town, as_user):
    client = as_user(town["reporter"])
    response = client.post(URL, body(), format="multipart")
    assert response.status_code == 415 and "JSON" in response.json()["detail"]
    response = client.post(URL, b"{not json", content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()
    response = client.post(URL, "lon=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_a_user_without_a_role_may_not_report(db, as_user):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", password="pw-for-tests-only")
    response = as_user(nobody).post(URL, body(), format="json")
    assert response.status_code == 403


# -- photos -----------------------------------------------------------------------------------
def photo_url(problem) -> str:
    return f"{URL}{problem.pk}/photos/"


def test_the_reporter_adds_a_photo_with_its_gps(town, as_user):
    t = town
    p = report(t)
    upload = jpeg("../../../etc/passwd.jpg", lonlat=(SPOT[0] + 0.0001, SPOT[1]))
    response = as_user(t["reporter"]).post(photo_url(p), {"image": upload}, format="multipart")
    assert response.status_code == 201, response.content
    photo = ProblemPhoto.objects.get()
    assert photo.image.name.startswith(f"problems/{p.pk}/") and ".." not in photo.image.name
    assert photo.geom.x == pytest.approx(SPOT[0] + 0.0001, abs=1e-6) and photo.uploaded_by == t["reporter"]
    assert ProblemEvent.objects.filter(problem=p, action="photo").count() == 1
    detail = as_user(t["reporter"]).get(f"{URL}{p.pk}/").json()
    assert [ph["id"] for ph in detail["photos"]] == [photo.pk]


def test_photo_position_from_the_form_when_the_file_has_none(town, as_user):
    t = town
    p = report(t)
    form = {"image": jpeg(), "lon": str(SPOT[0]), "lat": str(SPOT[1])}
    assert as_user(t["leader"]).post(photo_url(p), form, format="multipart").status_code == 201
    form = {"image": jpeg(), "lon": "1e308", "lat": "1"}
    assert as_user(t["leader"]).post(photo_url(p), form, format="multipart").status_code == 400


def _bytes_file(name: str, data: bytes, content_type: str = "image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buf, "PNG")  # 400 Mpx in a few kB
    return buf.getvalue()


@pytest.mark.parametrize(
    "upload",
    [
        _bytes_file("x.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
        _bytes_file("x.jpg", b"<html><body>hi</body></html>"),
        _bytes_file("x.jpg", b"\xff\xd8\xff\xe0 truncated"),
        _bytes_file("x.png", b"just text"),
        _bytes_file("bomb.png", _bomb(), "image/png"),
    ],
    ids=["svg", "html", "truncated", "text", "bomb"],
)
def test_files_that_are_not_photos_are_refused(town, as_user, upload):
    p = report(town)
    response = as_user(town["reporter"]).post(photo_url(p), {"image": upload}, format="multipart")
    assert response.status_code == 400, response.content
    assert "photo" in response.json()["detail"].lower()
    assert ProblemPhoto.objects.count() == 0


def test_photo_upload_scope_and_shape(town, as_user):
    t = town
    p = report(t)
    assert (
        as_user(t["reporter2"]).post(photo_url(p), {"image": jpeg()}, format="multipart").status_code == 404
    )
    assert as_user(t["leader2"]).post(photo_url(p), {"image": jpeg()}, format="multipart").status_code == 404
    client = as_user(t["reporter"])
    assert client.post(photo_url(p), {"image": jpeg(), "x": "1"}, format="multipart").status_code == 400
    assert client.post(photo_url(p), {"lon": "1"}, format="multipart").status_code == 400
    assert client.post(photo_url(p), {"image": [jpeg(), jpeg()]}, format="multipart").status_code == 400
    assert client.post(photo_url(p), {"image": "x"}, format="json").status_code == 415
    assert client.post(f"{URL}999999/photos/", {"image": jpeg()}, format="multipart").status_code == 404
