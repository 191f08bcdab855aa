"""Precomputed coverage: the sets hold the figures the on-request services compute, a change makes
exactly the sets it touches stale, the refresh brings them back, and no page or API answer
computes coverage on the request (it reads rows, says how current they are, asks for a refresh)."""

from __future__ import annotations

import math
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from gridmap.analysis import coverage_rows
from gridmap.analysis.coverage import cli_user, coverage_area, coverage_run
from gridmap.analysis.models import BuildingCoverage, CoverageSet, GridCoverage
from gridmap.analysis.precompute import radius_kinds, stale_sets, towns
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building
from tests.analysis.coverage_helpers import refresh_now

pytestmark = pytest.mark.django_db
FAIL = mock.Mock(side_effect=AssertionError("coverage computed on a request"))
COMPUTING_PARTS = [
    "gridmap.analysis.precompute.building_coverage",
    "gridmap.analysis.precompute.uncovered_area",
    "gridmap.analysis.coverage.building_coverage",
    "gridmap.analysis.coverage.uncovered_area",
    "gridmap.analysis.coverage.street_network",
    "gridmap.analysis.precompute.street_network",
]


def client_for(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def no_computing():
    patches = [mock.patch(target, FAIL) for target in COMPUTING_PARTS]
    for p in patches:
        p.start()
    yield
    for p in patches:
        p.stop()


@pytest.fixture
def asked(monkeypatch):
    """The refreshes asked for (the task is not run: the test runs it when it wants)."""
    cache.delete(coverage_rows.QUEUED_KEY)
    calls: list[str] = []
    monkeypatch.setattr(coverage_rows, "dispatch", lambda name, **kw: calls.append(name))
    return calls


def test_demo_sets_hold_the_on_request_figures(demo_town):
    """load_demo computed every set; they equal the services' figures, per building and grid."""
    assert not stale_sets()
    admin = cli_user()
    for kind in radius_kinds():
        run = coverage_run(user=admin, kind=kind.code, metric="network")
        items = run.items.set_index("id")
        rows = BuildingCoverage.objects.filter(set__kind=kind).values_list(
            "building__source_key", "straight_facility", "straight_m", "network_facility", "network_m"
        )
        assert len(rows) == len(items) > 0, kind.code
        for key, s_fac, s_m, n_fac, n_m in rows:
            ref = items.loc[key]
            assert s_fac == (ref.straight_facility or "") and n_fac == (ref.network_facility or "")
            assert s_m == pytest.approx(ref.straight_m) and (n_m or math.inf) == pytest.approx(ref.network_m)
        table = run.grids.set_index("grid")
        for metric in ("straight", "network"):
            stored = GridCoverage.objects.filter(set__kind=kind, metric=metric, buildings__gt=0)
            assert stored.count() == len(table[table.index != ""])
            for row in stored.select_related("grid"):
                ref = table.loc[row.grid.code]
                assert (row.buildings, row.uncovered) == (ref.buildings, ref[f"uncovered_{metric}"])
                if not math.isnan(ref[f"household_share_{metric}"]):
                    assert row.household_share == pytest.approx(ref[f"household_share_{metric}"])
        if kind.code != "hydrant":
            continue  # the uncovered areas of one kind (the walking one takes a while)
        for metric in ("straight", "network"):
            area = coverage_area(user=admin, kind=kind.code, metric=metric).set_index("code")
            stored = dict(
                GridCoverage.objects.filter(set__kind=kind, metric=metric).values_list(
                    "grid__code", "uncovered_m2"
                )
            )
            assert set(stored) == set(area.index)
            for code, value in stored.items():
                assert value == pytest.approx(area.loc[code, "uncovered_m2"], rel=1e-6, abs=0.01), (
                    metric,
                    code,
                )


def english(client, username: str) -> None:
    client.force_login(get_user_model().objects.get(username=username))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_pages_and_answers_compute_nothing_and_say_when_stale(demo_town, client, asked, no_computing):
    english(client, "demo_planner")
    page = client.get(reverse("planner"), {"kind": "hydrant"})
    assert page.status_code == 200 and page.context["analysis_note"] is None and not asked
    assert page.context["totals"]["served"] > 1000
    hydrant = Facility.objects.filter(kind__code="hydrant").first()
    Facility.objects.filter(pk=hydrant.pk).update(
        geom=Point(hydrant.geom.x + 0.0005, hydrant.geom.y, srid=4326)
    )
    page = client.get(reverse("planner"), {"kind": "hydrant"})
    assert page.status_code == 200 and "being updated" in page.content.decode()
    assert page.context["totals"]["served"] > 1000  # the last figures, shown
    assert asked == ["analysis.refresh_coverage"]  # asked once ...
    assert client.get(reverse("planner-map"), {"kind": "hydrant"}).status_code == 200
    api = client_for("demo_planner").get("/api/v1/analysis/coverage/?kind=hydrant&page_size=5")
    assert api.status_code == 200 and api.json()["analysis"]["state"] == "updating"
    assert client_for("demo_planner").get("/api/v1/analysis/gaps/?kind=hydrant").status_code == 200
    assert asked == ["analysis.refresh_coverage"]  # ... however many views follow


def test_with_no_sets_the_page_says_they_are_being_computed(demo_town, client, asked, no_computing):
    CoverageSet.objects.all().delete()
    english(client, "demo_planner")
    page = client.get(reverse("planner"), {"kind": "hydrant"})
    assert page.status_code == 200 and "being computed" in page.content.decode() and asked
    api = client_for("demo_planner").get("/api/v1/analysis/coverage/?kind=hydrant")
    assert (
        api.status_code == 202
        and api.json()["features"] == []
        and api.json()["analysis"]["state"] == "computing"
    )


def test_a_facility_change_makes_its_kind_stale_and_the_run_refreshes_exactly_those(demo_town):
    before = {(s.kind.code, s.town): s.pk for s in CoverageSet.objects.select_related("kind")}
    hydrant = Facility.objects.filter(kind__code="hydrant").first()
    Facility.objects.filter(pk=hydrant.pk).update(
        geom=Point(hydrant.geom.x, hydrant.geom.y + 0.0004, srid=4326)
    )
    assert {(s.kind.code, s.town) for s in stale_sets()} == {("hydrant", t) for t in towns()}
    done = refresh_now()
    assert set(done["seconds"]) == {"hydrant"} | {f"hydrant@{t}" for t in towns()}
    after = {(s.kind.code, s.town): s.pk for s in CoverageSet.objects.select_related("kind")}
    assert {k for k in after if after[k] != before[k]} == {("hydrant", t) for t in towns()}
    assert not stale_sets() and refresh_now()["refreshed"] == 0
    # a building's edit makes its town's sets stale, of every kind serving it
    building = Building.objects.filter(use="residential").exclude(grid=None).first()
    Building.objects.filter(pk=building.pk).update(households=building.households + 7)
    town = building.grid.community.subdistrict_id
    assert {s.town for s in stale_sets()} == {town}
    assert {s.kind.code for s in stale_sets()} == {k.code for k in radius_kinds()}
    # a kind's radius (the standard) is a facilities change too
    FacilityKind.objects.filter(code="hydrant").update(service_radius_m=200)
    assert {s.kind.code for s in stale_sets() if s.town != town} == {"hydrant"}


def test_the_api_pages_filters_by_box_and_keeps_the_scope(demo_town):
    planner = client_for("demo_planner")
    first = planner.get("/api/v1/analysis/coverage/?kind=hydrant&page_size=400").json()
    assert first["numberReturned"] == 400 and first["numberMatched"] == first["summary"]["buildings"]
    seen, body = [], first
    while True:
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            break
        body = planner.get(nxt[0]).json()
    assert len(seen) == len(set(seen)) == first["numberMatched"]
    uncovered = planner.get("/api/v1/analysis/coverage/?kind=hydrant&uncovered=1&page_size=1000").json()
    assert uncovered["numberMatched"] == first["summary"]["uncovered_straight"] == 56
    assert all(not f["properties"]["covered"] for f in uncovered["features"])
    some = Building.objects.order_by("pk")[10]
    x0, y0, x1, y1 = some.geom.extent
    boxed = planner.get(f"/api/v1/analysis/coverage/?kind=hydrant&bbox={x0},{y0},{x1},{y1}").json()
    ids = {f["id"] for f in boxed["features"]}
    assert some.pk in ids and len(ids) < 50
    assert (
        set(
            Building.objects.filter(pk__in=ids, geom__intersects=some.geom.envelope).values_list(
                "pk", flat=True
            )
        )
        == ids
    )
    leader = get_user_model().objects.get(username="leader_01")
    mine = client_for("leader_01").get("/api/v1/analysis/coverage/?kind=hydrant&page_size=1000").json()
    allowed = set(Building.objects.filter(grid__first_responsible=leader).values_list("pk", flat=True)) | set(
        Building.objects.filter(grid__direct_responsible=leader).values_list("pk", flat=True)
    )
    assert mine["features"] and {f["id"] for f in mine["features"]} <= allowed
    assert mine["summary"]["buildings"] == len(allowed)
    gaps = planner.get("/api/v1/analysis/gaps/?kind=hydrant&page_size=1").json()
    assert (
        gaps["numberMatched"] > 1
        and gaps["numberReturned"] == 1
        and [link["rel"] for link in gaps["links"]] == ["next"]
    )
    own_gaps = client_for("leader_01").get("/api/v1/analysis/gaps/?kind=hydrant&page_size=1000").json()
    led = set(Building.objects.filter(pk__in=allowed).values_list("grid__code", flat=True))
    assert {f["properties"]["code"] for f in own_gaps["features"]} <= led
    big = planner.get("/api/v1/analysis/coverage/?kind=hydrant&page_size=1000")
    assert len(big.content) < 2_000_000


def test_the_straight_metric_needs_no_street_network(demo_town):
    with mock.patch("gridmap.analysis.coverage.street_network", FAIL):
        result = coverage_run(user=cli_user(), kind="hydrant", metric="straight")
    assert "network_m" not in result.items and result.summary["uncovered_straight"] == 56


def test_every_stored_uncovered_part_is_a_multipolygon_and_old_polygons_are_made_so(demo_town):
    """One geometry type for the gap layers (GIS clients and Shapefiles want one): the refresh
    stores MultiPolygons, and the migration turns rows stored as a Polygon before into them."""
    import importlib

    from django.apps import apps
    from django.contrib.gis.geos import MultiPolygon

    refresh_now()
    stored = GridCoverage.objects.filter(geom__isnull=False)
    assert stored.count() > 10
    assert {row.geom.geom_type for row in stored} == {"MultiPolygon"}
    single = [row for row in stored if len(row.geom) == 1][:3]
    assert single  # the demo has grids whose gap is one piece: before, those were Polygons
    for row in single:
        row.geom = row.geom[0]
        row.save(update_fields=["geom"])
    assert GridCoverage.objects.get(pk=single[0].pk).geom.geom_type == "Polygon"
    importlib.import_module("gridmap.analysis.migrations.0003_uncovered_as_multipolygon").to_multi(apps, None)
    for row in single:
        again = GridCoverage.objects.get(pk=row.pk).geom
        assert isinstance(again, MultiPolygon) and again.equals(row.geom)
