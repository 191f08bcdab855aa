"""GET requests: scoped like every output, the spec's filters, the 90-day window and 1000 limit."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from gridmap.geography.models import District
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import EventCategory, Problem, ProblemPhoto
from tests.factories import user
from tests.open311 import schemas
from tests.open311.conftest import IN_A, IN_B, report
from tests.photos import jpeg

pytestmark = pytest.mark.django_db


def ids(api, response) -> list[str]:
    assert response.status_code == 200, response.content
    return [d["service_request_id"] for d in schemas.valid(api.json(response), schemas.REQUESTS)]


def test_a_leader_sees_only_their_grid(api, town):
    in_a, in_b = report(town, IN_A), report(town, IN_B)
    key_a, key_b = town["keys"]["a"], town["keys"]["b"]
    assert ids(api, api.get("requests", api_key=key_a)) == [str(in_a.pk)]
    assert ids(api, api.get("requests", api_key=key_b)) == [str(in_b.pk)]
    for fmt in ("json", "xml"):
        assert api.get(f"requests/{in_b.pk}", fmt, api_key=key_a).status_code == 404
    assert ids(api, api.get("requests", api_key=key_a, service_request_id=f"{in_a.pk},{in_b.pk}")) == [
        str(in_a.pk)
    ]
    assert ids(api, api.get(f"requests/{in_b.pk}", api_key=key_b)) == [str(in_b.pk)]


def test_a_signed_in_session_is_scoped_too(api, town):
    in_a, in_b = report(town, IN_A), report(town, IN_B)
    api.client.force_login(town["leader_b"])
    assert ids(api, api.get("requests")) == [str(in_b.pk)]
    assert api.get(f"requests/{in_a.pk}").status_code == 404


def test_a_key_without_a_role_sees_only_its_own_reports(api, town):
    from gridmap.open311.models import ApiKey

    nobody = user("nobody", role="reporter")
    raw = ApiKey.create_for(nobody, "x")[1]
    report(town, IN_A)
    assert ids(api, api.get("requests", api_key=raw)) == []
    assert ids(api, api.get("requests", api_key=town["keys"]["app"])) != []


def test_anonymous_reading_is_off_by_default(api, town):
    problem = report(town)
    for path in ("requests", f"requests/{problem.pk}"):
        response = api.get(path)
        assert response.status_code == 403 and schemas.valid(api.json(response), schemas.ERRORS)
    assert api.get("services").status_code == 200  # the catalogue is public


def test_public_read_shows_no_personal_data_nor_photos(api, town, settings):
    settings.GRIDMAP_OPEN311_PUBLIC_READ = True
    shown, rejected = report(town, IN_A), report(town, IN_B, description="骂人的话")
    ProblemPhoto.objects.create(problem=shown, image=jpeg("p.jpg"))
    problem_transition(problem_id=rejected.pk, action="reject", actor=town["leader_b"], note="无效")
    response = api.get("requests")
    assert ids(api, response) == [str(shown.pk)]
    (doc,) = api.json(response)
    assert doc["media_url"] is None and "citizen_app" not in response.content.decode()
    assert api.get(f"requests/{rejected.pk}").status_code == 404
    keyed = api.json(api.get(f"requests/{shown.pk}", api_key=town["keys"]["a"]))[0]
    assert "/media/" in keyed["media_url"] and "/open311/" in keyed["media_url"]  # staff with a key


def test_filters_by_code_status_and_ids(api, town):
    vending = report(town, IN_A)
    rubbish = report(town, IN_A, category=EventCategory.objects.get(code="0101"))
    problem_transition(problem_id=rubbish.pk, action="reject", actor=town["leader_a"], note="已处理")
    key = town["keys"]["a"]
    assert ids(api, api.get("requests", api_key=key)) == [str(rubbish.pk), str(vending.pk)]  # newest first
    assert ids(api, api.get("requests", api_key=key, service_code="0301")) == [str(vending.pk)]
    assert len(ids(api, api.get("requests", api_key=key, service_code="0301,0101"))) == 2
    assert ids(api, api.get("requests", api_key=key, status="open")) == [str(vending.pk)]
    assert ids(api, api.get("requests", api_key=key, status="closed")) == [str(rubbish.pk)]
    assert len(ids(api, api.get("requests", api_key=key, status="open,closed"))) == 2
    # service_request_id overrides the other filters
    assert ids(api, api.get("requests", api_key=key, service_request_id=str(rubbish.pk), status="open")) == [
        str(rubbish.pk)
    ]


def test_the_default_window_is_the_last_90_days(api, town):
    now = timezone.now()
    recent = report(town, reported_at=now - timedelta(days=10))
    old = report(town, IN_A, reported_at=now - timedelta(days=120), description="旧的")
    key = town["keys"]["a"]
    assert ids(api, api.get("requests", api_key=key)) == [str(recent.pk)]
    start = (now - timedelta(days=130)).astimezone(timezone.get_current_timezone()).isoformat()
    assert ids(api, api.get("requests", api_key=key, start_date=start)) == [str(old.pk)]
    day = (now - timedelta(days=120)).astimezone(timezone.get_current_timezone()).date().isoformat()
    assert ids(api, api.get("requests", api_key=key, start_date=day, end_date=day)) == [str(old.pk)]
    end_utc = (now - timedelta(days=100)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(api, api.get("requests", api_key=key, end_date=end_utc)) == [str(old.pk)]
    assert ids(api, api.get("requests", api_key=key, service_request_id=str(old.pk))) == [str(old.pk)]


def test_at_most_1000_results(api, town):
    category = town["category"]
    Problem.objects.bulk_create(
        Problem(
            geom=Point(*IN_A, srid=4326), category=category, grid=town["grid_a"], community=town["community"]
        )
        for _ in range(1005)
    )
    docs = api.json(api.get("requests", api_key=town["keys"]["a"]))
    assert len(schemas.valid(docs, schemas.REQUESTS)) == 1000


def test_jurisdiction_filters_requests_when_there_are_several(api, town):
    problem = report(town)
    key = town["keys"]["a"]
    assert ids(api, api.get("requests", api_key=key, jurisdiction_id="320581")) == [str(problem.pk)]
    District.objects.create(code="320582", name="另一区")
    assert api.get("requests", api_key=key).status_code == 400
    assert ids(api, api.get("requests", api_key=key, jurisdiction_id="320581")) == [str(problem.pk)]
    assert ids(api, api.get("requests", api_key=key, jurisdiction_id="320582")) == []
    assert api.get(f"requests/{problem.pk}", api_key=key, jurisdiction_id="320582").status_code == 404


def test_requests_xml_mirrors_json(api, town):
    report(town, IN_A)
    report(town, IN_A, category=EventCategory.objects.get(code="0101"), description="垃圾 & <b>")
    key = town["keys"]["a"]
    doc = schemas.valid(api.json(api.get("requests", api_key=key)), schemas.REQUESTS)
    root = schemas.assert_xml_mirrors(
        api.get("requests", "xml", api_key=key).content, doc, "service_requests"
    )
    assert [r.findtext("service_code") for r in root] == ["0101", "0301"]
    assert all(r.findtext("requested_datetime").endswith("+08:00") for r in root)
