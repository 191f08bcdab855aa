"""An exported offline map opened from disk (file://) draws every layer with no network at all."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pyogrio
import pytest
from django.contrib.gis.geos import LineString, Point
from django.core.management import call_command
from django.db.models import Count

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building
from gridmap.problems.models import EventCategory, Problem, Status
from tests.factories import LAT0, LON0, box, grid, region_tree, user

# Playwright's sync API keeps an event loop in this thread; the test's own database calls are
# synchronous and safe here (Django's documented switch for this case).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
READY = "() => window.gridmap && window.gridmap.ready === true"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "data" / "screenshots"


@pytest.fixture
def leader_grids():
    """Leader "ann" with two grids full of objects, and a neighbour grid whose objects must stay out."""
    (community,) = region_tree(community_box=(LON0, LAT0, LON0 + 0.006, LAT0 + 0.002))
    ann = user("ann", Role.GRID_LEADER)
    w = 0.002
    grids = [grid(community, i + 1, (LON0 + i * w, LAT0, LON0 + (i + 1) * w, LAT0 + w)) for i in range(3)]
    for g in grids[:2]:
        g.first_responsible = ann
        g.save()
    kinds = {k.code: k for k in FacilityKind.objects.all()}
    categories = list(EventCategory.objects.order_by("code")[:4])
    statuses = [Status.REPORTED, Status.FILED, Status.DISPATCHED, Status.CLOSED]
    for i, g in enumerate(grids):
        x0 = LON0 + i * w
        for j in range(6 + 3 * i):
            x, y = x0 + 0.0001 + (j % 6) * 0.0003, LAT0 + 0.0002 + (j // 6) * 0.0004
            Building.objects.create(geom=box(x, y, x + 0.0001, y + 0.0001), grid=g, households=j)
            Problem.objects.create(
                geom=Point(x + 0.00005, y + 0.0012), grid=g, community=community,
                category=categories[j % 4], status=statuses[j % 4], description=f"<b>第{j}处</b>",
            )  # fmt: skip
        Facility.objects.create(kind=kinds["hydrant"], geom=Point(x0 + 0.001, LAT0 + 0.001))
        Facility.objects.create(kind=kinds["litter_bin"], geom=Point(x0 + 0.0012, LAT0 + 0.0011))
    Facility.objects.create(
        kind=kinds["tactile_paving"],
        geom=LineString((LON0 + 0.0001, LAT0 + 0.0005), (LON0 + 0.0039, LAT0 + 0.0005)),
    )
    return ann, grids[:2]


def database_counts(grids) -> dict[str, int]:
    """What the leader's map must hold, counted in the database."""
    area = grids[0].geom.union(grids[1].geom)
    counts = {
        "boundary": len(grids),
        "buildings": Building.objects.filter(grid__in=grids).count(),
        "problems": Problem.objects.filter(grid__in=grids).count(),
    }
    for row in Facility.objects.filter(geom__intersects=area).values("kind__code").annotate(n=Count("id")):
        counts[f"facility:{row['kind__code']}"] = row["n"]
    return counts


def test_the_exported_file_opens_from_disk_and_draws_every_layer(browser_page, tmp_path: Path, leader_grids):
    ann, grids = leader_grids
    call_command("export_maps", "--out", str(tmp_path), "--leader", "ann", stdout=io.StringIO())
    page_file = tmp_path / "ann.html"
    expected = database_counts(grids)
    assert expected["problems"] == 15 and expected["facility:tactile_paving"] == 1

    page = browser_page.page
    page.goto(page_file.as_uri())
    page.wait_for_function(READY, timeout=20_000)
    counts = page.evaluate("k => Object.fromEntries(k.map(key => [key, gridmap.count(key)]))", list(expected))
    # the finished problems are in a layer of their own (off at first)
    counts["problems"] += page.evaluate("gridmap.count('problems_closed')") or 0
    assert counts == expected
    assert page.evaluate("() => gridmap.map.hasLayer(gridmap.layers.problems)")
    assert (
        page.evaluate(
            "() => { let n = 0; gridmap.map.eachLayer(l => { n += l instanceof L.TileLayer; }); return n; }"
        )
        == 0
    )
    assert all(u.startswith(("file:", "data:")) for u in browser_page.requests), browser_page.requests
    assert browser_page.blocked == [] and browser_page.problems == {}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "export-map.png"))

    gpkg = tmp_path / "ann.gpkg"
    for key in ("boundary", "buildings", "problems"):
        assert pyogrio.read_info(gpkg, layer=key)["features"] == expected[key]
