"""Every model is in the admin, and its pages (with map widgets) load nothing from the internet."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Grid
from tests.factories import LAT0, LON0, grid, region_tree

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "geography", "facilities", "problems"}


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.invalid", "pw"))
    return client


def external_refs(html: str) -> list[str]:
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    return [r for r in refs if re.match(r"^(https?:)?//", r)]


def test_every_project_model_is_registered():
    from django.apps import apps

    models = {m for a in PROJECT_APPS for m in apps.get_app_config(a).get_models()}
    from gridmap.accounts.models import Profile
    from gridmap.geography.models import AreaStamp
    from gridmap.problems.models import PositiveSiteEvent, ProblemEvent, ProblemPhoto, ProblemRating

    # Profiles are edited inline on their user; photos, the audit trail and the reporters' ratings
    # inline on their problem (a site's trail on its site); the area stamp is written by database
    # triggers only (intake's in-memory location cache).
    expected = {Profile, ProblemPhoto, ProblemEvent, ProblemRating, PositiveSiteEvent, AreaStamp}
    assert models - set(admin.site._registry) == expected


def test_changelists_and_forms_load_with_local_assets_only(admin_client):
    (community,) = region_tree()
    g = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    from django.contrib.gis.geos import Point

    Facility.objects.create(
        kind=FacilityKind.objects.get(code="hydrant"), geom=Point(LON0 + 0.001, LAT0 + 0.001)
    )
    for model in admin.site._registry:
        meta = model._meta
        if meta.app_label not in PROJECT_APPS:
            continue
        for name, args in (("changelist", []), ("add", [])):
            response = admin_client.get(
                reverse(f"admin:{meta.app_label}_{meta.model_name}_{name}", args=args)
            )
            assert response.status_code == 200, (meta.label, name)
            assert external_refs(response.content.decode()) == [], (meta.label, name)
    page = admin_client.get(reverse("admin:geography_grid_change", args=[g.pk])).content.decode()
    assert "vendor/ol-7.2.2/ol.js" in page and "cdn" not in page and external_refs(page) == []
    assert Grid.objects.count() == 1
