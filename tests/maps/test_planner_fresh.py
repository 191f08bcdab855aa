"""The planner's cached figures follow every change of the rows they read at once, also edits
that keep every count and id (a moved hydrant, a redrawn grid): the cache key holds the change
stamps, not counts."""

import pytest
from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Grid
from gridmap.maps.planner_data import compute_planner_data, planner_data
from gridmap.problems.models import EventCategory, Problem
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
    return {"g1": g1, "g2": g2, "hydrant": hydrant, "planner": user("p", Role.PLANNER)}


def figures(town) -> dict:
    data = planner_data(town["planner"], FacilityKind.objects.get(code="hydrant"), None)
    rows = data.grids.set_index("code")
    return {g: rows.loc[town[g].code] for g in ("g1", "g2")}


def test_the_figures_are_cached_while_nothing_changes(town):
    kind = FacilityKind.objects.get(code="hydrant")
    planner_data(town["planner"], kind, None)
    with CaptureQueriesContext(connection) as again:
        planner_data(town["planner"], kind, None)
    assert len(again.captured_queries) <= 2  # the change stamps (and the user's role): nothing computed


def test_a_moved_hydrant_and_a_redrawn_grid_show_at_once(town):
    before = figures(town)
    assert (before["g1"]["covered"], before["g2"]["covered"]) == (1, 0)
    # the hydrant moves to the second building: same rows, same ids, same counts
    Facility.objects.filter(pk=town["hydrant"].pk).update(geom=Point(LON0 + 0.0037, LAT0 + 0.001, srid=4326))
    moved = figures(town)
    assert (moved["g1"]["covered"], moved["g2"]["covered"]) == (0, 1)
    # the second grid is redrawn smaller, around the hydrant: its uncovered share falls
    Grid.objects.filter(pk=town["g2"].pk).update(
        geom=box(LON0 + 0.0033, LAT0 + 0.0006, LON0 + 0.004, LAT0 + 0.0014)
    )
    redrawn = figures(town)
    assert redrawn["g2"]["uncovered_share"] < moved["g2"]["uncovered_share"]
    assert redrawn["g2"].geometry.bounds[0] == pytest.approx(LON0 + 0.0033)
    # an edited problem that keeps every count (its grid changes): the rates follow
    problem = Problem.objects.create(geom=Point(LON0 + 0.001, LAT0 + 0.001, srid=4326), grid=town["g1"],
                                     category=EventCategory.objects.get(code="0201"))  # fmt: skip
    assert (figures(town)["g1"]["problems"], figures(town)["g2"]["problems"]) == (1, 0)
    Problem.objects.filter(pk=problem.pk).update(grid=town["g2"])
    assert (figures(town)["g1"]["problems"], figures(town)["g2"]["problems"]) == (0, 1)
    # every figure is what a fresh computation gives
    fresh = compute_planner_data(town["planner"], FacilityKind.objects.get(code="hydrant"), None)
    assert fresh.grids.drop(columns="geometry").equals(
        planner_data(town["planner"], FacilityKind.objects.get(code="hydrant"), None).grids.drop(
            columns="geometry"
        )
    )
