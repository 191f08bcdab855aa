"""Open311 services and service definitions: the category catalogue, in JSON and XML."""

from __future__ import annotations

import pytest

from gridmap.geography.models import District
from gridmap.problems.models import EventCategory
from tests.open311 import schemas
from tests.open311.conftest import BASE

pytestmark = pytest.mark.django_db


def test_services_list_the_active_categories(api):
    EventCategory.objects.filter(code="0602").update(active=False)
    response = api.get("services")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    docs = schemas.valid(api.json(response), schemas.SERVICES)
    by_code = {d["service_code"]: d for d in docs}
    active = set(EventCategory.objects.filter(active=True).values_list("code", flat=True))
    assert set(by_code) == active and "0602" not in by_code
    assert by_code["0101"]["service_name"] == "暴露垃圾" and by_code["0101"]["group"] == "市容环境"
    assert by_code["0101"]["type"] == "realtime" and by_code["0101"]["metadata"] is False
    assert by_code["0304"]["metadata"] is True  # it has a service definition with attributes
    assert "exposed rubbish" in by_code["0101"]["keywords"]


@pytest.mark.parametrize("how", [{"lang": "en"}, {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.8"}])
def test_english_when_asked(api, how):
    params = {k: v for k, v in how.items() if k == "lang"}
    headers = {k: v for k, v in how.items() if k != "lang"}
    response = api.client.get(f"{BASE}/services.json", params, **headers)
    by_code = {d["service_code"]: d for d in schemas.valid(api.json(response), schemas.SERVICES)}
    assert by_code["0101"]["service_name"] == "exposed rubbish"
    assert by_code["0101"]["group"] == "city appearance and environment"
    error = api.client.get(f"{BASE}/services/9999.json", params, **headers)
    assert "Unknown service_code" in api.json(error)[0]["description"]


def test_chinese_by_default_even_for_errors(api):
    assert api.json(api.get("services"))[0]["service_name"] != ""
    error = api.json(api.get("services/9999"))
    schemas.valid(error, schemas.ERRORS)


def test_services_xml_mirrors_json(api):
    doc = api.json(api.get("services"))
    response = api.get("services", "xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    root = schemas.assert_xml_mirrors(response.content, doc, "services")
    assert root.find("service/service_name").text == doc[0]["service_name"]


def test_a_definition_with_attributes(api):
    doc = schemas.valid(api.json(api.get("services/0304")), schemas.SERVICE_DEFINITION)
    assert doc["service_code"] == "0304"
    (attribute,) = doc["attributes"]
    assert attribute["code"] == "fully_blocked" and attribute["required"] is True
    assert attribute["datatype"] == "singlevaluelist" and [v["key"] for v in attribute["values"]] == [
        "yes",
        "no",
    ]
    schemas.assert_xml_mirrors(api.get("services/0304", "xml").content, doc, "service_definition")
    english = api.json(api.get("services/0304", lang="en"))["attributes"][0]
    assert english["description"] == "Is the fire lane fully blocked?"
    assert english["values"][0]["name"] == "fully blocked"


def test_a_definition_without_attributes(api):
    doc = schemas.valid(api.json(api.get("services/0101")), schemas.SERVICE_DEFINITION)
    assert doc == {"service_code": "0101", "attributes": []}
    root = schemas.assert_xml_mirrors(api.get("services/0101", "xml").content, doc, "service_definition")
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_code_is_a_404_in_spec_format(api, fmt):
    response = api.get("services/nope", fmt)
    assert response.status_code == 404
    if fmt == "json":
        schemas.valid(api.json(response), schemas.ERRORS)
    else:
        schemas.assert_xml_error(response.content, 404)


@pytest.mark.parametrize(
    "path", ["services.csv", "services.JSONX", "services", "nothing/here.json", "requests"]
)
def test_unsupported_formats_and_paths_are_404_errors(client, path):
    response = client.get(f"{BASE}/{path}")
    assert response.status_code == 404
    schemas.valid(response.json(), schemas.ERRORS)


def test_inactive_category_has_no_definition(api):
    EventCategory.objects.filter(code="0101").update(active=False)
    assert api.get("services/0101").status_code == 404


def test_jurisdiction_is_the_district_code(api, town):
    assert api.get("services", jurisdiction_id="320581").status_code == 200
    unknown = api.get("services", jurisdiction_id="999999")
    assert unknown.status_code == 404 and schemas.valid(api.json(unknown), schemas.ERRORS)
    assert api.get("services", jurisdiction_id="<script>").status_code == 404
    District.objects.create(code="320582", name="另一区")
    missing = api.get("services")
    assert missing.status_code == 400 and "jurisdiction_id" in api.json(missing)[0]["description"]
    assert api.get("services", jurisdiction_id="320582").status_code == 200


def test_only_get_on_services(api):
    response = api.client.post(f"{BASE}/services.json", {})
    assert response.status_code == 405 and "GET" in response["Allow"]
    schemas.valid(api.json(response), schemas.ERRORS)


def test_discovery(api):
    doc = schemas.valid(api.json(api.get("discovery")), schemas.DISCOVERY)
    assert doc["endpoints"][0]["url"].endswith("/open311/v2/")
    schemas.assert_xml_mirrors(api.get("discovery", "xml").content, doc, "discovery")
