"""problem_intake decides location, facility link, recurrence link and duplicates as the
selectors do, writes everything or nothing, and answers a replay with the first result — on
both databases. On PostGIS its one-statement write is held equal to the ORM path's rows."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta

import pytest
from django.contrib.gis.geos import LineString, Point
from django.db import DatabaseError, connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from gridmap.facilities.models import Facility, FacilityKind
from gridmap.problems import services
from gridmap.problems.models import EventCategory, Problem, ProblemEvent, Status
from gridmap.problems.selectors import problems_closed_recently_nearby
from gridmap.problems.services import (
    nearest_facility,
    nearest_within_m,
    possible_duplicates,
    problem_create,
    problem_intake,
)
from tests.factories import LAT0, LON0, grid, region_tree, user

pytestmark = pytest.mark.django_db
BOX = (LON0 - 0.0005, LAT0 - 0.0005, LON0 + 0.0085, LAT0 + 0.0025)  # two communities and around
postgis_only = pytest.mark.skipif("connection.vendor != 'postgresql'")


def make_town(rng: random.Random) -> dict:
    """Two communities with grids (a gap in the second), hydrants, and open and closed problems
    of two categories packed close together, so links and duplicates are common."""
    c1, c2 = region_tree(n=2)
    grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    grid(c1, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002))
    grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.008, LAT0 + 0.0012))
    hydrant = FacilityKind.objects.get(code="hydrant")
    for _ in range(40):
        Facility.objects.create(kind=hydrant, geom=Point(*spot(rng), srid=4326))
    categories = [EventCategory.objects.get(code="0301"), EventCategory.objects.get(code="0602")]
    reporter = user("reporter")
    for i in range(120):
        x, y = spot(rng)
        problem, _ = problem_create(lon=x, lat=y, category=categories[i % 2], reporter=reporter)
        if i % 3 == 0:
            days = rng.choice([1, 20, 45])  # inside and outside the 30-day recurrence window
            Problem.objects.filter(pk=problem.pk).update(status=Status.CLOSED,
                                                         closed_at=timezone.now() - timedelta(days=days))  # fmt: skip
    return {"categories": categories, "reporter": reporter}


def spot(rng: random.Random) -> tuple[float, float]:
    return rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3])


def expected(x: float, y: float, category: EventCategory) -> dict:
    """What the selectors say, one query each (the reference the intake must equal)."""
    from gridmap.geography.selectors import community_for_point, grid_for_point

    point = Point(x, y, srid=4326)
    grid_found = grid_for_point(point)
    community = grid_found.community if grid_found else community_for_point(point)
    facility = nearest_facility(point, category)
    recent = nearest_within_m(
        point, problems_closed_recently_nearby(point, category), category.recurrence_radius_m
    )
    return {
        "grid": grid_found.pk if grid_found else None,
        "community": community.pk if community else None,
        "facility": facility.pk if facility else None,
        "recurrence_of": recent[0][0] if recent else None,
        "duplicates": [(p.pk, round(d, 6)) for p, d in possible_duplicates(point, category)],
    }


def test_intake_equals_the_selectors_on_random_reports():
    rng = random.Random(11)
    town = make_town(rng)
    seen = set()
    for i in range(240):
        x, y = spot(rng)
        category = town["categories"][i % 2]
        want = expected(x, y, category)
        counts = dict(Problem.objects.values_list("pk", "recurrence_count"))
        result = problem_intake(
            lon=x, lat=y, category=category, description=f"问题 {i}", reporter=town["reporter"]
        )
        p = Problem.objects.get(pk=result.problem.pk)
        got = {"grid": p.grid_id, "community": p.community_id, "facility": p.facility_id,
               "recurrence_of": p.recurrence_of_id, "duplicates": [(k, round(d, 6)) for k, d in result.duplicates]}  # fmt: skip
        assert result.created and got == want, (x, y)
        if p.recurrence_of_id:
            assert (
                Problem.objects.get(pk=p.recurrence_of_id).recurrence_count == counts[p.recurrence_of_id] + 1
            )
        event = ProblemEvent.objects.get(problem=p)
        assert (event.action, event.to_status, event.actor_id, event.at) == ("report", "reported", town["reporter"].pk,
                                                                             p.reported_at)  # fmt: skip
        assert event.geom.coords == p.geom.coords == (x, y)
        seen |= {k for k, v in want.items() if v}
    assert seen == {"grid", "community", "facility", "recurrence_of", "duplicates"}  # every case was met


@postgis_only
def test_the_one_statement_write_equals_the_orm_path(monkeypatch):
    rng = random.Random(5)
    town = make_town(rng)
    skip = {"id", "uuid"}

    def row(problem: Problem) -> tuple[dict, dict, dict]:
        p = Problem.objects.get(pk=problem.pk)
        event = ProblemEvent.objects.get(problem=p)
        recurring = Problem.objects.filter(pk=p.recurrence_of_id).values("recurrence_count").first()
        values = {k: v for k, v in model_to_dict(p).items() if k not in skip}
        values["geom"] = p.geom.ewkt
        event_values = {k: v for k, v in model_to_dict(event).items() if k not in {"id", "problem"}}
        event_values["geom"] = event.geom.ewkt
        return values, event_values, recurring

    for i in range(60):
        x, y = spot(rng)
        kwargs = {"lon": x, "lat": y, "category": town["categories"][i % 2], "description": f"第{i}",
                  "reporter": town["reporter"], "reported_at": timezone.now() - timedelta(minutes=i)}  # fmt: skip
        rows = []
        for one_statement in (True, False):
            monkeypatch.setattr(services, "one_statement", lambda flag=one_statement: flag)
            with transaction.atomic():
                result = problem_intake(**kwargs)
                rows.append((row(result.problem), result.duplicates))
                transaction.set_rollback(True)
        assert rows[0] == rows[1], (x, y)


def test_a_replay_answers_the_first_problem_and_writes_nothing():
    rng = random.Random(2)
    town = make_town(rng)
    key = uuid.uuid4()
    category = town["categories"][0]
    first = problem_intake(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category, client_uuid=key)
    before = (Problem.objects.count(), ProblemEvent.objects.count(),
              sorted(Problem.objects.values_list("pk", "recurrence_count")))  # fmt: skip
    again = problem_intake(lon=LON0 + 0.005, lat=LAT0 + 0.001, category=town["categories"][1], client_uuid=key,
                           description="changed")  # fmt: skip
    assert first.created and not again.created and again.duplicates is None
    assert again.problem.pk == first.problem.pk and again.problem.description == ""
    after = (Problem.objects.count(), ProblemEvent.objects.count(),
             sorted(Problem.objects.values_list("pk", "recurrence_count")))  # fmt: skip
    assert after == before


@postgis_only
@pytest.mark.django_db(transaction=True)  # autocommit, as in production: no test transaction to roll back
@pytest.mark.parametrize("one_statement", [True, False])
def test_a_failing_write_leaves_nothing_behind(monkeypatch, catalogues, one_statement):
    monkeypatch.setattr(services, "one_statement", lambda: one_statement)
    (c1,) = region_tree()
    grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    category = EventCategory.objects.get(code="0301")
    closed, _ = problem_create(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category)
    # The closed case's recurrence count is at the top of its column (smallint): the last part of
    # the write, counting the recurrence, fails, after the problem and its event were written.
    Problem.objects.filter(pk=closed.pk).update(
        status=Status.CLOSED, closed_at=timezone.now(), recurrence_count=32767
    )
    before = (Problem.objects.count(), ProblemEvent.objects.count())
    assert not connection.in_atomic_block
    with pytest.raises(DatabaseError):
        problem_intake(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category)
    assert (Problem.objects.count(), ProblemEvent.objects.count()) == before


@postgis_only  # the SQLite test database (shared-cache memory) refuses a second writer outright
@pytest.mark.django_db(transaction=True)
def test_replays_racing_from_two_threads_make_one_problem(catalogues):
    (c1,) = region_tree()
    grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    category = EventCategory.objects.get(code="0301")
    key, results, start = uuid.uuid4(), [], threading.Barrier(2)

    def submit() -> None:
        try:
            start.wait()
            results.append(
                problem_intake(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category, client_uuid=key)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.created for r in results) == [False, True]
    assert len({r.problem.pk for r in results}) == 1
    assert Problem.objects.count() == 1 and ProblemEvent.objects.count() == 1


def test_metre_bounds_are_the_metre_box():
    from gridmap.problems.selectors import metre_bounds, metre_box

    rng = random.Random(8)
    for _ in range(200):
        x, y, r = rng.uniform(-180, 180), rng.uniform(-89.9, 89.9), rng.uniform(0, 500)
        assert metre_bounds(x, y, r) == metre_box(Point(x, y, srid=4326), r).extent


@postgis_only
def test_links_decided_in_sql_are_those_decided_in_python():
    """``intake_sql.insert_decided`` (the API's fast path) measures and decides in PostGIS what
    ``problem_nearby`` measures with pyproj and shapely: same links, same duplicates, the same
    distances to a micrometre."""
    from rest_framework.authtoken.models import Token

    from gridmap.api.auth import identity_query
    from gridmap.geography.locator import areas_now
    from gridmap.problems import intake_sql

    rng = random.Random(21)
    town = make_town(rng)
    lane = FacilityKind.objects.get(code="fire_lane")  # lines: distance to the nearest edge
    for _ in range(30):
        (x, y), (dx, dy) = spot(rng), (rng.uniform(-3e-4, 3e-4), rng.uniform(-3e-4, 3e-4))
        Facility.objects.create(kind=lane, geom=LineString((x, y), (x + dx, y + dy), srid=4326))
    categories = [*town["categories"], EventCategory.objects.get(code="0304")]
    key = Token.objects.create(user=town["reporter"]).key
    areas = areas_now()
    seen = set()
    for i in range(240):
        x, y = spot(rng)
        category = categories[i % 3]
        want = services.problem_nearby(Point(x, y, srid=4326), category)
        report = intake_sql.Report(uuid=uuid.uuid4(), x=x, y=y, category_id=category.pk, description="", reporter_id=None,
                                   reported_at=timezone.now(), grid_id=None, community_id=None, facility_id=None,
                                   recurrence_of_id=None)  # fmt: skip
        with transaction.atomic():
            got = intake_sql.insert_decided(report, services.around(category, x, y), identity_query(key),
                                            area_stamp=areas.stamp)  # fmt: skip
            transaction.set_rollback(True)
        assert got.new_id is not None and got.user_id == town["reporter"].pk
        assert (got.facility_id, got.recurrence_of_id) == (want.facility_id, want.recurrence_of_id), (x, y)
        assert [i for i, _ in got.duplicates] == [i for i, _ in want.duplicates], (x, y)
        assert [d for _, d in got.duplicates] == pytest.approx([d for _, d in want.duplicates], abs=1e-6)
        seen |= {k for k, v in (("facility", got.facility_id), ("recurrence", got.recurrence_of_id),
                                ("duplicates", got.duplicates), ("lane", got.facility_id and i % 3 == 2)) if v}  # fmt: skip
    assert seen == {"facility", "recurrence", "duplicates", "lane"}
