"""The planner's figures come from the stored coverage sets: a change of the rows they were
computed from (also one that keeps every count and id: a moved hydrant, a redrawn grid) makes
them stale, the page says so and shows the last computed figures, and the next refresh brings the
new ones. Problem counts are counted per view and are never part of the cached coverage."""

import pytest
from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridmap.accounts.models import Role
from gridmap.analysis.coverage_rows import FRESH, UPDATING
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Grid
from gridmap.maps.planner_data import compute_planner_data, planner_data
from gridmap.problems.models import EventCategory, Problem
from tests.analysis.coverage_helpers import refresh_now
from tests.factories import LAT0, LON0, box, grid, region_tree, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    """Two grids with one residential building each; a hydrant (150 m) by the first building
    only (the second is about 255 m away)."""
    (c1,) = region_tree()
    g1 = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    g2 = grid(c1, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002))
    for g, x in ((g1, LON0 + 0.0008), (g2, LON0 + 0.0037)):
        Building.objects.create(geom=box(x, LAT0 + 0.001, x + 0.0001, LAT0 + 0.0011), grid=g,
                                community=c1, population=100, use="residential")  # fmt: skip
    hydrant = Facility.objects.create(
        kind=FacilityKind.objects.get(code="hydrant"), geom=Point(LON0 + 0.0008, LAT0 + 0.001, srid=4326)
    )
    cache.clear()
    refresh_now()
    return {"g1": g1, "g2": g2, "hydrant": hydrant, "planner": user("p", Role.PLANNER)}


def data(town):
    return planner_data(town["planner"], FacilityKind.objects.get(code="hydrant"), None)


def figures(town) -> dict:
    rows = data(town).grids.set_index("code")
    return {g: rows.loc[town[g].code] for g in ("g1", "g2")}


def test_the_coverage_is_cached_and_problems_are_not_in_its_key(town):
    kind = FacilityKind.objects.get(code="hydrant")
    planner_data(town["planner"], kind, None)
    Problem.objects.create(geom=Point(LON0 + 0.001, LAT0 + 0.001, srid=4326), grid=town["g1"],
                           category=EventCategory.objects.get(code="0201"))  # fmt: skip
    with CaptureQueriesContext(connection) as again:
        after = planner_data(town["planner"], kind, None)
    tables = " ".join(q["sql"] for q in again.captured_queries)
    assert "analysis_gridcoverage" not in tables and 'geography_grid"."geom' not in tables
    assert after.grids.set_index("code").loc[town["g1"].code, "problems"] == 1  # counted now


def test_a_moved_hydrant_and_a_redrawn_grid_show_after_the_refresh(town):
    before = figures(town)
    assert (before["g1"]["covered"], before["g2"]["covered"]) == (1, 0)
    assert data(town).analysis.state == FRESH
    # the hydrant moves to the second building: same rows, same ids, same counts
    Facility.objects.filter(pk=town["hydrant"].pk).update(geom=Point(LON0 + 0.0037, LAT0 + 0.001, srid=4326))
    stale = data(town)
    assert stale.analysis.state == UPDATING  # the last figures, said to be as of their time
    assert stale.grids.set_index("code").loc[town["g1"].code, "covered"] == 1
    done = refresh_now()  # the hydrant's sets only (one per town), not the other kinds'
    assert done["refreshed"] >= 1 and all(key.split("@")[0] == "hydrant" for key in done["seconds"])
    moved = figures(town)
    assert (moved["g1"]["covered"], moved["g2"]["covered"]) == (0, 1)
    # the second grid is redrawn smaller, around the hydrant: its uncovered share falls
    Grid.objects.filter(pk=town["g2"].pk).update(
        geom=box(LON0 + 0.0033, LAT0 + 0.0006, LON0 + 0.004, LAT0 + 0.0014)
    )
    refresh_now()
    redrawn = figures(town)
    assert redrawn["g2"]["uncovered_share"] < moved["g2"]["uncovered_share"]
    assert redrawn["g2"].geometry.bounds[0] == pytest.approx(LON0 + 0.0033)
    # an edited problem that keeps every count (its grid changes): the rates follow at once
    problem = Problem.objects.create(geom=Point(LON0 + 0.001, LAT0 + 0.001, srid=4326), grid=town["g1"],
                                     category=EventCategory.objects.get(code="0201"))  # fmt: skip
    assert (figures(town)["g1"]["problems"], figures(town)["g2"]["problems"]) == (1, 0)
    Problem.objects.filter(pk=problem.pk).update(grid=town["g2"])
    assert (figures(town)["g1"]["problems"], figures(town)["g2"]["problems"]) == (0, 1)
    # the cached figures are those read without the cache
    fresh = compute_planner_data(town["planner"], FacilityKind.objects.get(code="hydrant"), None)
    assert fresh.grids.drop(columns="geometry").equals(data(town).grids.drop(columns="geometry"))
