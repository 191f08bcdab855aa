"""The change stamps (gridmap.core.stamps): every write of a kind's rows renews its stamp — saves,
bulk updates, raw SQL, deletes, edits that keep every count — in the towns the rows belong to,
and nothing else's."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.contrib.gis.geos import LineString, Point
from django.db import connection
from werkzeug.test import Client

from gridmap.core.models import ChangeStamp
from gridmap.core.stamps import stamp_of, stamps_of, watched_kinds
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Community, Grid, Street, Subdistrict
from gridmap.problems.models import EventCategory, Problem
from tests.factories import LAT0, LON0, box, grid, region_tree, user

pytestmark = pytest.mark.django_db
KINDS = ["areas", "buildings", "categories", "facilities", "grids", "problems", "streets"]


@pytest.fixture
def towns():
    """Two towns (subdistricts) side by side, one community and one grid each."""
    (a,) = region_tree()
    sub_b = Subdistrict.objects.create(code="320581108", name="乙镇", district=a.subdistrict.district)
    b = Community.objects.create(code="320581108001", name="乙社区", subdistrict=sub_b,
                                 geom=box(LON0 + 0.004, LAT0, LON0 + 0.008, LAT0 + 0.002))  # fmt: skip
    ga = grid(a, 1, (LON0, LAT0, LON0 + 0.004, LAT0 + 0.002))
    gb = grid(b, 1, (LON0 + 0.004, LAT0, LON0 + 0.008, LAT0 + 0.002))
    return SimpleNamespace(a=a, b=b, ga=ga, gb=gb, ta=a.subdistrict_id, tb=sub_b.pk)


def changes(t: SimpleNamespace, write: Callable[[], object]) -> set[tuple[str, str]]:
    """(kind, "all" | "a" | "b") of every stamp that ``write`` changed."""

    def read() -> dict[tuple[str, str], int | None]:
        out = {}
        for name, town in (("all", None), ("a", t.ta), ("b", t.tb)):
            out |= {(kind, name): value for kind, value in stamps_of(KINDS, town).items()}
        return out

    before = read()
    write()
    after = read()
    assert None not in after.values()
    return {key for key in after if after[key] != before[key]}


def every(kind: str) -> set[tuple[str, str]]:
    return {(kind, "all"), (kind, "a"), (kind, "b")}


def town_a(*kinds_: str) -> set[tuple[str, str]]:
    return {(kind, town) for kind in kinds_ for town in ("all", "a")}


def raw(sql: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def test_every_kind_has_a_stamp_after_migrate(db):
    assert set(KINDS) <= set(watched_kinds())
    assert None not in stamps_of(KINDS).values()


def test_grids(towns):
    t = towns
    g = Grid.objects.get(pk=t.ga.pk)
    g.name = "改名"
    assert changes(t, g.save) == town_a("grids") | every("areas")  # save() writes every column
    bulk = changes(t, lambda: Grid.objects.filter(community=t.a).update(name="批量"))
    assert bulk == town_a("grids")  # not where a point falls: the area stamp stays
    assert changes(t, lambda: raw(f"UPDATE {table(Grid)} SET name = %s WHERE id = %s", "原始", g.pk)) == (
        town_a("grids")
    )
    redrawn = box(LON0, LAT0, LON0 + 0.003, LAT0 + 0.002)  # same rows, same counts
    assert changes(t, lambda: Grid.objects.filter(pk=g.pk).update(geom=redrawn)) == town_a("grids") | every(
        "areas"
    )
    assert changes(t, lambda: grid(t.a, 2, (LON0, LAT0, LON0 + 0.001, LAT0 + 0.001))) == (
        town_a("grids") | every("areas")
    )
    someone = user("someone")
    assert changes(t, lambda: g.direct_responsible.add(someone)) == town_a("grids")
    # moved to the other town: both towns see it
    moved = changes(t, lambda: Grid.objects.filter(pk=g.pk).update(community=t.b))
    assert moved == every("grids") | every("areas")
    assert changes(t, lambda: Grid.objects.filter(code__endswith="002").delete()) == town_a("grids") | every(
        "areas"
    )
    town_b = {("grids", "all"), ("grids", "b")}
    assert changes(t, lambda: raw(f"DELETE FROM {table(Grid)} WHERE id = %s", t.gb.pk)) == town_b | every(
        "areas"
    )


def test_communities_and_towns_are_grids(towns):
    t = towns
    assert changes(t, lambda: Community.objects.filter(pk=t.b.pk).update(name="新名")) == {
        ("grids", "all"),
        ("grids", "b"),
    }
    assert changes(t, lambda: Subdistrict.objects.filter(pk=t.ta).update(name="新镇")) == town_a("grids")


def test_buildings(towns):
    t = towns
    footprint = box(LON0 + 0.001, LAT0 + 0.001, LON0 + 0.0012, LAT0 + 0.0012)
    made = changes(t, lambda: Building.objects.create(geom=footprint, grid=t.ga, community=t.a, population=9))
    assert made == town_a("buildings")
    b = Building.objects.get()
    assert changes(t, lambda: Building.objects.update(population=10)) == town_a("buildings")
    raw_update = f"UPDATE {table(Building)} SET households = 3 WHERE id = %s"
    assert changes(t, lambda: raw(raw_update, b.pk)) == town_a("buildings")
    assert changes(t, b.delete) == town_a("buildings")


def test_facilities(towns):
    t = towns
    hydrant = FacilityKind.objects.get(code="hydrant")
    spot = Point(LON0 + 0.005, LAT0 + 0.001, srid=4326)
    made = changes(t, lambda: Facility.objects.create(kind=hydrant, geom=spot, grid=t.gb))
    assert made == {("facilities", "all"), ("facilities", "b")}
    f = Facility.objects.get()
    f.geom = Point(LON0 + 0.006, LAT0 + 0.001, srid=4326)  # a moved hydrant: every count the same
    assert changes(t, f.save) == {("facilities", "all"), ("facilities", "b")}
    raw_update = f"UPDATE {table(Facility)} SET name = 'x' WHERE id = %s"
    assert changes(t, lambda: raw(raw_update, f.pk)) == {("facilities", "all"), ("facilities", "b")}
    # a kind's radius is every town's
    assert changes(
        t, lambda: FacilityKind.objects.filter(pk=hydrant.pk).update(service_radius_m=77)
    ) == every("facilities")
    assert changes(t, f.delete) == {("facilities", "all"), ("facilities", "b")}


def test_streets(towns):
    t = towns
    line = LineString((LON0, LAT0), (LON0 + 0.001, LAT0), srid=4326)
    assert changes(t, lambda: Street.objects.create(geom=line, name="甲路")) == every("streets")
    s = Street.objects.get()
    assert changes(t, lambda: raw(f"UPDATE {table(Street)} SET name = 'x' WHERE id = %s", s.pk)) == every(
        "streets"
    )
    assert changes(t, s.delete) == every("streets")


def test_problems_and_categories(towns):
    t = towns
    category = EventCategory.objects.get(code="0601")
    spot = Point(LON0 + 0.001, LAT0 + 0.001, srid=4326)
    made = changes(t, lambda: Problem.objects.create(geom=spot, category=category, grid=t.ga, community=t.a))
    assert made == town_a("problems")
    p = Problem.objects.get()
    assert changes(t, lambda: Problem.objects.filter(pk=p.pk).update(status="closed")) == town_a("problems")
    raw_update = f"UPDATE {table(Problem)} SET description = 'x' WHERE id = %s"
    assert changes(t, lambda: raw(raw_update, p.pk)) == town_a("problems")
    # no grid, no community: town 0, which every town's stamp includes
    assert changes(t, lambda: Problem.objects.filter(pk=p.pk).update(grid=None, community=None)) == every(
        "problems"
    )
    assert changes(t, lambda: Problem.objects.filter(pk=p.pk).delete()) == every("problems")
    # an edited category: no count changes, every town sees it
    renamed = changes(t, lambda: EventCategory.objects.filter(pk=category.pk).update(name="改名"))
    assert renamed == every("problems") | every("categories")


def test_no_stamp_row_is_none(db):
    ChangeStamp.objects.filter(kind="streets").delete()
    assert stamp_of("streets") is None and stamp_of("streets", 5) is None
    assert stamp_of("grids") is not None


def test_one_statement_over_many_rows_and_both_towns(towns):
    t = towns
    for i in range(30):
        x = LON0 + 0.0002 * i
        Building.objects.create(geom=box(x, LAT0, x + 0.0001, LAT0 + 0.0001), grid=t.ga if i % 2 else t.gb)
    assert changes(t, lambda: Building.objects.update(households=2)) == every("buildings")
    assert changes(t, lambda: raw(f"DELETE FROM {table(Building)}")) == every("buildings")


def test_truncate_renews_the_kind(towns):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (a DELETE without WHERE fires the row triggers)")
    Street.objects.create(geom=LineString((LON0, LAT0), (LON0 + 0.001, LAT0), srid=4326))
    assert changes(towns, lambda: raw(f"TRUNCATE {table(Street)}")) == every("streets")


def test_a_request_lasts_until_its_response_is_closed(wsgi_app, settings):
    """Whole-kind stamps are read once per request and kept until the request finishes, which is
    when its response is closed (as a WSGI server does). A client that leaves the response open
    (werkzeug's, schemathesis's) keeps the thread in the request: later reads there answer the
    old stamps and a write is not seen. The suite's in-process app closes every response."""
    settings.ALLOWED_HOSTS = ["localhost"]
    line = LineString((LON0, LAT0), (LON0 + 0.001, LAT0), srid=4326)

    def write_is_seen() -> bool:
        before = stamp_of("streets")
        Street.objects.create(geom=line)
        return stamp_of("streets") != before

    assert write_is_seen()
    left_open = Client(wsgi_app.app).get("/health/")  # Django's handler itself, not closed
    assert not write_is_seen()
    left_open.close()
    assert write_is_seen()
    Client(wsgi_app).get("/health/")
    assert write_is_seen()
