"""The case page offers only the steps that can be taken now; extensions count from the
decision; look-back reminders; the inspector picker; duplicate suggestions with a one-click
merge; the fix form keeps what was typed after a refusal; "my grids" of a department and an
inspector are theirs."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from gridmap.accounts.models import Department, Role
from gridmap.problems.intake import problem_create
from gridmap.problems.lifecycle import offered_actions, problem_transition
from gridmap.problems.models import EventCategory, ExtensionRequest, Problem, ProblemEvent, Status
from gridmap.problems.reminders import lookback_reminders_due, problems_remind_lookbacks
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

pytestmark = pytest.mark.django_db
SPOT = (LON0 + 0.001, LAT0 + 0.001)


@pytest.fixture
def town():
    c1, c2 = region_tree(n=2)
    leader = user("leader", Role.GRID_LEADER)
    g = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    far = grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002))
    category = EventCategory.objects.get(code="0301")
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(c1)
    return {"c1": c1, "grid": g, "far": far, "leader": leader, "category": category, "dept": dept,
            "head": user("head", Role.COMMUNITY_HEAD, community=c1), "inspector": inspector,
            "other_inspector": user("roamer", Role.INSPECTOR),
            "handler": user("handler", Role.DEPARTMENT, department=dept),
            "reporter": user("reporter", Role.REPORTER)}  # fmt: skip


def report(t, spot=SPOT):
    return problem_create(lon=spot[0], lat=spot[1], category=t["category"], reporter=t["reporter"])[0]


def step(problem, action, actor, **kw):
    return problem_transition(problem_id=problem.pk, action=action, actor=actor, **kw).problem


def dispatched(t):
    return step(step(report(t), "file", t["leader"]), "dispatch", t["leader"])


def closed(t):
    p = step(dispatched(t), "handle", t["handler"], photos=[jpeg(lonlat=SPOT)])
    return step(p, "verify_pass", t["inspector"])


def page(client, who, problem, language="zh-hans"):
    client.force_login(who)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("problem-detail", args=[problem.pk]))
    assert response.status_code == 200
    return response


def offered(client, who, problem):
    return [a["action"] for a in page(client, who, problem).context["actions"]]


def post(client, problem, **data):
    return client.post(reverse("problem-transition", args=[problem.pk]), data)


# --- the steps offered -----------------------------------------------------------------------


def test_no_look_back_before_its_day_nor_after_it_is_done(client, town):
    p = closed(town)
    assert p.lookback_due > timezone.localdate()
    assert offered(client, town["inspector"], p) == []  # before its day
    Problem.objects.filter(pk=p.pk).update(lookback_due=timezone.localdate())
    p.refresh_from_db()
    assert offered(client, town["inspector"], p) == ["lookback_pass", "lookback_fail"]
    step(p, "lookback_pass", town["inspector"])
    p.refresh_from_db()
    assert offered(client, town["inspector"], p) == []  # done


def test_an_extension_is_decided_only_while_a_request_waits(client, town):
    p = dispatched(town)
    assert "decide_extension" not in offered(client, town["head"], p)
    assert "request_extension" in offered(client, town["handler"], p)
    step(p, "request_extension", town["handler"], note="需采购配件", params={"hours": 24})
    assert "decide_extension" in offered(client, town["head"], p)
    assert "申请延期 24 小时：" in page(client, town["head"], p).content.decode()  # what is asked, and why
    assert "需采购配件" in page(client, town["head"], p).content.decode()
    assert "request_extension" not in offered(client, town["handler"], p)  # one waits already
    step(p, "decide_extension", town["head"], params={"approve": True})
    assert "decide_extension" not in offered(client, town["head"], p)


def test_whoever_fixed_is_not_offered_the_verification(town):
    p = step(dispatched(town), "handle", town["leader"], photos=[jpeg(lonlat=SPOT)])
    town["leader"].profile.role = Role.COMMUNITY_HEAD
    town["leader"].profile.community = town["c1"]
    town["leader"].profile.save()
    assert "verify_pass" not in offered_actions(p, town["leader"])
    assert "verify_pass" in offered_actions(p, town["inspector"])


# --- extensions from the decision --------------------------------------------------------------


def test_an_extension_approved_after_the_deadline_counts_from_the_decision(town):
    p = dispatched(town)
    step(p, "request_extension", town["handler"], note="雨天", params={"hours": 24})
    now = p.deadline + timedelta(hours=5)  # decided five hours after the deadline passed
    p = problem_transition(problem_id=p.pk, action="decide_extension", actor=town["head"],
                           params={"approve": True}, now=now).problem  # fmt: skip
    assert p.deadline == now + timedelta(hours=24) and not p.deadline < now


def test_an_extension_approved_before_the_deadline_never_shortens_it(town):
    p = dispatched(town)
    before = p.deadline
    step(p, "request_extension", town["handler"], note="雨天", params={"hours": 2})
    p = step(p, "decide_extension", town["head"], params={"approve": True})
    assert p.deadline == before + timedelta(hours=2)
    assert ExtensionRequest.objects.get().decided_at is not None


# --- look-back reminders -----------------------------------------------------------------------


def test_a_look_back_due_is_reminded_once_per_closing(town):
    p = closed(town)
    assert problems_remind_lookbacks() == []  # not yet due
    Problem.objects.filter(pk=p.pk).update(lookback_due=timezone.localdate())
    (event,) = problems_remind_lookbacks()
    assert (event.problem_id, event.action, event.data["to"]) == (p.pk, "lookback_remind", ["inspector"])
    assert event.data["due"] == timezone.localdate().isoformat()
    assert problems_remind_lookbacks() == [] and not lookback_reminders_due().exists()
    # a failed look-back reopens it; closed again, it gets a new day and a new reminder
    p.refresh_from_db()
    p = step(p, "lookback_fail", town["inspector"], note="又有摊位")
    p = step(p, "handle", town["handler"], photos=[jpeg(lonlat=SPOT)])
    p = step(p, "verify_pass", town["inspector"])
    Problem.objects.filter(pk=p.pk).update(lookback_due=timezone.localdate())
    assert len(problems_remind_lookbacks()) == 1
    assert ProblemEvent.objects.filter(problem=p, action="lookback_remind").count() == 2


def test_the_reminders_run_on_the_schedule_that_starts_with_the_service():
    entry = settings.GRIDMAP_SCHEDULE["lookback-reminders"]
    assert entry["task"] == "notifications.lookback_reminders" and entry["every_s"] > 0
    from gridmap.core import jobs

    assert "notifications.lookback_reminders" in jobs.load_task_modules()


def test_the_scheduled_reminder_records_the_event_and_tells_once(town):
    from gridmap.core import jobs

    p = closed(town)
    Problem.objects.filter(pk=p.pk).update(lookback_due=timezone.localdate())
    jobs.run("notifications.lookback_reminders", None, {})
    jobs.run("notifications.lookback_reminders", None, {})
    assert p.events.filter(action="lookback_remind").count() == 1


def test_a_reminder_shows_in_the_case_history(client, town):
    p = closed(town)
    Problem.objects.filter(pk=p.pk).update(lookback_due=timezone.localdate())
    problems_remind_lookbacks()
    assert "回头看提醒" in page(client, town["inspector"], p).content.decode()


# --- the inspector picker and duplicates -------------------------------------------------------


def test_dispatching_picks_the_inspector_from_a_list(client, town):
    p = step(report(town), "file", town["leader"])
    body = page(client, town["leader"], p).content.decode()
    assert '<select name="inspector">' in body and 'value="inspector"' in body
    assert 'value="roamer"' not in body  # only those patrolling the case's community
    client.force_login(town["leader"])
    assert post(client, p, action="dispatch", inspector="inspector").status_code == 302
    assert Problem.objects.get(pk=p.pk).inspector == town["inspector"]


def test_duplicates_are_suggested_and_merged_in_one_click(client, town):
    first = report(town)
    second = report(town, (SPOT[0] + 0.0001, SPOT[1]))
    response = page(client, town["leader"], second)
    suggested = [d["problem"].pk for d in response.context["duplicates"]]
    assert suggested == [first.pk]
    body = response.content.decode()
    assert f'name="duplicate_of" value="{first.pk}"' in body and "csrfmiddlewaretoken" in body
    client.force_login(town["leader"])
    assert post(client, second, action="mark_duplicate", duplicate_of=str(first.pk)).status_code == 302
    second.refresh_from_db()
    assert second.status == Status.DUPLICATE and second.duplicate_of_id == first.pk
    assert town["reporter"] in first.co_reporters.all() or first.reporter == town["reporter"]
    assert page(client, town["leader"], second).context["duplicates"] == ()  # nothing more to offer


def test_a_case_with_nothing_near_suggests_nothing(client, town):
    p = report(town)
    assert page(client, town["leader"], p).context["duplicates"] == []


# --- the fix form --------------------------------------------------------------------------------


def test_the_fix_form_has_a_picker_and_my_location(client, town):
    p = dispatched(town)
    response = page(client, town["handler"], p)
    body = response.content.decode()
    assert 'id="picker-map"' in body and 'id="locate"' in body and 'id="picker-config"' in body
    assert 'capture="environment"' in body
    grids = response.context["fix_picker"]["grids"]["features"]
    assert [f["properties"]["code"] for f in grids] == [town["grid"].code]


def test_a_refused_fix_keeps_the_note_and_the_position(client, town):
    p = dispatched(town)
    client.force_login(town["handler"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    far = (str(SPOT[0] + 0.01), str(SPOT[1]))
    with translation.override("zh-hans"):
        response = client.post(reverse("problem-transition", args=[p.pk]),
                               {"action": "handle", "note": "已清理<b>", "lon": far[0], "lat": far[1],
                                "photos": [jpeg()]})  # fmt: skip
    assert response.status_code == 400
    body = response.content.decode()
    assert "已清理&lt;b&gt;</textarea>" in body
    assert f'value="{far[0]}"' in body and f'value="{far[1]}"' in body
    assert "重新选择照片" in body  # the photo must be chosen again, the form says so
    assert Problem.objects.get(pk=p.pk).status == Status.DISPATCHED


def test_the_chinese_message_for_a_fix_without_a_place_names_no_lon_lat(client, town):
    p = dispatched(town)
    client.force_login(town["handler"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    with translation.override("zh-hans"):
        response = client.post(reverse("problem-transition", args=[p.pk]),
                               {"action": "handle", "note": "x", "photos": [jpeg()]})  # fmt: skip
    assert response.status_code == 400
    message = response.context["error"]
    assert "lon" not in message and "lat" not in message and "地图" in message


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(note=st.text(max_size=80), lon=st.text(max_size=30), lat=st.text(max_size=30))
def test_whatever_is_typed_into_the_fix_form_is_a_4xx_or_a_fix(client, town, note, lon, lat):
    p = Problem.objects.filter(status=Status.DISPATCHED).first() or dispatched(town)
    client.force_login(town["handler"])
    response = client.post(reverse("problem-transition", args=[p.pk]),
                           {"action": "handle", "note": note, "lon": lon, "lat": lat})  # fmt: skip
    assert response.status_code in (302, 400)
    assert Problem.objects.get(pk=p.pk).status == Status.DISPATCHED  # no photo: never a fix


# --- my grids --------------------------------------------------------------------------------------


def test_my_grids_of_a_department_and_an_inspector_are_theirs(client, town):
    dispatched(town)  # in town["grid"], dispatched to the department
    client.force_login(town["handler"])
    listed = [g.code for g in client.get(reverse("grid-list")).context["grids"]]
    assert listed == [town["grid"].code]
    client.force_login(town["inspector"])  # patrols c1: its grid, not the other community's
    listed = [g.code for g in client.get(reverse("grid-list")).context["grids"]]
    assert listed == [town["grid"].code]
    client.force_login(town["other_inspector"])
    assert list(client.get(reverse("grid-list")).context["grids"]) == []
    client.force_login(town["head"])  # a community head still sees the community's grids
    assert [g.code for g in client.get(reverse("grid-list")).context["grids"]] == [town["grid"].code]


def test_my_grids_cost_as_many_queries_whatever_the_number_of_grids(client, town):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dispatched(town)

    def queries(who):
        client.force_login(who)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("grid-list")).status_code == 200
        return len(captured.captured_queries)

    before = {who: queries(town[who]) for who in ("handler", "inspector")}
    for i in range(2, 12):
        grid(town["c1"], i, (LON0 - 0.002 * i, LAT0, LON0 - 0.002 * i + 0.002, LAT0 + 0.002))
    after = {who: queries(town[who]) for who in ("handler", "inspector")}
    assert after == before and max(after.values()) <= 8
    client.force_login(town["inspector"])  # the patrolled community's new grids are listed
    assert len(client.get(reverse("grid-list")).context["grids"]) == 11
    body = client.get(reverse("grid-list")).content.decode()
    assert town["c1"].name in body


def test_a_run_that_read_a_case_as_due_before_another_recorded_it_records_nothing(town, monkeypatch):
    """Two runs at once, interleaved by hand (both databases): the second reads the case as due,
    the first records its reminder, then the second tries: the database keeps one."""
    from gridmap.problems import reminders

    p = closed(town)
    Problem.objects.filter(pk=p.pk).update(lookback_due=timezone.localdate())
    record, inner = reminders._record, []

    def first_in_between(events):
        if not inner:  # the other run, whole, between this run's read and its insert
            monkeypatch.setattr(reminders, "_record", record)
            inner.append(problems_remind_lookbacks())
        return record(events)

    monkeypatch.setattr(reminders, "_record", first_in_between)
    assert problems_remind_lookbacks() == []  # read as due, recorded by the other run meanwhile
    assert [e.problem_id for e in inner[0]] == [p.pk]
    assert ProblemEvent.objects.filter(problem=p, action="lookback_remind").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads share no in-memory SQLite database")
def test_runs_at_the_same_moment_record_one_reminder_each_case(catalogues, town):
    """Four runs in threads, each on its own connection, all past their read before any inserts."""
    from gridmap.problems import reminders

    cases = [closed(town) for _ in range(3)]
    Problem.objects.filter(pk__in=[c.pk for c in cases]).update(lookback_due=timezone.localdate())
    barrier = threading.Barrier(4)
    record, made, errors = reminders._record, [], []

    def record_together(events):
        barrier.wait(timeout=30)  # every run has read the cases as due
        return record(events)

    def run():
        try:
            made.append(problems_remind_lookbacks())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    reminders._record = record_together
    try:
        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        reminders._record = record
    assert errors == []
    assert sorted(e.problem_id for events in made for e in events) == sorted(c.pk for c in cases)
    for case in cases:
        assert ProblemEvent.objects.filter(problem=case, action="lookback_remind").count() == 1
