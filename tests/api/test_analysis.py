"""Analysis endpoints on the demo town: the same answers as the services, scoped by role."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from gridmap.analysis.coverage import coverage_run
from gridmap.geography.models import Grid

pytestmark = pytest.mark.django_db


def client_for(username):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def loaded(demo_town):
    """The session's demo town (tests/conftest.py); each test's writes are rolled back."""


def test_coverage_equals_the_service_and_is_scoped(loaded):
    planner = client_for("demo_planner")
    body = planner.get("/api/v1/analysis/coverage/?kind=hydrant&metric=straight&page_size=1000").json()
    service = coverage_run(user=get_user_model().objects.get(username="demo_planner"), kind="hydrant")
    assert body["numberMatched"] == len(service.items) > 1000 and body["numberReturned"] == 1000
    first = service.items.set_index("id").loc[[f["properties"]["id"] for f in body["features"]]]
    assert [f["properties"]["covered"] for f in body["features"]] == first["covered"].tolist()
    uncovered = planner.get("/api/v1/analysis/coverage/?kind=hydrant&uncovered=1").json()["features"]
    assert len(uncovered) == 56  # the planted block in 李市社区 (fixtures/demo_town/README.md)
    leader = get_user_model().objects.get(username="leader_01")
    mine = Grid.objects.filter(first_responsible=leader).first()
    other = Grid.objects.exclude(first_responsible=leader).exclude(direct_responsible=leader).first()
    client = client_for("leader_01")
    assert client.get(f"/api/v1/analysis/coverage/?kind=hydrant&grid={other.code}").status_code == 404
    own = client.get(f"/api/v1/analysis/coverage/?kind=hydrant&grid={mine.code}").json()["features"]
    assert own and all(f["properties"].get("grid_code", mine.code) == mine.code for f in own)


def test_gaps_suggestions_hotspots_and_routes_answer_geojson(loaded):
    planner = client_for("demo_planner")
    gaps = planner.get("/api/v1/analysis/gaps/?kind=hydrant").json()
    assert gaps["features"] and gaps["features"][0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    sites = planner.get("/api/v1/analysis/suggestions/?kind=hydrant&community=320581107003").json()
    assert sites["features"] and sites["summary"]
    clusters = planner.get(
        "/api/v1/analysis/hotspots/?method=dbscan&eps_m=20&min_samples=15&status=all&days=200"
    )
    assert clusters.status_code == 200 and len(clusters.json()["features"]) >= 5
    gistar = planner.get("/api/v1/analysis/hotspots/?method=gistar&status=all&days=200").json()["features"]
    assert gistar and "z" in " ".join(gistar[0]["properties"])
    grid = Grid.objects.order_by("code").first()
    route = planner.get(f"/api/v1/analysis/route/?grid={grid.code}").json()
    assert route["type"] == "FeatureCollection" and route["features"]
    inspector = client_for("inspector_1").get("/api/v1/analysis/route/?budget_min=120")
    assert inspector.status_code == 200 and inspector.json()["features"]


@pytest.mark.parametrize(
    "query",
    [
        "coverage/", "coverage/?kind=hydrant&metric=fast", "coverage/?kind=hydrant&radius_m=nan",
        "coverage/?kind=hydrant&radius_m=1e308", "coverage/?kind=hydrant&x=1",
        "suggestions/?kind=hydrant", "hotspots/?method=magic", "hotspots/?days=-3", "route/",
    ],
)  # fmt: skip
def test_bad_queries_are_400(db, query):
    from tests.factories import user

    planner = user("p", "planner")
    client = APIClient()
    client.force_authenticate(planner)
    assert client.get(f"/api/v1/analysis/{query}").status_code == 400


@pytest.mark.parametrize("name", ["coverage", "gaps", "suggestions"])
def test_an_unknown_kind_is_not_found_and_named(db, name):
    """A kind code that names nothing is a 404, like a grid outside the scope; the answer lists
    the kinds there are."""
    from tests.factories import user

    client = APIClient()
    client.force_authenticate(user("p", "planner"))
    response = client.get(f"/api/v1/analysis/{name}/?kind=nope&grid=1")
    assert response.status_code == 404 and "hydrant" in response.json()["detail"]
