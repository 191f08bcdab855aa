"""Every door that takes a photo (the report page, the API, Open311, a lifecycle step) stores it
the one way (``photos.problem_photo_attach``): tied to the audit event of the step it documents,
by the uploader, readable through the same scoped URL; and every door refuses the same bad files,
writing nothing."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import include, path, reverse
from PIL import Image

import gridmap.urls
from gridmap.accounts.models import Role
from gridmap.api.features import problem_photo_url
from gridmap.open311.models import ApiKey
from gridmap.problems.intake import problem_create
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import EventCategory, PositiveSiteEvent, Problem, ProblemEvent, ProblemPhoto
from gridmap.problems.services import positive_site_create, positive_site_photo_attach
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

urlpatterns = [path("problems/", include("gridmap.problems.urls")), *gridmap.urls.urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
SPOT = (LON0 + 0.001, LAT0 + 0.001)


@pytest.fixture
def town() -> dict[str, Any]:
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    app = user("citizen_app", Role.REPORTER)
    return {"leader": leader, "reporter": user("reporter", Role.REPORTER), "app": app,
            "category": EventCategory.objects.get(code="0301"), "key": ApiKey.create_for(app, "app")[1]}  # fmt: skip


def _reported(town: dict[str, Any]) -> Problem:
    problem, _ = problem_create(
        lon=SPOT[0], lat=SPOT[1], category=town["category"], reporter=town["reporter"]
    )
    return problem


def page(town: dict[str, Any], upload: Any) -> tuple[bool, Any, str]:
    client = Client()
    client.force_login(town["reporter"])
    form = {"category": town["category"].pk, "description": "占道", "lon": str(SPOT[0]), "lat": str(SPOT[1]),
            "client_uuid": str(uuid.uuid4()), "photos": upload}  # fmt: skip
    return client.post(reverse("problem-report"), form).status_code == 302, town["reporter"], "report"


def api(town: dict[str, Any], upload: Any) -> tuple[bool, Any, str]:
    problem = _reported(town)
    client = Client()
    client.force_login(town["reporter"])
    response = client.post(f"/api/v1/problems/{problem.pk}/photos/", {"image": upload})
    return response.status_code == 201, town["reporter"], "photo"


def open311(town: dict[str, Any], upload: Any) -> tuple[bool, Any, str]:
    form = {"api_key": town["key"], "service_code": town["category"].code, "lat": str(SPOT[1]),
            "long": str(SPOT[0]), "description": "占道", "media": upload}  # fmt: skip
    return Client().post("/open311/v2/requests.json", form).status_code == 201, town["app"], "report"


def lifecycle(town: dict[str, Any], upload: Any) -> tuple[bool, Any, str]:
    problem = _reported(town)
    try:
        problem_transition(problem_id=problem.pk, action="file", actor=town["leader"], photos=[upload])
    except ValidationError:
        return False, town["leader"], "file"
    return True, town["leader"], "file"


DOORS: dict[str, Callable[[dict[str, Any], Any], tuple[bool, Any, str]]] = {
    "page": page, "api": api, "open311": open311, "lifecycle": lifecycle,
}  # fmt: skip


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buf, "PNG")  # 400 Mpx in a few kB
    return buf.getvalue()


BAD = {
    "svg": ("x.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
    "truncated": ("x.jpg", b"\xff\xd8\xff\xe0 truncated"),
    "bomb": ("bomb.png", _bomb()),
}


@pytest.mark.parametrize("door", DOORS)
def test_every_door_ties_the_photo_to_its_event_and_serves_it_scoped(town, door):
    ok, uploader, action = DOORS[door](town, jpeg("scene.jpg", lonlat=(SPOT[0] + 0.0001, SPOT[1])))
    assert ok
    photo = ProblemPhoto.objects.select_related("event").get()
    assert photo.event is not None and photo.event.problem_id == photo.problem_id
    assert (photo.event.action, photo.event.actor, photo.uploaded_by) == (action, uploader, uploader)
    assert photo.geom.x == pytest.approx(SPOT[0] + 0.0001, abs=1e-6)  # its EXIF position
    assert photo.image.name.startswith(f"problems/{photo.problem_id}/") and "scene" not in photo.image.name
    url = problem_photo_url(photo.problem_id, photo.pk)
    for who, status in ((uploader, 200), (user("stranger", Role.REPORTER), 404)):
        client = Client()
        client.force_login(who)
        assert client.get(url).status_code == status, who


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("door", DOORS)
def test_every_door_refuses_the_same_bad_photos_writing_nothing(town, door, bad):
    name, data = BAD[bad]
    ok, _, _ = DOORS[door](town, SimpleUploadedFile(name, data, content_type="image/jpeg"))
    assert not ok and ProblemPhoto.objects.count() == 0
    # Nothing but the problem the api and lifecycle doors reported beforehand, and its report event.
    reported = 1 if door in {"api", "lifecycle"} else 0
    assert Problem.objects.count() == reported
    assert list(ProblemEvent.objects.values_list("action", flat=True)) == ["report"] * reported


@pytest.mark.parametrize("bad", BAD)
def test_a_site_photo_is_refused_by_the_same_rules(town, bad):
    site = positive_site_create(lon=SPOT[0], lat=SPOT[1], name="示范街", description="", user=town["leader"])
    name, data = BAD[bad]
    with pytest.raises(ValidationError):
        positive_site_photo_attach(
            site, SimpleUploadedFile(name, data, content_type="image/jpeg"), user=town["leader"]
        )
    site.refresh_from_db()
    assert not site.photo
    assert list(PositiveSiteEvent.objects.values_list("action", flat=True)) == ["create"]
    positive_site_photo_attach(site, jpeg(), user=town["leader"])
    assert list(PositiveSiteEvent.objects.values_list("action", "actor")) == [("create", town["leader"].pk),
                                                                               ("photo", town["leader"].pk)]  # fmt: skip
