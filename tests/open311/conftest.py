"""A small town for the Open311 tests: two grids with their leaders, a department, an inspector,
a building with an address, and API keys for a reporting app and for each leader."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.cache import cache
from django.test import Client

from gridmap.accounts.models import Department, Role
from gridmap.geography.models import Building
from gridmap.open311.models import ApiKey
from gridmap.problems.intake import problem_create
from gridmap.problems.models import EventCategory
from tests.factories import LAT0, LON0, grid, region_tree, user

IN_A = (LON0 + 0.001, LAT0 + 0.001)
IN_B = (LON0 + 0.003, LAT0 + 0.001)
BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def town(db) -> dict[str, Any]:
    (community,) = region_tree()
    leader_a, leader_b = user("leader_a", Role.GRID_LEADER), user("leader_b", Role.GRID_LEADER)
    grid_a = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader_a)
    grid_b = grid(community, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=leader_b)
    category = EventCategory.objects.get(code="0301")  # street vending
    dept = Department.objects.create(code="cg", name="城管执法中队")
    dept.categories.add(category)
    handler = user("handler", Role.DEPARTMENT, department=dept)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(community)
    app = user("citizen_app", Role.REPORTER)
    x, y = IN_A
    building = Building.objects.create(
        geom=MultiPolygon(Polygon.from_bbox((x - 0.0001, y - 0.0001, x + 0.0001, y + 0.0001)), srid=4326),
        address="琴川街道 Renmin Road 8号",
    )
    keys = {}
    for name, owner in (("app", app), ("a", leader_a), ("b", leader_b)):
        keys[name] = ApiKey.create_for(owner, f"key {name}")[1]
    return {"community": community, "grid_a": grid_a, "grid_b": grid_b, "leader_a": leader_a,
            "leader_b": leader_b, "category": category, "dept": dept, "handler": handler,
            "inspector": inspector, "app": app, "building": building, "keys": keys}  # fmt: skip


def report(t: dict[str, Any], where: tuple[float, float] = IN_A, **kw: Any):
    kw.setdefault("category", t["category"])
    problem, _ = problem_create(lon=where[0], lat=where[1], reporter=t["app"], **kw)
    return problem


class Api:
    """Calls with the JSON or XML extension; ``json`` parses the body."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, path: str, fmt: str = "json", **params: Any):
        return self.client.get(f"{BASE}/{path}.{fmt}", params)

    def post(self, fmt: str = "json", **fields: Any):
        return self.client.post(f"{BASE}/requests.{fmt}", fields)

    @staticmethod
    def json(response) -> Any:
        return orjson.loads(response.content)


@pytest.fixture
def api(client: Client) -> Api:
    return Api(client)


def a_post(t: dict[str, Any], **override: Any) -> dict[str, Any]:
    fields = {"api_key": t["keys"]["app"], "service_code": "0301", "lat": str(IN_A[1]), "long": str(IN_A[0]),
              "description": "人行道上有流动摊贩"}  # fmt: skip
    fields.update(override)
    return {k: v for k, v in fields.items() if v is not None}
