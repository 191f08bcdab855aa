"""Coverage is measured against every facility of the kind, wherever it stands: a grid leader's
building by their grid's edge is served by the hydrant just across it. The result stays in the
leader's scope; the leader map, the coverage service and the planner agree, and siting counts
that hydrant as existing."""

import pytest
from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon

from gridmap.accounts.models import Role
from gridmap.analysis import network_cache
from gridmap.analysis.coverage import coverage_area, coverage_run
from gridmap.analysis.siting import sites_suggest
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.facilities.selectors import facilities_visible_to
from gridmap.geography.models import Building, Street
from gridmap.maps.planner_data import compute_planner_data
from gridmap.maps.selectors import area_layers_for_figures
from tests.analysis.coverage_helpers import refresh_now
from tests.factories import LAT0, LON0, grid, region_tree, user

pytestmark = pytest.mark.django_db
STEP = 0.004  # ~380 m wide grids; the hydrant's service radius is 150 m


def footprint(x: float, y: float, d: float = 0.0001) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((x - d, y - d, x + d, y + d)), srid=4326)


@pytest.fixture
def edge():
    (community,) = region_tree((LON0, LAT0, LON0 + 2 * STEP, LAT0 + STEP))
    mine_leader, their_leader = user("mine", Role.GRID_LEADER), user("theirs", Role.GRID_LEADER)
    mine = grid(community, 1, (LON0, LAT0, LON0 + STEP, LAT0 + STEP), leader=mine_leader)
    grid(community, 2, (LON0 + STEP, LAT0, LON0 + 2 * STEP, LAT0 + STEP), leader=their_leader)
    y = LAT0 + STEP / 2
    by_edge = Building.objects.create(geom=footprint(LON0 + STEP - 0.0003, y), grid=mine, community=community,
                                      address="by the edge", households=10)  # fmt: skip
    far = Building.objects.create(geom=footprint(LON0 + 0.0004, y), grid=mine, community=community,
                                  address="far side", households=5)  # fmt: skip
    hydrant = FacilityKind.objects.get(code="hydrant")
    across = Facility.objects.create(kind=hydrant, geom=Point(LON0 + STEP + 0.0003, y))  # ~60 m away
    return {"mine": mine, "leader": mine_leader, "by_edge": by_edge, "far": far,
            "across": across}  # fmt: skip


def test_the_hydrant_across_the_edge_serves_the_leaders_building(edge):
    leader = edge["leader"]
    assert not facilities_visible_to(leader).filter(pk=edge["across"].pk).exists()  # not theirs to see
    result = coverage_run(user=leader, kind="hydrant")
    covered = dict(zip(result.items["address"], result.items["covered"], strict=True))
    assert covered == {"by the edge": True, "far side": False}  # only their buildings, one served
    assert set(result.items["grid"]) == {edge["mine"].code}
    assert result.summary["uncovered_straight"] == 1
    gaps = coverage_area(user=leader, kind="hydrant")
    assert list(gaps["code"]) == [edge["mine"].code]
    assert 0 < gaps["uncovered_share"].iloc[0] < 1  # the hydrant's reach takes a bite out of the grid


def test_the_leader_map_the_service_and_the_planner_agree(edge):
    figures = {c["kind"]: c for c in area_layers_for_figures([edge["mine"]])["coverage"]}
    assert figures["hydrant"]["uncovered"] == 1 and figures["hydrant"]["buildings"] == 2
    refresh_now()  # the planner reads the stored sets
    planned = compute_planner_data(edge["leader"], FacilityKind.objects.get(code="hydrant"), None)
    row = planned.grids.set_index("code").loc[edge["mine"].code]
    assert (row["served"], row["covered"]) == (2, 1)


def test_siting_counts_the_hydrant_across_the_edge_as_existing(edge):
    y = LAT0 + STEP / 2 - 0.0003
    Street.objects.create(source_key="t:edge", highway="residential", length_m=760.0,
                          geom=LineString((LON0, y), (LON0 + 2 * STEP, y), srid=4326))  # fmt: skip
    network_cache.network_cache_clear()
    try:
        result = sites_suggest(user=edge["leader"], kind="hydrant", grid=edge["mine"].code)
    finally:
        network_cache.network_cache_clear()
    assert result.summary["existing_facilities"] == 1
    assert (result.summary["buildings"], result.summary["demand_buildings"]) == (2, 1)  # only the far one
    assert result.summary["sites"] == 1
