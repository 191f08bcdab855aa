"""The fast GeoJSON path writes what djangorestframework-gis's GeoFeatureModelSerializer writes for
the same rows: same ids, same properties (times compared as instants: we write UTC, DRF writes
local time), coordinates within 1e-7 degrees."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from gridmap.api.renderers import dumps
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import EventCategory, Problem
from tests.api.conftest import SPOT, SPOT2, SPOT3, report
from tests.api.drf_gis_reference import ProblemReferenceList
from tests.photos import jpeg

pytestmark = pytest.mark.django_db
TIMES = ("reported_at", "deadline", "closed_at")


def normalised(feature: dict) -> dict:
    props = dict(feature["properties"])
    for key in TIMES:
        props[key] = datetime.fromisoformat(props[key]) if props[key] else None
    props["uuid"] = str(props["uuid"])
    return {"id": feature["id"], "type": feature["type"], "properties": props}


def assert_same_features(ours: list[dict], reference: list[dict]) -> None:
    assert [f["id"] for f in ours] == [f["id"] for f in reference]
    for a, b in zip(ours, reference, strict=True):
        assert normalised(a) == normalised(b)
        assert a["geometry"]["type"] == b["geometry"]["type"]
        assert a["geometry"]["coordinates"] == pytest.approx(b["geometry"]["coordinates"], abs=1e-7)


def reference_features(user, **query: str) -> list[dict]:
    request = APIRequestFactory().get("/reference/", {"page_size": 1000, **query})
    force_authenticate(request, user=user)
    response = ProblemReferenceList.as_view()(request)
    response.render()
    return json.loads(response.content)["features"]


@pytest.fixture
def loop_states(town):
    return make_loop_states(town)


def make_loop_states(t: dict) -> dict:
    """Problems in many states: reported, filed, dispatched and overdue, handled, closed, with a
    facility link, unassigned (outside every community), with odd text."""
    hydrant_damage = EventCategory.objects.get(code="0602")  # links to the hydrant at SPOT
    linked = report(t, category=hydrant_damage, description="消火栓漏水 <b>急</b>")
    assert linked.facility_id is not None
    filed = report(t, spot=SPOT2, description="🚲" * 50)
    problem_transition(problem_id=filed.pk, action="file", actor=t["leader2"])
    moving = report(t, description="x" * 3000)
    for action in ("file", "dispatch"):
        problem_transition(problem_id=moving.pk, action=action, actor=t["leader"])
    problem_transition(problem_id=moving.pk, action="handle", actor=t["handler"], photos=[jpeg()],
                       lon=SPOT[0], lat=SPOT[1])  # fmt: skip
    problem_transition(problem_id=moving.pk, action="verify_fail", actor=t["inspector"], note="未清理")
    closed = report(t, spot=SPOT3, reporter="reporter2")
    for action in ("file", "dispatch"):
        problem_transition(problem_id=closed.pk, action=action, actor=t["head2"])
    problem_transition(problem_id=closed.pk, action="handle", actor=t["handler"], photos=[jpeg()],
                       lon=SPOT3[0], lat=SPOT3[1])  # fmt: skip
    problem_transition(problem_id=closed.pk, action="verify_pass", actor=t["admin"])
    report(t, spot=(SPOT[0] + 0.05, SPOT[1] + 0.05))  # no community: unassigned
    late = report(t, spot=SPOT2)
    for action in ("file", "dispatch"):
        problem_transition(problem_id=late.pk, action=action, actor=t["leader2"])
    # overdue, and times on a whole second (written without a fraction)
    whole = timezone.now().replace(microsecond=0)
    Problem.objects.filter(pk=late.pk).update(deadline=whole - timedelta(hours=1), reported_at=whole)
    Problem.objects.filter(pk=closed.pk).update(closed_at=whole - timedelta(minutes=5))
    return t


@pytest.mark.parametrize("who", ["admin", "leader", "head", "handler", "inspector", "reporter"])
def test_problem_features_equal_the_drf_gis_serializer(loop_states, as_user, who):
    user = loop_states[who]
    ours = as_user(user).get("/api/v1/problems/?page_size=1000").json()["features"]
    assert ours or who == "leader"
    assert_same_features(ours, reference_features(user))
    if who == "admin":
        assert any(f["properties"]["overdue"] for f in ours)
        assert any("." not in f["properties"]["reported_at"] for f in ours)  # a whole second
        assert any("." in f["properties"]["reported_at"] for f in ours)  # with microseconds


def test_times_are_written_alike_by_the_database_and_by_orjson(loop_states, as_user):
    """The list's times come from SQL (IsoUTC), the intake answer's from orjson: same text."""
    from gridmap.api.features import RowContext, actions_by_status, problem_feature

    admin = loop_states["admin"]
    listed = {f["id"]: f for f in as_user(admin).get("/api/v1/problems/?page_size=1000").json()["features"]}
    ctx = RowContext(timezone.now(), actions_by_status("admin"))
    for problem in Problem.objects.all():
        mine = json.loads(dumps(problem_feature(problem, ctx)))
        assert mine["properties"] == listed[problem.pk]["properties"]


def test_the_bbox_filter_selects_the_same_rows(loop_states, as_user):
    user = loop_states["admin"]
    box = f"{SPOT[0] - 0.0005},{SPOT[1] - 0.0005},{SPOT2[0] + 0.0005},{SPOT2[1] + 0.0005}"
    ours = as_user(user).get(f"/api/v1/problems/?page_size=1000&bbox={box}").json()["features"]
    assert len(ours) == 4  # three at SPOT, one at SPOT2
    assert_same_features(ours, reference_features(user, in_bbox=box))
