"""The closed loop through the API: steps as actions, their errors, the timeline, duplicates."""

from __future__ import annotations

import pytest

from gridmap.problems.models import Problem, Status
from tests.api.conftest import SPOT, SPOT3, report
from tests.photos import jpeg

pytestmark = pytest.mark.django_db


def url(problem, what="transitions") -> str:
    return f"/api/v1/problems/{problem.pk}/{what}/"


def act(client, problem, action, **kw):
    return client.post(url(problem), {"action": action, **kw}, format="json")


def test_the_whole_loop_through_the_api(town, as_user):
    t = town
    p = report(t)
    leader, handler, inspector = as_user(t["leader"]), as_user(t["handler"]), as_user(t["inspector"])
    response = act(leader, p, "file", note="立案")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["properties"]["status"] == "filed" and body["event"]["action"] == "file"
    assert body["properties"]["actions"] == ["mark_duplicate", "dispatch"]
    assert act(leader, p, "dispatch", params={"department": "cg"}).json()["properties"]["department"] == "cg"
    form = {"action": "handle", "note": "已清理", "photos": [jpeg(lonlat=(SPOT[0] + 0.0001, SPOT[1]))]}
    response = handler.post(url(p), form, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["properties"]["status"] == "handled"
    response = act(inspector, p, "verify_pass", lon=SPOT[0], lat=SPOT[1])
    assert response.json()["properties"]["status"] == "closed"
    events = inspector.get(url(p, "events")).json()
    assert [e["action"] for e in events["events"]] == ["report", "file", "dispatch", "handle", "verify_pass"]
    handle = events["events"][3]
    assert handle["actor"] == "handler" and len(handle["photos"]) == 1 and handle["note"] == "已清理"
    assert events["events"][4]["geometry"]["type"] == "Point"
    assert events["events"][0]["at"].endswith("Z")


def test_a_step_out_of_order_is_409_with_the_allowed_steps(town, as_user):
    t = town
    p = report(t)
    response = act(as_user(t["leader"]), p, "verify_pass")
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "reported" and set(body["allowed"]) == {"file", "reject", "mark_duplicate"}
    assert body["detail"]
    response = act(as_user(t["leader"]), p, "fly_away")
    assert response.status_code == 409 and response.json()["status"] == "reported"


def test_role_scope_and_validation_errors(town, as_user):
    t = town
    p = report(t)
    assert act(as_user(t["handler"]), p, "file").status_code == 403  # sees it, may not file
    assert act(as_user(t["leader2"]), p, "file").status_code == 404  # another grid's leader
    assert act(as_user(t["head2"]), p, "file").status_code == 404  # another community's head
    assert act(as_user(t["reporter2"]), p, "file").status_code == 404
    assert act(as_user(t["reporter"]), p, "file").status_code == 403  # the reporter sees it
    leader = as_user(t["leader"])
    response = act(leader, p, "reject")  # needs a note
    assert response.status_code == 400 and "note" in response.json()["detail"]
    assert leader.post(url(p), {"note": "x"}, format="json").status_code == 400  # no action
    assert act(leader, p, "file", colour="red").status_code == 400  # unknown field
    assert act(leader, p, "file", note="长" * 2001).status_code == 400
    assert act(leader, p, "file", lon=1e308, lat=0).status_code == 400
    assert act(leader, p, "file", params=[1]).status_code == 400
    assert act(leader, p, "mark_duplicate", params={"duplicate_of": "abc"}).status_code == 400
    assert act(leader, p, "mark_duplicate", params={"duplicate_of": 10**30}).status_code == 400
    assert as_user(t["leader"]).post("/api/v1/problems/99999999/transitions/", {"action": "file"},
                                     format="json").status_code == 404  # fmt: skip
    assert Problem.objects.get(pk=p.pk).status == Status.REPORTED


def test_handle_needs_a_real_photo_near_the_problem(town, as_user):
    t = town
    p = report(t)
    leader = as_user(t["leader"])
    act(leader, p, "file")
    act(leader, p, "dispatch")
    handler = as_user(t["handler"])
    assert act(handler, p, "handle").status_code == 400  # no photo
    far = {"action": "handle", "photos": [jpeg(lonlat=(SPOT[0] + 0.01, SPOT[1]))]}
    response = handler.post(url(p), far, format="multipart")
    assert response.status_code == 400 and "m from the problem" in response.json()["detail"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    svg = SimpleUploadedFile("fix.jpg", b"<svg onload=alert(1)></svg>", content_type="image/jpeg")
    form = {"action": "handle", "lon": str(SPOT[0]), "lat": str(SPOT[1]), "photos": [svg]}
    assert handler.post(url(p), form, format="multipart").status_code == 400
    form = {"action": "handle", "lon": str(SPOT[0]), "lat": str(SPOT[1]), "photos": "not a file"}
    assert handler.post(url(p), form, format="multipart").status_code == 400
    form = {"action": "handle", "params": "{bad json", "photos": [jpeg()]}
    assert handler.post(url(p), form, format="multipart").status_code == 400
    assert Problem.objects.get(pk=p.pk).status == Status.DISPATCHED


def test_the_fixer_does_not_verify_and_replays_conflict(town, as_user):
    t = town
    p = report(t)
    leader = as_user(t["leader"])
    act(leader, p, "file")
    act(leader, p, "dispatch")
    leader.post(url(p), {"action": "handle", "photos": [jpeg()], "lon": str(SPOT[0]), "lat": str(SPOT[1])},
                format="multipart")  # fmt: skip
    t["leader"].profile.role = "community_head"
    t["leader"].profile.community = t["c1"]
    t["leader"].profile.save()
    response = act(as_user(t["leader"]), p, "verify_pass")
    assert response.status_code == 400 and "does not verify" in response.json()["detail"]
    assert act(as_user(t["inspector"]), p, "verify_pass").status_code == 200
    again = act(as_user(t["inspector"]), p, "verify_pass")  # the same step sent twice
    assert again.status_code == 409 and again.json()["status"] == "closed"


def test_events_and_duplicates_are_scoped(town, as_user):
    t = town
    a = report(t)
    b = report(t, spot=(SPOT[0] + 0.0001, SPOT[1]), reporter="reporter2")
    far = report(t, spot=SPOT3)
    response = as_user(t["leader"]).get(url(b, "duplicates"))
    dups = response.json()["possible_duplicates"]
    assert [d["id"] for d in dups] == [a.pk] and dups[0]["distance_m"] < 15
    assert as_user(t["leader"]).get(url(far, "duplicates")).status_code == 404
    assert as_user(t["reporter"]).get(url(b, "events")).status_code == 404
    assert as_user(t["reporter2"]).get(url(b, "events")).status_code == 200
    response = act(as_user(t["leader"]), b, "mark_duplicate", params={"duplicate_of": a.pk})
    assert response.json()["properties"]["status"] == "duplicate"


def test_two_people_acting_at_once_one_gets_409(town, as_user, monkeypatch):
    from gridmap.problems import lifecycle_steps
    from gridmap.problems.lifecycle import problem_transition

    t = town
    p = report(t)
    act(as_user(t["leader"]), p, "file")
    real = lifecycle_steps.STEP_CHECKS["dispatch"]

    def race(ctx):  # the head dispatches after the leader has read the problem, before the leader writes
        real(ctx)
        monkeypatch.setitem(lifecycle_steps.STEP_CHECKS, "dispatch", real)
        problem_transition(problem_id=p.pk, action="dispatch", actor=t["head"])

    monkeypatch.setitem(lifecycle_steps.STEP_CHECKS, "dispatch", race)
    response = act(as_user(t["leader"]), p, "dispatch")
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "dispatched" and set(body["allowed"]) == {"request_extension", "handle"}
    assert "someone else" in body["detail"]
