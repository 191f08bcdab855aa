"""A small town for the campaign: two communities with a grid each, departments, people, and
four inspection points of three types with their (example) checklists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.gis.geos import Point, Polygon

from gridmap.accounts.models import Department, Role
from gridmap.campaign.models import InspectionPoint, PointType
from gridmap.campaign.points import point_save
from gridmap.problems.models import EventCategory
from tests.factories import LAT0, LON0, grid, region_tree, user


@dataclass
class Town:
    people: dict[str, Any]
    grids: dict[str, Any]
    points: dict[str, InspectionPoint]
    departments: dict[str, Department]


def campaign_catalogue() -> None:
    """The example catalogue (migration 0002's data): a test after a flushing one finds it gone."""
    from gridmap.campaign.catalogue import catalogue_load
    from gridmap.campaign.models import ChecklistItem

    catalogue_load(PointType, ChecklistItem, EventCategory)


@pytest.fixture
def town(db, catalogues) -> Town:
    campaign_catalogue()
    c1, c2 = region_tree(n=2)
    people = {
        "admin": user("office", Role.ADMIN),
        "planner": user("planner", Role.PLANNER),
        "head1": user("head1", Role.COMMUNITY_HEAD, community=c1),
        "leaderA": user("leaderA", Role.GRID_LEADER),
        "inspector1": user("inspector1", Role.INSPECTOR),
        "inspector2": user("inspector2", Role.INSPECTOR),
        "reporter": user("reporter", Role.REPORTER),
    }
    people["inspector1"].profile.patrol_communities.add(c1)
    cg = Department.objects.create(code="cg", name="城管")
    cg.categories.add(*EventCategory.objects.filter(code__in=["0101", "0102", "0201", "0301", "0302"]))
    scjg = Department.objects.create(code="scjg", name="市场监管所")
    people["dept_cg"] = user("dept_cg", Role.DEPARTMENT, department=cg)
    people["dept_scjg"] = user("dept_scjg", Role.DEPARTMENT, department=scjg)
    grids = {
        "A": grid(c1, 1, (LON0, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=people["leaderA"]),
        "B": grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.008, LAT0 + 0.002)),
    }
    types = {t.code: t for t in PointType.objects.all()}

    def point(name, type_code, geom, department):
        return point_save(InspectionPoint(name=name, type=types[type_code], geom=geom, department=department))

    market_area = Polygon.from_bbox((LON0 + 0.001, LAT0 + 0.0005, LON0 + 0.0015, LAT0 + 0.001))
    market_area.srid = 4326
    points = {
        "market": point("东门菜场", "market", market_area, scjg),
        "stop": point("人民路站", "bus_stop", Point(LON0 + 0.003, LAT0 + 0.001, srid=4326), cg),
        "alley": point("北弄", "back_street", Point(LON0 + 0.005, LAT0 + 0.001, srid=4326), cg),
        "stop2": point("新村站", "bus_stop", Point(LON0 + 0.007, LAT0 + 0.0015, srid=4326), cg),
    }
    return Town(people, grids, points, {"cg": cg, "scjg": scjg})
