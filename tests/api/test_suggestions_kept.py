"""Suggested sites are kept per area and parameters (they depend on buildings, facilities,
streets and areas, not on who asks): a second request, by anyone who may see the area, chooses
nothing again; an edit of a facility answers the kept sites marked "updating" and chooses again
once on the workers; an area outside the user's scope is still refused before anything kept."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from gridmap.analysis import site_results
from gridmap.facilities.models import Facility

pytestmark = pytest.mark.django_db
URL = "/api/v1/analysis/suggestions/?kind=hydrant&community=320581107003"


def client_for(username):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def chosen(monkeypatch):
    calls = []
    choose = site_results.sites_suggest

    def counting(**kwargs):
        calls.append(kwargs["user"].username)
        return choose(**kwargs)

    monkeypatch.setattr(site_results, "sites_suggest", counting)
    return calls


def test_kept_per_area_then_refreshed_once_after_an_edit(
    demo_town, chosen, django_capture_on_commit_callbacks
):
    first = client_for("demo_planner").get(URL).json()
    assert first["analysis"]["state"] == "current" and first["features"] and chosen == ["demo_planner"]
    head = client_for("head_3").get(URL).json()  # the community's head: the same area, nothing chosen
    assert head["features"] == first["features"] and chosen == ["demo_planner"]

    hydrant = Facility.objects.filter(kind__code="hydrant").order_by("pk").first()
    Facility.objects.filter(pk=hydrant.pk).update(condition="damaged")
    with django_capture_on_commit_callbacks(execute=False) as refreshes:
        stale = client_for("demo_planner").get(URL).json()
    assert stale["analysis"] == {"state": "updating", "computed_at": first["analysis"]["computed_at"]}
    assert stale["features"] == first["features"] and len(refreshes) == 1
    refreshes[0]()
    assert len(chosen) == 2
    assert client_for("demo_planner").get(URL).json()["analysis"]["state"] == "current"


def test_an_area_out_of_scope_is_refused_before_anything_kept(demo_town, chosen):
    client_for("demo_planner").get(URL)
    assert client_for("head_1").get(URL).status_code == 404  # another community's head
    assert client_for("demo_planner").get(URL.replace("hydrant", "no_such_kind")).status_code == 404
