"""problem_intake decides location, facility link, recurrence link and duplicates as the
selectors do, writes everything or nothing, and answers a replay with the first result — on
both databases. Where the backend writes in one statement, that write is held equal to the ORM
writer's rows."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.db import DatabaseError, connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography import locator
from gridmap.problems.intake import (
    nearest_facility,
    nearest_within_m,
    possible_duplicates,
    problem_create,
    problem_intake,
)
from gridmap.problems.intake import write as writer
from gridmap.problems.intake.features import features
from gridmap.problems.models import EventCategory, Problem, ProblemEvent, Status
from gridmap.problems.selectors import problems_closed_recently_nearby
from tests.factories import LAT0, LON0, grid, region_tree, user

pytestmark = pytest.mark.django_db
BOX = (LON0 - 0.0005, LAT0 - 0.0005, LON0 + 0.0085, LAT0 + 0.0025)  # two communities and around


def writers() -> list[bool]:
    """The writers this backend has: the ORM's (False) and, where allowed, one statement (True)."""
    return [True, False] if features().writes_in_one_statement else [False]


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


def test_every_writer_writes_the_same_rows(monkeypatch):
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
        for one_statement in writers():
            monkeypatch.setattr(writer, "one_statement", lambda flag=one_statement: flag)
            with transaction.atomic():
                result = problem_intake(**kwargs)
                rows.append((row(result.problem), result.duplicates))
                transaction.set_rollback(True)
        assert all(r == rows[0] for r in rows), (x, y)


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


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: no test transaction to roll back
@pytest.mark.parametrize("one_statement", [True, False])
def test_a_failing_write_leaves_nothing_behind(monkeypatch, catalogues, one_statement):
    if one_statement not in writers():
        pytest.skip("this backend has no one-statement writer")
    monkeypatch.setattr(writer, "one_statement", lambda: one_statement)
    (c1,) = region_tree()
    grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    category = EventCategory.objects.get(code="0301")
    closed, _ = problem_create(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category)
    # The closed case's recurrence count is at the top of its column (smallint): the last part of
    # the write, counting the recurrence, fails, after the problem and its event were written.
    Problem.objects.filter(pk=closed.pk).update(
        status=Status.CLOSED, closed_at=timezone.now(), recurrence_count=32767
    )
    if connection.vendor == "sqlite":  # SQLite's integers do not overflow there: fail the count itself

        def fail(problem: Problem) -> None:
            raise DatabaseError("the recurrence count failed")

        monkeypatch.setattr(writer, "count_recurrence", fail)
    before = (Problem.objects.count(), ProblemEvent.objects.count())
    assert not connection.in_atomic_block
    with pytest.raises(DatabaseError):
        problem_intake(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category)
    assert (Problem.objects.count(), ProblemEvent.objects.count()) == before


@pytest.mark.skipif(
    "connection.vendor == 'sqlite'"
)  # the SQLite test database (shared-cache memory) refuses a second writer outright
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


def test_a_replay_that_lost_the_race_writes_nothing_on_every_writer(monkeypatch):
    """The uuid check and the write are not one step: a replay whose twin was written in between
    reaches the writer, which writes nothing and says so."""
    rng = random.Random(3)
    town = make_town(rng)
    category, key = town["categories"][0], uuid.uuid4()
    first = problem_intake(lon=LON0 + 0.001, lat=LAT0 + 0.001, category=category, client_uuid=key)
    before = (Problem.objects.count(), ProblemEvent.objects.count())
    for one_statement in writers():
        monkeypatch.setattr(writer, "one_statement", lambda flag=one_statement: flag)
        twin = Problem(geom=Point(LON0 + 0.001, LAT0 + 0.001, srid=4326), category=category, uuid=key)
        assert writer.write(twin, key) is False
    assert (Problem.objects.count(), ProblemEvent.objects.count()) == before
    assert Problem.objects.get(uuid=key).pk == first.problem.pk


def test_areas_changed_since_this_process_read_them_are_read_again(monkeypatch):
    rng = random.Random(4)
    town = make_town(rng)
    stale = locator.areas_now()
    assert stale is not None
    from gridmap.geography.models import Grid

    # A new grid code: the stamp changes, the areas this process read are stale.
    g1 = Grid.objects.order_by("pk").first()
    g1.code = g1.code[:-3] + "999"
    g1.save()
    monkeypatch.setattr(writer, "areas_cached", lambda: stale)
    x, y = g1.geom.point_on_surface.coords
    for one_statement in writers():
        monkeypatch.setattr(writer, "one_statement", lambda flag=one_statement: flag)
        result = problem_intake(lon=x, lat=y, category=town["categories"][0])
        assert result.created and result.problem.grid_id == g1.pk
        assert Problem.objects.get(pk=result.problem.pk).grid.code == g1.code


def test_whoever_listens_to_post_save_hears_both_rows_on_every_writer(monkeypatch):
    from django.db.models.signals import post_save

    rng = random.Random(6)
    town = make_town(rng)
    heard: list[tuple[str, bool]] = []

    def listen(sender, instance, created, **kwargs):  # noqa: ANN001, ANN003
        heard.append((sender.__name__, created))

    for model in (Problem, ProblemEvent):
        post_save.connect(listen, sender=model, dispatch_uid=f"test-{model.__name__}")
    try:
        for one_statement in writers():
            monkeypatch.setattr(writer, "one_statement", lambda flag=one_statement: flag)
            heard.clear()
            x, y = spot(rng)
            problem_intake(lon=x, lat=y, category=town["categories"][1])
            assert sorted(heard) == [("Problem", True), ("ProblemEvent", True)], one_statement
    finally:
        for model in (Problem, ProblemEvent):
            post_save.disconnect(sender=model, dispatch_uid=f"test-{model.__name__}")


def test_a_pre_save_listener_makes_the_orm_write(monkeypatch):
    from django.db.models.signals import pre_save

    pre_save.connect(lambda **kw: None, sender=Problem, weak=False, dispatch_uid="test-pre-save")
    try:
        assert writer.one_statement() is False
    finally:
        pre_save.disconnect(sender=Problem, dispatch_uid="test-pre-save")
    assert writer.one_statement() is features().writes_in_one_statement
