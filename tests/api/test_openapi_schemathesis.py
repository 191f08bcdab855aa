"""The OpenAPI document of the REST API (``/api/v1/schema/``) checked against the API itself with
schemathesis: every operation, every check schemathesis has, positive and negative inputs, a
bounded number of examples, one operation at a time and in workflows (the stateful phase). In process (the WSGI app on the test database), so it runs on
SpatiaLite and PostGIS alike; the requests carry an administrator's token, and the
``ignored_auth`` check sends them again without it to prove that anonymous is refused.

Everything schemathesis is told is in this module (``CONFIG``), nothing in a config file. The
schema is loaded at import with ``from_dict`` (and the app attached) rather than through a
fixture: schemathesis 4.32.5's lazy ``from_fixture`` sets ``Function._nodeid``, which pytest 9.2
no longer has.
"""

from __future__ import annotations

import copy

import hypothesis
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from gridmap.facilities.models import Facility
from gridmap.geography.models import Building, Grid
from gridmap.problems.models import PositiveSite, Problem
from gridmap.problems.services import positive_site_create
from tests.api.conftest import SPOT, SPOT3, report
from tests.factories import LAT0, LON0
from tests.schemathesis_run import ALL_CHECKS, positive_data_acceptance
from tests.wsgi_server import ServedWSGI
from tests.wsgi_server import requests_in_the_test_transaction as in_test_transaction

# Values the document cannot list because they live in the database (catalogue codes) or
# because a pattern cannot say them (a box whose minimum lies below its maximum): the fuzzing
# phase draws them from these dictionaries, so that requests reach the analysis and the intake
# and not only their 404s; negative cases are generated from the document as usual. (The coverage
# phase ignores dictionaries: its made-up codes are answered 404, which the document says.)
CONFIG = f"""
seed = 16                    # a fixed sequence, so that a pass is repeatable
[generation]
mode = "all"                 # positive and negative
max-examples = 12            # per operation and mode (fuzzing); the coverage phase adds its boundary cases
deterministic = true
database = "none"
[checks]
enabled = true
[dictionaries.boxes]
values = ["{LON0},{LAT0},{LON0 + 0.004},{LAT0 + 0.002}", "-180,-90,180,90"]
[dictionaries.kinds]
values = ["hydrant", "litter_bin"]
[dictionaries.categories]
values = ["0301"]
[parameters]
"query.bbox" = {{ dictionary = "boxes" }}
"query.kind" = {{ dictionary = "kinds", probability = 0.8 }}
"query.category" = {{ dictionary = "categories", probability = 0.8 }}
"body.category" = {{ dictionary = "categories" }}
"""


def _document() -> dict:
    """The document ``/api/v1/schema/`` serves, built at import (pytest collects before any
    database exists; the document reads none). ``test_the_checked_document_is_the_served_one``
    holds it equal to what the view answers."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


DOCUMENT = _document()
# a copy: schemathesis writes the links it infers into the document it is given
schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT), config=SchemathesisConfig.from_str(CONFIG))
schema.app = ServedWSGI(get_wsgi_application())  # each response closed, as a server does


@pytest.fixture
def requests_in_the_test_transaction():
    """The requests run in the test's transaction and each one finishes (``tests.wsgi_server``)."""
    with in_test_transaction():
        yield


@pytest.fixture
def town_ids(town, settings, requests_in_the_test_transaction):
    """The town with two problems and a positive-list site; the ids of its records by the first
    path segment, for ``real_ids``."""
    settings.ALLOWED_HOSTS = ["localhost"]  # the host schemathesis's WSGI client sends
    report(town)
    report(town, spot=SPOT3, reporter="reporter2")
    positive_site_create(lon=SPOT[0], lat=SPOT[1], name="示范点", description="", user=town["admin"])
    models = {"grids": Grid, "buildings": Building, "facilities": Facility, "problems": Problem,
              "positive-sites": PositiveSite}  # fmt: skip
    return {name: sorted(model.objects.values_list("pk", flat=True)) for name, model in models.items()}


@pytest.fixture
def admin_headers(town):
    token, _ = Token.objects.get_or_create(user=town["admin"])
    return {"Authorization": f"Token {token.key}"}


def real_ids(case, town_ids) -> None:
    """Two of three well-formed ids made those of real records, so that details, events, photos
    and steps answer with bodies and not only 404s (a malformed id is left as generated)."""
    generated = (case.path_parameters or {}).get("id")
    ids = town_ids.get(case.operation.path.split("/")[3], [])
    if ids and type(generated) is int and generated % 3:
        case.path_parameters["id"] = ids[generated % len(ids)]


# ``positive_data_acceptance`` (a request valid by the document gets a 2xx) cannot hold where the
# document cannot say what makes a request valid; only there, and only that check, is left out:
NOT_SAYABLE = {
    # credentials must be those of an active account (wrong ones are a 400, as DRF's own)
    ("POST", "/api/v1/auth/token/"): "username and password",
    # the category must be an active entry of the catalogue, which lives in the database
    ("POST", "/api/v1/problems/"): "category",
    # one of grid or community, not both and not neither (OpenAPI 3.0 parameters have no oneOf)
    ("GET", "/api/v1/analysis/suggestions/"): "grid or community",
    # grid is required unless the caller is an inspector: it depends on who asks
    ("GET", "/api/v1/analysis/route/"): "grid",
    # a real JPEG, PNG or WebP photo within the pixel limits: a schema has no words for it
    ("POST", "/api/v1/problems/{id}/photos/"): "image",
    ("POST", "/api/v1/positive-sites/{id}/photo/"): "image",
    # each step needs its own params and state (dispatch a department, handle after-photos)
    ("POST", "/api/v1/problems/{id}/transitions/"): "params",
}


@schema.parametrize()
def test_the_rest_api_answers_as_its_document_says(case, admin_headers, town_ids):
    real_ids(case, town_ids)
    label = (case.operation.method.upper(), case.operation.path)
    excluded = [positive_data_acceptance] if label in NOT_SAYABLE else []
    case.call_and_validate(headers=admin_headers, checks=ALL_CHECKS, excluded_checks=excluded)


WORKFLOW = schema.as_state_machine()  # its steps: the links schemathesis infers from the typed answers


def test_workflows_of_the_rest_api_answer_as_the_document_says(admin_headers, town_ids):
    """The stateful phase: sequences of calls that feed one answer's ids into the next request
    (a report, then its events, photos and steps; a site, then its photo), with every check,
    ``use_after_free`` and ``ensure_resource_availability`` among them."""

    class Workflow(WORKFLOW):
        def get_call_kwargs(self, case):
            return {"headers": admin_headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            label = (case.operation.method.upper(), case.operation.path)
            case.validate_response(
                response,
                checks=ALL_CHECKS,
                excluded_checks=[positive_data_acceptance] if label in NOT_SAYABLE else [],
                headers=admin_headers,
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=15,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )  # fmt: skip
    )


def test_the_checked_document_is_the_served_one(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json() == DOCUMENT


def test_the_index_is_in_the_document_and_links_it_and_its_page(db):
    from rest_framework.test import APIClient

    assert DOCUMENT["paths"]["/api/v1/"]["get"]["security"] == [{"tokenAuth": []}, {"cookieAuth": []}, {}]
    links = {link["rel"]: link["href"] for link in APIClient().get("/api/v1/").json()["links"]}
    assert links["service-desc"].endswith("/api/v1/schema/") and links["service-doc"].endswith(
        "/api/v1/docs/"
    )


def test_geojson_answers_are_typed_features_and_collections():
    """Every 2xx in GeoJSON points at a Feature or FeatureCollection component whose geometry and
    properties are typed, and every other JSON answer names its fields (the document itself is
    described by the OpenAPI specification, not here)."""
    components = DOCUMENT["components"]["schemas"]
    seen = 0
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation["responses"].items():
                for media_type, content in answer.get("content", {}).items():
                    if code.startswith("2") and media_type == "application/geo+json":
                        name = content["schema"]["$ref"].rsplit("/", 1)[1]
                        assert name.endswith(("Feature", "FeatureCollection", "Result")), (method, path)
                        seen += 1
                    elif (
                        code.startswith("2")
                        and media_type == "application/json"
                        and path != "/api/v1/schema/"
                    ):
                        assert content["schema"].get("properties"), (method, path, code)
    assert seen >= 20
    grid = components["GridFeature"]["properties"]
    assert grid["geometry"] == {"$ref": "#/components/schemas/MultiPolygonGeometry"}
    assert set(components["GridProperties"]["properties"]) >= {"code", "name", "community", "leader"}
    collection = components["ProblemFeatureCollection"]
    assert {"numberMatched", "numberReturned", "links", "features"} <= set(collection["required"])


def test_the_document_is_valid_openapi():
    from drf_spectacular.validation import validate_schema

    validate_schema(DOCUMENT)  # raises on anything OpenAPI 3.0 does not allow
