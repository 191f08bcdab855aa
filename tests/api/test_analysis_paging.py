"""The paged coverage and gaps answers: hostile box, page and flag values get a 4xx with a reason
(never a 500), good ones a bounded page; a grid outside the user's scope is a 404."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.analysis.coverage_helpers import refresh_now
from tests.hostile import hostile_bbox, hostile_number, hostile_page, hostile_text, print_tally, tally  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("print_tally")]
DOORS = ("coverage", "gaps")


@pytest.fixture
def sets(town):
    refresh_now()
    return town


@pytest.mark.parametrize(
    "query",
    [
        "coverage/?kind=hydrant&bbox=1,2,3", "coverage/?kind=hydrant&bbox=200,0,201,1",
        "coverage/?kind=hydrant&page=0", "coverage/?kind=hydrant&page_size=1001",
        "coverage/?kind=hydrant&page_size=-1", "coverage/?kind=hydrant&uncovered=maybe",
        "coverage/?kind=hydrant&page=1&page=2", "gaps/?kind=hydrant&bbox=a,b,c,d",
        "gaps/?kind=hydrant&page=x", "gaps/?kind=hydrant&uncovered=1",
    ],
)  # fmt: skip
def test_bad_paging_and_boxes_are_400(sets, as_user, query):
    response = as_user(sets["planner"]).get(f"/api/v1/analysis/{query}")
    assert response.status_code == 400, response.content[:200]
    assert response.json()["detail"]


def test_a_grid_out_of_scope_is_404_and_the_leader_sees_their_own(sets, as_user):
    leader = as_user(sets["leader2"])
    assert leader.get(f"/api/v1/analysis/coverage/?kind=hydrant&grid={sets['g1'].code}").status_code == 404
    assert leader.get(f"/api/v1/analysis/gaps/?kind=hydrant&grid={sets['g1'].code}").status_code == 404
    assert leader.get("/api/v1/analysis/coverage/?kind=hydrant").json()["features"] == []
    own = as_user(sets["leader"]).get("/api/v1/analysis/coverage/?kind=hydrant").json()
    assert [f["properties"]["grid"] for f in own["features"]] == [sets["g1"].code]
    assert own["summary"]["buildings"] == 1 and own["analysis"]["state"] == "fresh"


@given(
    door=st.sampled_from(DOORS),
    name=st.sampled_from(["bbox", "page", "page_size", "uncovered", "radius_m", "metric", "grid"]),
    value=st.one_of(hostile_bbox, hostile_page, hostile_number.map(str), hostile_text),
)
def test_paging_property(sets, as_user, door, name, value):
    raw = quote(value.encode("utf-8", "surrogatepass"))  # sent as a hostile client would, bytes and all
    response = as_user(sets["planner"]).get(f"/api/v1/analysis/{door}/?kind=hydrant&{name}={raw}")
    tally(f"api analysis {door}", response.status_code)
    assert response.status_code < 500, response.content[:300]
    if response.status_code == 200:
        body = response.json()
        assert body["type"] == "FeatureCollection" and len(body["features"]) <= 1000


def test_a_radius_the_kind_has_not_is_answered_on_the_request(sets, as_user):
    planner = as_user(sets["planner"])
    body = planner.get("/api/v1/analysis/coverage/?kind=street_light&radius_m=100").json()
    assert body["summary"]["rule"] == "radius" and "analysis" not in body
    assert body["numberMatched"] == 1 and body["features"][0]["properties"]["covered"] is False
    gaps = planner.get("/api/v1/analysis/gaps/?kind=hydrant&radius_m=10").json()
    assert "analysis" not in gaps and gaps["features"]  # a what-if radius: computed here
