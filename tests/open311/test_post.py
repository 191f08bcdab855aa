"""POST requests: a full round trip through the closed loop, locations, attributes, idempotence and
what is (not) kept of the reporter."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gridmap.open311.models import Submission
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import Problem, ProblemPhoto, Status
from tests.open311 import schemas
from tests.open311.conftest import BASE, IN_A, a_post
from tests.photos import jpeg

pytestmark = pytest.mark.django_db


def created_id(api, response) -> str:
    assert response.status_code == 201, response.content
    (doc,) = schemas.valid(api.json(response), schemas.POST_RESPONSE)
    return doc["service_request_id"]


def one(api, key: str, request_id: str, fmt: str = "json"):
    response = api.get(f"requests/{request_id}", fmt, api_key=key)
    assert response.status_code == 200, response.content
    if fmt == "xml":
        return response
    (doc,) = schemas.valid(api.json(response), schemas.REQUESTS)
    return doc


def test_round_trip_from_post_to_closed(api, town):
    t = town
    request_id = created_id(api, api.post(**a_post(t)))
    doc = one(api, t["keys"]["app"], request_id)
    assert doc["status"] == "open" and doc["service_code"] == "0301" and doc["service_name"] == "占道经营"
    assert doc["lat"] == pytest.approx(IN_A[1]) and doc["long"] == pytest.approx(IN_A[0])
    assert doc["requested_datetime"].endswith("+08:00") and doc["updated_datetime"].endswith("+08:00")
    assert doc["expected_datetime"] is None and doc["agency_responsible"] is None
    problem = Problem.objects.get(pk=int(request_id))
    assert problem.reporter == t["app"] and problem.grid == t["grid_a"]
    for action, actor, kw in (
        ("file", t["leader_a"], {}),
        ("dispatch", t["leader_a"], {}),
        ("handle", t["handler"], {"photos": [jpeg(lonlat=IN_A)]}),
    ):
        problem_transition(problem_id=problem.pk, action=action, actor=actor, **kw)
    doc = one(api, t["keys"]["a"], request_id)  # the grid leader sees it too
    assert doc["status"] == "open" and doc["agency_responsible"] == "城管执法中队"
    assert doc["expected_datetime"].endswith("+08:00")
    problem_transition(problem_id=problem.pk, action="verify_pass", actor=t["inspector"])
    doc = one(api, t["keys"]["app"], request_id)
    assert doc["status"] == "closed" and doc["status_notes"] == "已结案"
    assert datetime.fromisoformat(doc["updated_datetime"]) >= datetime.fromisoformat(
        doc["requested_datetime"]
    )
    schemas.assert_xml_mirrors(
        one(api, t["keys"]["app"], request_id, "xml").content, [doc], "service_requests"
    )
    listed = schemas.valid(
        api.json(api.get("requests", api_key=t["keys"]["app"], status="closed")), schemas.REQUESTS
    )
    assert [d["service_request_id"] for d in listed] == [request_id]


def test_post_answer_in_xml(api, town):
    response = api.post("xml", **a_post(town, account_id="acct-7"))
    assert response.status_code == 201
    problem = Problem.objects.get()
    notice = ET.fromstring(response.content).findtext("request/service_notice")
    assert "72" in notice
    doc = [{"service_request_id": str(problem.pk), "service_notice": notice, "account_id": "acct-7"}]
    schemas.assert_xml_mirrors(response.content, doc, "service_requests")


def test_an_address_resolves_to_its_building(api, town):
    building = town["building"]
    for address in (building.address, building.address.upper()):
        request_id = created_id(api, api.post(**a_post(town, lat=None, long=None, address_string=address,
                                                       description=address)))  # fmt: skip
        doc = one(api, town["keys"]["app"], request_id)
        assert doc["address"] == address and doc["address_id"] == str(building.pk)
        assert doc["lat"] == pytest.approx(IN_A[1], abs=2e-4) and doc["long"] == pytest.approx(
            IN_A[0], abs=2e-4
        )
    by_id = created_id(api, api.post(**a_post(town, lat=None, long=None, address_id=str(building.pk))))
    assert one(api, town["keys"]["app"], by_id)["address"] == building.address


@pytest.mark.parametrize(
    ("where", "status"),
    [({"address_string": "火星路1号"}, 404), ({"address_id": "999999"}, 404), ({"address_id": "abc"}, 400),
     ({"address_id": "²"}, 400), ({"address_string": "x" * 201}, 400), ({}, 400), ({"lat": ""}, 400)],
)  # fmt: skip
def test_unresolvable_locations_are_refused(api, town, where, status):
    """An address or building that is not there is 404 (a reference to nothing, as an unknown
    jurisdiction_id); a location that cannot be read is 400."""
    response = api.post(**{**a_post(town, lat=None, long=None), **where})
    assert response.status_code == status
    schemas.valid(api.json(response), schemas.ERRORS)
    assert not Problem.objects.exists()


def test_attributes_are_checked_and_kept(api, town):
    base = a_post(town, service_code="0304")
    missing = api.post(**base)
    assert missing.status_code == 400 and "fully_blocked" in api.json(missing)[0]["description"]
    assert api.post(**base, **{"attribute[fully_blocked]": "maybe"}).status_code == 400
    assert (
        api.post(**base, **{"attribute[fully_blocked]": "yes", "attribute[colour]": "red"}).status_code == 400
    )
    request_id = created_id(api, api.post(**base, **{"attribute[fully_blocked]": "yes"}))
    assert Submission.objects.get(problem_id=int(request_id)).attributes == {"fully_blocked": "yes"}
    road = a_post(town, service_code="0501", **{"attribute[danger]": "no"})
    assert api.post(**road, **{"attribute[size_m]": "1e999"}).status_code == 400
    created_id(api, api.post(**road, **{"attribute[size_m]": "2.5"}))


def test_a_double_post_makes_one_request(api, town):
    first = created_id(api, api.post(**a_post(town)))
    again = api.post(**a_post(town))
    assert again.status_code == 200 and api.json(again)[0]["service_request_id"] == first
    other = created_id(api, api.post(**a_post(town, description="另一处摊贩")))
    assert other != first and Problem.objects.count() == 2


def test_the_same_client_uuid_is_one_request_even_later(api, town, settings):
    settings.GRIDMAP_OPEN311_DEDUP_SECONDS = 1
    token = "0b6f4f7e-9a51-4a89-8f0c-3c1e1b7f2d10"
    first = created_id(api, api.post(**a_post(town, client_uuid=token)))
    Submission.objects.update(created_at=timezone.now() - timezone.timedelta(days=1))
    again = api.post(**a_post(town, client_uuid=token, description="离线重发"))
    assert again.status_code == 200 and api.json(again)[0]["service_request_id"] == first
    # Another key with the same client uuid is another client: its own request.
    assert created_id(api, api.post(**a_post(town, client_uuid=token, api_key=town["keys"]["a"]))) != first
    assert api.post(**a_post(town, client_uuid="not-a-uuid")).status_code == 400


def test_personal_data_is_not_kept_or_shown(api, town):
    fields = a_post(town, email="li.ming@example.invalid", first_name="明", last_name="李",
                    phone="13800000000", device_id="dev-1", account_id="acct-1")  # fmt: skip
    request_id = created_id(api, api.post(**fields))
    problem = Problem.objects.get(pk=int(request_id))
    stored = " ".join(str(v) for v in Submission.objects.filter(problem=problem).values().get().values())
    for secret in ("li.ming", "13800000000", "李"):
        assert secret not in stored and secret not in problem.description
    for key in ("app", "a"):
        body = api.get(f"requests/{request_id}", api_key=town["keys"][key]).content.decode()
        for secret in ("li.ming", "13800000000", "citizen_app", "acct-1", "dev-1"):
            assert secret not in body


def test_a_photo_becomes_the_media_url(api, town):
    request_id = created_id(api, api.post(**a_post(town), media=jpeg("x.jpg")))
    doc = one(api, town["keys"]["app"], request_id)
    photo = ProblemPhoto.objects.get()
    assert doc["media_url"] == f"http://testserver{BASE}/requests/{request_id}/media/{photo.pk}"
    assert photo.uploaded_by == town["app"]
    svg = SimpleUploadedFile(
        "evil.jpg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', content_type="image/jpeg"
    )
    refused = api.client.post(f"{BASE}/requests.json", {**a_post(town, description="svg"), "media": svg})
    assert refused.status_code == 400 and schemas.valid(api.json(refused), schemas.ERRORS)
    assert Problem.objects.count() == 1 and ProblemPhoto.objects.count() == 1


def test_media_url_is_stored_not_fetched(api, town):
    request_id = created_id(api, api.post(**a_post(town, media_url="https://example.invalid/p/1.jpg")))
    assert one(api, town["keys"]["app"], request_id)["media_url"] == "https://example.invalid/p/1.jpg"
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "https://" + "a" * 600 + ".cn/"):
        response = api.post(**a_post(town, media_url=bad, description=bad[:20]))
        assert response.status_code == 400 and schemas.valid(api.json(response), schemas.ERRORS)


def test_status_notes_name_the_step_and_rejected_is_closed(api, town):
    request_id = created_id(api, api.post(**a_post(town)))
    problem_transition(problem_id=int(request_id), action="reject", actor=town["leader_a"], note="不属实")
    doc = one(api, town["keys"]["a"], request_id)
    assert doc["status"] == "closed" and doc["status_notes"] == "不予立案"
    assert Problem.objects.get().status == Status.REJECTED


def test_racing_double_posts_meet_on_one_client_id(api, town, settings):
    # The content lookup misses (as for two POSTs at the same instant); the client id derived from
    # key, content and time window still makes them one request.
    settings.GRIDMAP_OPEN311_DEDUP_SECONDS = 10**6
    first = created_id(api, api.post(**a_post(town)))
    Submission.objects.update(created_at=timezone.now() - timezone.timedelta(seconds=2 * 10**6))
    again = api.post(**a_post(town))
    assert again.status_code == 200 and api.json(again)[0]["service_request_id"] == first
    assert Problem.objects.count() == 1 and Submission.objects.count() == 1


def test_a_post_needs_no_csrf_token_and_ignores_the_session(town):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(town["leader_a"])
    assert client.post(f"{BASE}/requests.json", a_post(town)).status_code == 201
    without_key = client.post(f"{BASE}/requests.json", a_post(town, api_key=None, description="no key"))
    assert without_key.status_code == 403  # a session never stands in for the api_key


def test_a_post_must_lie_in_its_jurisdiction(api, town):
    from gridmap.geography.models import District

    District.objects.create(code="320582", name="另一区")
    assert api.post(**a_post(town)).status_code == 400  # jurisdiction_id required now
    assert api.post(**a_post(town, jurisdiction_id="320582")).status_code == 400
    assert api.post(**a_post(town, jurisdiction_id="999999")).status_code == 404
    created_id(api, api.post(**a_post(town, jurisdiction_id="320581")))


def test_keys_are_made_in_the_admin_and_shown_once(client, town):
    from django.contrib.auth import get_user_model

    from gridmap.open311.models import ApiKey, hash_key

    client.force_login(get_user_model().objects.create_superuser("root", "root@example.invalid", "pw"))
    response = client.post(
        "/admin/open311/apikey/add/",
        {"name": "志愿者小程序", "owner": town["app"].pk, "active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="志愿者小程序")
    (message,) = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    # The key is shown once inside a sentence (Chinese punctuation may touch it).
    raw = re.search(re.escape(key.prefix) + r"[A-Za-z0-9_\-]*", message).group(0)
    assert key.key_hash == hash_key(raw) and raw not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    for page in ("/admin/open311/apikey/", "/admin/open311/serviceattribute/", "/admin/open311/submission/"):
        assert client.get(page).status_code == 200


def test_a_field_the_spec_does_not_name_is_refused(api, town):
    response = api.post(**a_post(town, colour="red", **{"attribute[size_m]": "3"}))
    assert response.status_code == 400
    assert "colour" in api.json(response)[0]["description"]
    assert not Problem.objects.exists()


def test_a_number_attribute_beyond_any_measure_is_refused(api, town):
    fields = a_post(town, service_code="0501", **{"attribute[danger]": "no"})
    assert api.post(**fields, **{"attribute[size_m]": "1e16"}).status_code == 400
    assert api.post(**fields, **{"attribute[size_m]": "1e15"}).status_code == 201
