"""A small town for the API tests: two communities, three grids, one of each role, a building,
facilities and problems; ``as_user`` gives an API client signed in with the user's token."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gridmap.accounts.models import Department, Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building
from gridmap.problems.intake import problem_create
from gridmap.problems.models import EventCategory
from tests.factories import LAT0, LON0, grid, region_tree, user

# Community 1 spans LON0..LON0+0.004, community 2 the next 0.004°; each 0.002° tall.
SPOT = (LON0 + 0.001, LAT0 + 0.001)  # grid 1 of community 1
SPOT2 = (LON0 + 0.003, LAT0 + 0.001)  # grid 2 of community 1
SPOT3 = (LON0 + 0.005, LAT0 + 0.001)  # grid 1 of community 2


@pytest.fixture(autouse=True)
def english(settings):
    """Messages are checked in English (the default language is Chinese; English when asked)."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def fresh_code_books():
    """The API's in-memory code books outlive a test's rolled-back rows: start each test empty."""
    from gridmap.api.codebook import BOOKS, CATEGORIES

    for entry in [*BOOKS.values(), CATEGORIES]:
        entry.clear()


@pytest.fixture
def town(db):
    c1, c2 = region_tree(n=2)
    leader = user("leader", Role.GRID_LEADER)
    leader2 = user("leader2", Role.GRID_LEADER)
    g1 = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    g2 = grid(c1, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=leader2)
    g3 = grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.008, LAT0 + 0.002))
    category = EventCategory.objects.get(code="0301")
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(c1)
    people = {
        "leader": leader,
        "leader2": leader2,
        "head": user("head", Role.COMMUNITY_HEAD, community=c1),
        "head2": user("head2", Role.COMMUNITY_HEAD, community=c2),
        "handler": user("handler", Role.DEPARTMENT, department=dept),
        "inspector": inspector,
        "reporter": user("reporter", Role.REPORTER),
        "reporter2": user("reporter2", Role.REPORTER),
        "admin": user("admin", Role.ADMIN),
        "planner": user("planner", Role.PLANNER),
    }
    Building.objects.create(
        geom=MultiPolygon(
            Polygon.from_bbox((LON0 + 0.0005, LAT0 + 0.0005, LON0 + 0.0008, LAT0 + 0.0008)), srid=4326
        ),  # fmt: skip
        address="古里镇1号",
        use="residential",
        floors=6,
        households=24,
        population=60,
        grid=g1,
        community=c1,
    )
    hydrant = FacilityKind.objects.get(code="hydrant")
    lane = FacilityKind.objects.get(code="fire_lane")
    Facility.objects.create(kind=hydrant, geom=Point(*SPOT, srid=4326), name="H1", grid=g1, attrs={"pn": 1})
    Facility.objects.create(
        kind=lane, geom=LineString((SPOT3[0], SPOT3[1]), (SPOT3[0] + 0.001, SPOT3[1]), srid=4326), grid=g3
    )
    return {"c1": c1, "c2": c2, "g1": g1, "g2": g2, "g3": g3, "category": category, "dept": dept, **people}


def report(t, spot=SPOT, reporter="reporter", category=None, **kw):
    problem, _ = problem_create(
        lon=spot[0], lat=spot[1], category=category or t["category"], reporter=t[reporter], **kw
    )
    return problem


@pytest.fixture
def as_user():
    def client(u=None) -> APIClient:
        c = APIClient()
        if u is not None:
            token, _ = Token.objects.get_or_create(user=u)
            c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return c

    return client
