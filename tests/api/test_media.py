"""Photos through the API: scoped file URLs for problem photos and positive-list site photos."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridmap.problems.models import PositiveSite, PositiveSiteEvent
from tests.api.conftest import SPOT, report
from tests.photos import jpeg

pytestmark = pytest.mark.django_db
SITES = "/api/v1/positive-sites/"


def _image(response) -> Image.Image:
    import io

    return Image.open(io.BytesIO(b"".join(response.streaming_content)))


def test_problem_photo_urls_answer_only_within_scope(town, as_user):
    t = town
    p = report(t)
    added = as_user(t["reporter"]).post(
        f"/api/v1/problems/{p.pk}/photos/", {"image": jpeg()}, format="multipart"
    )
    url = added.json()["url"]
    assert url == f"/api/v1/problems/{p.pk}/photos/{added.json()['id']}/" and "/media/" not in url
    detail = as_user(t["leader"]).get(f"/api/v1/problems/{p.pk}/").json()
    assert [ph["url"] for ph in detail["photos"]] == [url]
    for who in ("reporter", "leader", "head", "admin"):
        response = as_user(t[who]).get(url)
        assert response.status_code == 200, who
        assert response["Content-Type"] == "image/jpeg" and _image(response).format == "JPEG"
    for who in ("reporter2", "leader2", "head2"):
        assert as_user(t[who]).get(url).status_code == 404, who
    assert as_user().get(url).status_code == 401
    assert as_user(t["reporter"]).get(f"/api/v1/problems/{p.pk}/photos/999999/").status_code == 404
    other = report(t)
    assert as_user(t["reporter"]).get(url.replace(f"/{p.pk}/", f"/{other.pk}/")).status_code == 404


def _site(t, as_user) -> int:
    site = {"lon": SPOT[0], "lat": SPOT[1], "name": "文明示范街"}
    return as_user(t["leader"]).post(SITES, site, format="json").json()["id"]


def test_a_positive_site_gets_a_photo_served_in_scope(town, as_user, django_capture_on_commit_callbacks):
    t = town
    pk = _site(t, as_user)
    response = as_user(t["leader"]).post(f"{SITES}{pk}/photo/", {"image": jpeg()}, format="multipart")
    assert response.status_code == 200, response.content
    url = response.json()["properties"]["photo_url"]
    assert url == f"{SITES}{pk}/photo/"
    listed = as_user(t["head"]).get(SITES).json()["features"]
    assert [f["properties"]["photo_url"] for f in listed] == [url]
    assert _image(as_user(t["head"]).get(url)).format == "JPEG"
    assert _trail(pk) == [("create", "leader", {}), ("photo", "leader", {"replaced": False})]
    assert as_user(t["head2"]).get(url).status_code == 404
    assert as_user(t["reporter"]).get(url).status_code == 404
    # a second photo replaces the first, and the old file goes
    old = PositiveSite.objects.get(pk=pk).photo
    storage, old_name = old.storage, old.name
    buf = SimpleUploadedFile("x.png", _png(), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        assert as_user(t["head"]).post(url, {"image": buf}, format="multipart").status_code == 200
    assert PositiveSite.objects.get(pk=pk).photo.name.endswith(".png") and not storage.exists(old_name)
    assert _trail(pk)[-1] == ("photo", "head", {"replaced": True})


def _trail(pk: int) -> list[tuple]:
    return list(PositiveSiteEvent.objects.filter(site=pk).values_list("action", "actor__username", "data"))


def _png() -> bytes:
    import io

    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, "PNG")
    return out.getvalue()


def test_site_photo_refusals_leave_the_site_unchanged(town, as_user):
    t = town
    pk = _site(t, as_user)
    url = f"{SITES}{pk}/photo/"
    assert as_user(t["leader"]).get(url).status_code == 404  # no photo yet
    fake = SimpleUploadedFile("x.jpg", b"<svg onload=alert(1)>", content_type="image/jpeg")
    assert as_user(t["leader"]).post(url, {"image": fake}, format="multipart").status_code == 400
    assert as_user(t["planner"]).post(url, {"image": jpeg()}, format="multipart").status_code == 403
    assert as_user(t["leader2"]).post(url, {"image": jpeg()}, format="multipart").status_code == 404
    assert as_user(t["leader"]).post(url, {"image": [jpeg(), jpeg()]}, format="multipart").status_code == 400
    assert as_user(t["leader"]).post(url, {"photo": jpeg()}, format="multipart").status_code == 400
    assert (
        as_user(t["leader"]).post(f"{SITES}999999/photo/", {"image": jpeg()}, format="multipart").status_code
        == 404
    )
    assert not PositiveSite.objects.get(pk=pk).photo
    assert list(PositiveSiteEvent.objects.filter(site=pk).values_list("action", flat=True)) == ["create"]
