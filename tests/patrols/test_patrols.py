"""Year-round patrols: plans, the scheduler's tasks (on local days, never twice), walk records
(idempotent on the client id, checked tracks, problems found on the walk linked to it) and the
grids not walked lately."""

import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from gridmap.accounts.models import Role
from gridmap.core.jobs import load_task_modules
from gridmap.patrols.models import Frequency, PatrolFinding, PatrolPlan, PatrolRecord, PatrolTask, TaskStatus
from gridmap.patrols.schedule import create_due_tasks, period_of
from gridmap.problems.models import EventCategory, Problem
from tests.factories import LAT0, LON0, grid, region_tree, user

pytestmark = pytest.mark.django_db

ON_POSTGIS = settings.DATABASES["default"]["ENGINE"].endswith("postgis")


@pytest.fixture
def town():
    (c1,) = region_tree()
    walker = user("walker", Role.INSPECTOR)
    g1 = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    g2 = grid(
        c1, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=user("leader", Role.GRID_LEADER)
    )
    plan = PatrolPlan.objects.create(
        name="每日巡查", frequency=Frequency.DAILY, walker=walker, starts_on=date(2026, 12, 1)
    )
    plan.grids.add(g1)
    return {
        "c1": c1,
        "g1": g1,
        "g2": g2,
        "walker": walker,
        "plan": plan,
        "other": user("other", Role.INSPECTOR),
    }


def _plan(kind, starts_on, **kw):
    return PatrolPlan(name="p", frequency=kind, starts_on=starts_on, **kw)


days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@given(
    day=days, kind=st.sampled_from(list(Frequency)), weekday=st.integers(0, 6), monthday=st.integers(1, 28)
)
def test_every_day_lies_in_one_period_and_periods_follow_each_other(day, kind, weekday, monthday):
    plan = _plan(kind, date(2024, 1, 1), weekday=weekday, monthday=monthday)
    first, last = period_of(plan, day)
    assert first <= day <= last
    assert period_of(plan, first) == (first, last) == period_of(plan, last)
    assert period_of(plan, last + timedelta(days=1))[0] == last + timedelta(days=1)  # no gap, no overlap
    if kind == Frequency.WEEKLY:
        assert first.weekday() == weekday and (last - first).days == 6
    if kind == Frequency.MONTHLY:
        assert first.day == monthday and 27 <= (last - first).days <= 30


def test_a_new_days_task_appears_at_local_midnight_and_yesterdays_open_one_is_missed(town):
    before_midnight = datetime(2026, 12, 6, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Shanghai
    assert create_due_tasks(before_midnight) == {"created": 1, "missed": 0}
    assert create_due_tasks(before_midnight) == {"created": 0, "missed": 0}  # never twice
    (task,) = PatrolTask.objects.all()
    assert task.due_on == task.until == date(2026, 12, 6) and task.walker == town["walker"]
    after_midnight = before_midnight + timedelta(
        seconds=1
    )  # 00:00:00 on the 7th in Shanghai, still the 6th in UTC
    assert create_due_tasks(after_midnight) == {"created": 1, "missed": 1}
    assert list(PatrolTask.objects.values_list("due_on", "status")) == [
        (date(2026, 12, 6), TaskStatus.MISSED),
        (date(2026, 12, 7), TaskStatus.OPEN),
    ]


def test_plans_not_started_or_paused_get_no_task(town):
    town["plan"].starts_on = date(2026, 12, 10)
    town["plan"].save()
    assert create_due_tasks(datetime(2026, 12, 6, 4, tzinfo=UTC))["created"] == 0
    town["plan"].starts_on, town["plan"].active = date(2026, 12, 1), False
    town["plan"].save()
    assert create_due_tasks(datetime(2026, 12, 6, 4, tzinfo=UTC))["created"] == 0


@pytest.mark.skipif(not ON_POSTGIS, reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_the_same_moment_make_one_task(town):
    now = datetime(2026, 12, 6, 4, tzinfo=UTC)
    barrier, errors = threading.Barrier(4), []

    def run():
        try:
            barrier.wait()
            create_due_tasks(now)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and PatrolTask.objects.count() == 1


def test_the_schedule_runs_the_task():
    assert settings.GRIDMAP_SCHEDULE["patrol-tasks"]["task"] == "patrols.create_tasks"
    assert "patrols.create_tasks" in load_task_modules()


def walk(client, who, **data):
    client.force_login(who)
    now = timezone.localtime()
    form = {
        "client_id": str(data.pop("client_id", uuid.uuid4())),
        "started_at": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
        "ended_at": now.strftime("%Y-%m-%d %H:%M:%S"),
        "notes": "发现暴露垃圾一处",
        **data,
    }
    return client.post(reverse("patrols"), form)


def test_a_walk_closes_its_task_walks_its_grids_and_carries_the_problems_found(client, town):
    create_due_tasks()
    task = PatrolTask.objects.get()
    cat = EventCategory.objects.get(code="0101")
    now = timezone.now()
    found = Problem.objects.create(geom=Point(LON0 + 0.001, LAT0 + 0.001), category=cat, reporter=town["walker"],
                                   reported_at=now - timedelta(minutes=30))  # fmt: skip
    earlier = Problem.objects.create(geom=Point(LON0 + 0.001, LAT0 + 0.001), category=cat, reporter=town["walker"],
                                     reported_at=now - timedelta(hours=3))  # fmt: skip
    by_other = Problem.objects.create(geom=Point(LON0 + 0.001, LAT0 + 0.001), category=cat, reporter=town["other"],
                                      reported_at=now - timedelta(minutes=20))  # fmt: skip
    track = [[LON0 + 0.0005, LAT0 + 0.001], [LON0 + 0.003, LAT0 + 0.001]]  # from grid 1 into grid 2
    key = uuid.uuid4()
    response = walk(client, town["walker"], task=task.pk, client_id=key, track=str(track).replace("'", '"'))
    assert response.status_code == 302
    record = PatrolRecord.objects.get()
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and record.task == task and record.track is not None
    assert {g.code for g in record.grids.all()} == {town["g1"].code, town["g2"].code}
    assert list(PatrolFinding.objects.values_list("problem_id", flat=True)) == [found.pk]
    assert not PatrolFinding.objects.filter(problem__in=[earlier, by_other]).exists()
    assert walk(client, town["walker"], task=task.pk, client_id=key).status_code == 302  # a retry
    assert PatrolRecord.objects.count() == 1
    assert walk(client, town["other"], task=task.pk).status_code == 403  # not their task
    assert walk(client, town["other"], client_id=key).status_code == 400  # not their walk
    assert PatrolRecord.objects.count() == 1


number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(1e308),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.text(max_size=5),
    st.none(),
)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(track=st.lists(st.lists(number, min_size=0, max_size=3), max_size=5), hours=st.integers(-30, 30))
def test_any_walk_is_recorded_whole_or_refused_with_a_400(client, town, track, hours):
    import json

    PatrolRecord.objects.all().delete()
    now = timezone.localtime()
    try:
        text = json.dumps(track, allow_nan=True)
    except (TypeError, ValueError):
        return
    response = walk(
        client,
        town["walker"],
        track=text,
        ended_at=(now + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S"),
    )
    assert response.status_code in (302, 400)
    assert PatrolRecord.objects.exists() == (response.status_code == 302)


def test_grids_not_walked_lately_per_scope(client, town):
    PatrolRecord.objects.create(walker=town["walker"], client_id=uuid.uuid4(),
                                started_at=timezone.now() - timedelta(days=2, hours=1),
                                ended_at=timezone.now() - timedelta(days=2)).grids.add(town["g1"])  # fmt: skip
    client.force_login(town["walker"])
    page = client.get(reverse("patrols-not-walked"), {"days": 7})
    assert page.status_code == 200
    late = [r["grid"].code for r in page.context["rows"]]
    assert late == [town["g2"].code]
    assert client.get(reverse("patrols-not-walked"), {"days": 1}).context["rows"][-1]["grid"] == town["g1"]
    assert client.get(reverse("patrols-not-walked"), {"days": 0}).status_code == 400
    client.force_login(User := town["g2"].first_responsible)  # noqa: N806 - the leader of grid 2
    rows = client.get(reverse("patrols-not-walked")).context["rows"]
    assert [r["grid"] for r in rows] == [town["g2"]] and User.profile.role == Role.GRID_LEADER
