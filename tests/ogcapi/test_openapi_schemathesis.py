"""schemathesis over every operation of the OGC API's own OpenAPI document (/ogc/api), in-process
on the test database, as an administrator: every check, positive and negative data."""

from __future__ import annotations

import pytest
import schemathesis
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from gridmap.api.ogc.analysis import gap_kinds
from gridmap.facilities.models import FacilityKind
from tests.schemathesis_run import positive_data_acceptance, run_every_operation


def unstated(case):
    """Checks that cannot hold for this case: positive data acceptance when the case uses a rule
    JSON Schema cannot state (the document says it in words): a bbox's corners in order and in
    its system's range, an interval's start before its end, a filter in CQL2's grammar."""
    query = case.query or {}
    period = str(query.get("datetime", ""))
    if "bbox" in query or "filter" in query or "/" in period.strip("/"):
        return [positive_data_acceptance]
    return []


@pytest.mark.django_db
def test_ogc_api_answers_as_its_document_says(ogc_town, settings, subtests, wsgi_app):
    settings.ALLOWED_HOSTS = ["localhost"]
    # one kind with stored coverage stands for the others: their gap collections are the same code
    # and schema under another id, and four of them would double the run
    kinds = gap_kinds()
    FacilityKind.objects.filter(pk__in=[k.pk for k in kinds[1:]]).update(service_radius_m=None)
    key = Token.objects.get_or_create(user=ogc_town["admin"])[0].key
    loaded = schemathesis.openapi.from_wsgi("/ogc/api", wsgi_app, headers={"Authorization": f"Token {key}"})
    loaded.config.update(headers={"Authorization": f"Token {key}"})
    loaded.config.generation.update(modes=list(GenerationMode), max_examples=2)
    paths = loaded.raw_schema["paths"]
    assert len([p for p in paths if p.startswith("/collections/gaps-")]) == 5
    # every path has one operation, GET; schemathesis leaves out /api, the document it was read from
    tested = {r.ok().path for r in loaded.get_all_operations() if isinstance(r, Ok)}
    assert set(paths) - tested == {"/api"}
    assert run_every_operation(loaded, subtests, unstated) == len(tested) > 40
