"""The negative list (open problems, closed out with evidence) and the positive list (sites)."""

from __future__ import annotations

import pytest

from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import PositiveSite
from tests.api.conftest import SPOT, SPOT2, SPOT3, report
from tests.photos import jpeg

pytestmark = pytest.mark.django_db
NEGATIVE = "/api/v1/negative-list/"
SITES = "/api/v1/positive-sites/"


def close(t, p, spot=SPOT):
    for action in ("file", "dispatch"):
        problem_transition(problem_id=p.pk, action=action, actor=t["admin"])
    problem_transition(problem_id=p.pk, action="handle", actor=t["handler"], photos=[jpeg()], lon=spot[0],
                       lat=spot[1])  # fmt: skip
    problem_transition(problem_id=p.pk, action="verify_pass", actor=t["inspector"], note="已整改")


def test_negative_list_of_a_grid_with_closure_evidence(town, as_user):
    t = town
    open_one = report(t)
    done = report(t, spot=(SPOT[0] + 0.0003, SPOT[1]))
    close(t, done)
    report(t, spot=SPOT2)  # another grid
    leader = as_user(t["leader"])
    body = leader.get(f"{NEGATIVE}?grid={t['g1'].code}").json()
    assert [f["id"] for f in body["features"]] == [open_one.pk]
    assert body["features"][0]["properties"]["evidence"] is None
    body = leader.get(f"{NEGATIVE}?grid={t['g1'].code}&closed_after=2020-01-01").json()
    assert [f["id"] for f in body["features"]] == [open_one.pk, done.pk]
    evidence = body["features"][1]["properties"]["evidence"]
    assert evidence["verified_by"] == "inspector" and evidence["note"] == "已整改"
    assert len(evidence["photos"]) == 1 and evidence["photos"][0]["stage"] == "after"
    assert evidence["verified_at"].endswith("Z")


def test_negative_list_scope_and_parameters(town, as_user):
    t = town
    a = report(t)
    b = report(t, spot=SPOT2)
    c = report(t, spot=SPOT3)
    head = as_user(t["head"])
    assert [f["id"] for f in head.get(f"{NEGATIVE}?community={t['c1'].code}").json()["features"]] == [
        a.pk,
        b.pk,
    ]
    assert head.get(f"{NEGATIVE}?community={t['c2'].code}").json()["features"] == []  # not theirs
    assert [f["id"] for f in as_user(t["admin"]).get(NEGATIVE).json()["features"]] == [a.pk, b.pk, c.pk]
    both = head.get(f"{NEGATIVE}?grid={t['g1'].code}&community={t['c2'].code}")  # both: those in both
    assert both.status_code == 200 and both.json()["features"] == []
    assert head.get(f"{NEGATIVE}?closed_after=last-week").status_code == 400
    assert head.get(f"{NEGATIVE}?status=open").status_code == 400


def test_positive_sites_created_in_scope_and_listed_in_scope(town, as_user):
    t = town
    site = {"lon": SPOT[0], "lat": SPOT[1], "name": "文明示范街", "description": "<b>整洁</b> 👍"}
    response = as_user(t["leader"]).post(SITES, site, format="json")
    assert response.status_code == 201, response.content
    feature = response.json()
    assert feature["properties"]["grid"] == t["g1"].code and feature["properties"]["created_by"] == "leader"
    assert feature["properties"]["description"] == "<b>整洁</b> 👍"
    assert as_user(t["leader"]).post(SITES, {**site, "lon": SPOT2[0]}, format="json").status_code == 403
    assert as_user(t["head2"]).post(SITES, site, format="json").status_code == 403
    assert as_user(t["reporter"]).post(SITES, site, format="json").status_code == 403
    assert as_user(t["handler"]).post(SITES, site, format="json").status_code == 403
    assert as_user(t["head"]).post(SITES, {**site, "lon": SPOT2[0]}, format="json").status_code == 201
    assert as_user(t["admin"]).post(SITES, {**site, "lon": SPOT3[0]}, format="json").status_code == 201
    names = lambda u: sorted(f["properties"]["grid"] for f in as_user(u).get(SITES).json()["features"])  # noqa: E731
    assert names(t["admin"]) == [t["g1"].code, t["g2"].code, t["g3"].code]
    assert names(t["head"]) == [t["g1"].code, t["g2"].code]
    assert names(t["leader"]) == [t["g1"].code]
    assert names(t["head2"]) == [t["g3"].code]
    assert names(t["reporter"]) == []


@pytest.mark.parametrize(
    "payload",
    [
        {"lon": SPOT[0], "lat": SPOT[1]},
        {"lon": SPOT[0], "lat": SPOT[1], "name": "  "},
        {"lon": SPOT[0], "lat": SPOT[1], "name": "x" * 201},
        {"lon": SPOT[0], "lat": SPOT[1], "name": "x", "photo": "y"},
        {"lon": 1e308, "lat": SPOT[1], "name": "x"},
        {"lon": "NaN", "lat": SPOT[1], "name": "x"},
    ],
)
def test_bad_positive_sites_are_400(town, as_user, payload):
    response = as_user(town["admin"]).post(SITES, payload, format="json")
    assert response.status_code == 400 and response.json()["detail"]
    assert PositiveSite.objects.count() == 0
