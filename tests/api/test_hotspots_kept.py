"""The hotspots API keeps its result in the shared cache and has the workers refresh it: a second
request computes nothing, a change to the problems answers the kept result marked "updating" and
refreshes it once, each user's scope has its own result, and the answer is paged."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from gridmap.analysis import hotspot_results
from gridmap.problems.models import Problem

pytestmark = pytest.mark.django_db
URL = "/api/v1/analysis/hotspots/?method=dbscan&eps_m=20&min_samples=15&status=all&days=200"


def client_for(username):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def computed(monkeypatch):
    """Counts the computations (and can forbid them)."""
    calls = []
    compute = hotspot_results.hotspot_frame

    def counting(**kwargs):
        calls.append(kwargs["user"].username)
        return compute(**kwargs)

    monkeypatch.setattr(hotspot_results, "hotspot_frame", counting)
    return calls


def test_kept_then_refreshed_once_after_a_change(demo_town, computed, django_capture_on_commit_callbacks):
    planner = client_for("demo_planner")
    first = planner.get(URL).json()
    assert first["analysis"]["state"] == "current" and first["features"] and computed == ["demo_planner"]
    again = planner.get(URL).json()
    assert again["features"] == first["features"] and computed == ["demo_planner"]  # nothing computed

    Problem.objects.filter(pk=Problem.objects.order_by("pk").first().pk).update(description="changed")
    with django_capture_on_commit_callbacks(execute=False) as refreshes:
        stale = planner.get(URL).json()
        assert planner.get(URL).json()["analysis"]["state"] == "updating"  # one refresh asked for
    assert stale["analysis"] == {"state": "updating", "computed_at": first["analysis"]["computed_at"]}
    assert stale["features"] == first["features"] and computed == ["demo_planner"]
    assert len(refreshes) == 1
    refreshes[0]()  # the worker's run (inline in the tests)
    assert computed == ["demo_planner", "demo_planner"]
    assert planner.get(URL).json()["analysis"]["state"] == "current"


def test_each_scope_has_its_own_result_and_pages(demo_town, computed):
    whole = client_for("demo_planner").get(URL).json()
    leader = client_for("leader_01").get(URL).json()
    assert computed == ["demo_planner", "leader_01"]
    assert whole["numberMatched"] >= leader["numberMatched"]
    paged = client_for("demo_planner").get(URL + "&page_size=1").json()
    assert paged["numberReturned"] == 1 and paged["features"] == whole["features"][:1]
    assert any(link["rel"] == "next" for link in paged["links"]) == (whole["numberMatched"] > 1)
    assert client_for("demo_planner").get(URL + "&page=0").status_code == 400
