"""schemathesis over every operation of Open311's OpenAPI document (/open311/v2/openapi.json), in
process on the test database, with an administrator's api_key: every check, positive and negative
data. The document is the one discovery.json links."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.result import Ok
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.specs.openapi.checks import positive_data_acceptance
from werkzeug.test import Client

from gridmap.accounts.models import Role
from gridmap.open311.models import ApiKey
from tests.factories import user

load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())
BASE = "/open311/v2"


def unstated(case):
    """Checks that cannot hold for this case: positive data acceptance when the case uses a rule
    the document cannot state as schema (it says it in words): end_date after start_date and at
    most 90 days later; the photo form (multipart), whose schema is looser than the server's
    rules (no "not" beside a file, which schemathesis cannot judge; see open311/openapi.py) and
    whose photo must be a JPEG or PNG."""
    query = case.query or {}
    if ("start_date" in query and "end_date" in query) or case.media_type == "multipart/form-data":
        return [positive_data_acceptance]
    return []


def run_every_operation(schema, subtests, **call):
    def check(case):
        case.call_and_validate(checks=ALL_CHECKS, excluded_checks=unstated(case), **call)

    found = 0
    settings = hsettings(deadline=None, suppress_health_check=list(HealthCheck))
    for result in get_all_tests(schema=schema, test_func=check, settings=settings, given_kwargs={}):
        assert isinstance(result, Ok), result.err()
        operation, test = result.ok()
        found += 1
        with subtests.test(operation.label):
            test()
    return found


@pytest.mark.django_db
def test_open311_answers_as_its_document_says(town, settings, subtests, wsgi_app):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    settings.GRIDMAP_OPEN311_RATE = settings.GRIDMAP_OPEN311_ANON_RATE = "100000/min"
    key = ApiKey.create_for(user("admin311", Role.ADMIN), "schemathesis")[1]
    discovery = Client(wsgi_app).get(f"{BASE}/discovery.json", base_url="http://localhost")
    link = discovery.json["endpoints"][1]
    assert link["url"].endswith(f"{BASE}/openapi.json")
    loaded = schemathesis.openapi.from_wsgi(f"{BASE}/openapi.json", wsgi_app)
    loaded.config.generation.update(
        modes=list(GenerationMode), max_examples=5, with_security_parameters=False
    )
    assert run_every_operation(loaded, subtests, params={"api_key": key}) == 6
