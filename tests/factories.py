"""Small builders for model objects in tests (WGS84 boxes near the demo town)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon

from gridmap.accounts.models import Profile, Role
from gridmap.geography.models import Community, District, Grid, Subdistrict

LON0, LAT0 = 120.87, 31.62


def box(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((x0, y0, x1, y1)), srid=4326)


def region_tree(community_box=(LON0, LAT0, LON0 + 0.004, LAT0 + 0.002), n=1) -> list[Community]:
    """A district, a street/town and ``n`` side-by-side communities (each 0.004° × 0.002°)."""
    district, _ = District.objects.get_or_create(code="320581", defaults={"name": "测试市"})
    sub, _ = Subdistrict.objects.get_or_create(
        code="320581107", defaults={"name": "测试镇", "district": district}
    )
    x0, y0, x1, y1 = community_box
    width = x1 - x0
    return [
        Community.objects.create(
            code=f"320581107{i + 1:03d}",
            name=f"社区{i + 1}",
            subdistrict=sub,
            geom=box(x0 + i * width, y0, x1 + i * width, y1),
        )
        for i in range(n)
    ]


def grid(community: Community, seq: int, bounds: tuple[float, float, float, float], leader=None) -> Grid:
    return Grid.objects.create(
        code=f"{community.code}{seq:03d}",
        name=f"第{seq}网格",
        community=community,
        geom=box(*bounds),
        first_responsible=leader,
    )


def user(username: str, role: str = Role.REPORTER, **profile):
    u = get_user_model().objects.create_user(username=username, password="pw-for-tests-only")
    Profile.objects.create(user=u, role=role, **profile)
    return u
