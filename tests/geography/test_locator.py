"""The in-process areas (gridmap.geography.locator) give the selectors' answer, and follow every
change of the grids and communities through the area stamp (database triggers)."""

from __future__ import annotations

import random

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import connection

from gridmap.core.models import ChangeStamp
from gridmap.geography import locator
from gridmap.geography.models import AreaStamp, Community, Grid
from gridmap.geography.selectors import community_for_point, grid_for_point
from gridmap.problems.intake import problem_create
from gridmap.problems.models import EventCategory
from tests.factories import LAT0, LON0, region_tree

pytestmark = pytest.mark.django_db
W, H = 0.004, 0.002  # one community of region_tree


def polygon(*rings) -> MultiPolygon:
    return MultiPolygon(*(Polygon(ring) for ring in rings), srid=4326)


def ring(*xy) -> tuple:
    pts = [(LON0 + x, LAT0 + y) for x, y in xy]
    return (*pts, pts[0])


@pytest.fixture
def town():
    """Two communities. In the first, two triangles share a diagonal edge and a notch is left
    uncovered; in the second, three grids share edges and a T-junction, one grid sticks out of
    both communities, and one grid has two parts."""
    c1, c2 = region_tree(n=2)
    specs = [
        (c1, 1, [ring((0, 0), (W, 0), (0, H))]),
        (c1, 2, [ring((W, 0), (W, H), (0.0015, H), (0.0008, 0.0016))]),  # a gap along the diagonal
        (c2, 3, [ring((W, 0), (W + 0.0021, 0), (W + 0.0021, 0.0011), (W, 0.0011))]),
        (c2, 2, [ring((W + 0.0021, 0), (2 * W, 0), (2 * W, 0.0011), (W + 0.0021, 0.0011))]),
        (c2, 1, [ring((W, 0.0011), (2 * W + 0.001, 0.0011), (2 * W + 0.001, H), (W, H))]),  # sticks out east
        (
            c2,
            4,
            [
                ring((-0.002, -0.001), (-0.001, -0.001), (-0.001, 0)),
                ring((2 * W + 0.002, 0), (2 * W + 0.003, 0), (2 * W + 0.003, H)),
            ],
        ),  # fmt: skip
    ]
    for community, seq, rings in specs:
        Grid.objects.create(code=f"{community.code}{seq:03d}", name=f"网格{seq}", community=community,
                            geom=polygon(*rings))  # fmt: skip
    return c1, c2


def by_selectors(x: float, y: float) -> tuple[int | None, int | None]:
    point = Point(x, y, srid=4326)
    grid = grid_for_point(point)
    if grid is not None:
        return grid.pk, grid.community_id
    community = community_for_point(point)
    return None, community.pk if community else None


def boundary_points(rng: random.Random) -> list[tuple[float, float]]:
    """Every vertex of every area, points along every edge, and points a hair off them."""
    out = []
    areas = [*Grid.objects.values_list("geom", flat=True), *Community.objects.values_list("geom", flat=True)]
    for geom in areas:
        for poly in geom:
            coords = poly.exterior_ring.coords
            for (ax, ay), (bx, by) in zip(coords[:-1], coords[1:], strict=True):
                out.append((ax, ay))
                for t in (0.5, rng.random(), rng.random()):
                    x, y = ax + t * (bx - ax), ay + t * (by - ay)
                    out += [(x, y), (x + 1e-12, y), (x, y - 1e-12), (x - 1e-9, y + 1e-9)]
    return out


def test_the_areas_in_memory_answer_as_the_selectors(town):
    rng = random.Random(3)
    areas = locator.areas_now()
    assert areas is not None
    x0, y0, x1, y1 = LON0 - 0.003, LAT0 - 0.002, LON0 + 2 * W + 0.004, LAT0 + H + 0.001
    points = [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(400)] + boundary_points(rng)
    answers = {}
    for x, y in points:
        answers[(x, y)] = expected = by_selectors(x, y)
        assert areas.locate(x, y) == expected, (x, y)
    # every kind of answer was met: a grid, the community fallback, nothing
    kinds = {(g is not None, c is not None) for g, c in answers.values()}
    assert kinds == {(True, True), (False, True), (False, False)}


def test_every_change_of_the_areas_gives_a_new_stamp(town):
    c1, _ = town
    stamps = [locator.read_stamp()]

    def changed() -> bool:
        stamps.append(locator.read_stamp())
        return stamps[-1] != stamps[-2]

    grid = Grid.objects.get(code=f"{c1.code}001")
    Grid.objects.filter(pk=grid.pk).update(name="改名")  # not a locating column
    assert not changed()
    Grid.objects.filter(pk=grid.pk).update(geom=polygon(ring((0, 0), (W, 0), (W, H))))  # no signal
    assert changed()
    Grid.objects.filter(pk=grid.pk).update(code=f"{c1.code}009")
    assert changed()
    Community.objects.filter(pk=c1.pk).update(geom=polygon(ring((0, 0), (W, 0), (W, 2 * H), (0, 2 * H))))
    assert changed()
    Grid.objects.filter(pk=grid.pk).delete()
    assert changed()
    with connection.cursor() as cursor:  # raw SQL too
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(Grid._meta.db_table)}")
    assert changed()
    assert None not in stamps


def test_a_change_without_signals_is_seen_by_the_next_report(town):
    c1, _ = town
    category = EventCategory.objects.get(code="0601")
    spot = (LON0 + 0.0005, LAT0 + 0.0005)  # in triangle 1
    first, _ = problem_create(lon=spot[0], lat=spot[1], category=category)
    assert first.grid_id == Grid.objects.get(code=f"{c1.code}001").pk
    # the other grid takes the whole community (a bulk update: no model signal)
    Grid.objects.filter(code=f"{c1.code}001").update(geom=polygon(ring((-0.003, -0.002), (-0.002, -0.002),
                                                                      (-0.002, -0.001))))  # fmt: skip
    Grid.objects.filter(code=f"{c1.code}002").update(geom=polygon(ring((0, 0), (W, 0), (W, H), (0, H))))
    second, _ = problem_create(lon=spot[0], lat=spot[1], category=category)
    assert second.grid_id == Grid.objects.get(code=f"{c1.code}002").pk
    Grid.objects.filter(community=c1).delete()
    third, _ = problem_create(lon=spot[0], lat=spot[1], category=category)
    assert third.grid_id is None and third.community_id == c1.pk


def test_no_stamp_means_the_selectors_answer(town):
    ChangeStamp.objects.filter(kind="areas").delete()  # as if no trigger had ever written it
    assert not AreaStamp.objects.exists()
    assert locator.read_stamp() is None and locator.areas_now() is None
    x, y = LON0 + 0.0005, LAT0 + 0.0005
    assert locator.locate_point(Point(x, y, srid=4326)) == by_selectors(x, y) != (None, None)
    category = EventCategory.objects.get(code="0601")
    problem, _ = problem_create(lon=x, lat=y, category=category)
    assert (problem.grid_id, problem.community_id) == by_selectors(x, y)


def test_no_areas_at_all(db):
    Grid.objects.all().delete()
    Community.objects.all().delete()
    areas = locator.areas_now()
    assert areas is not None and areas.locate(LON0, LAT0) == (None, None)
