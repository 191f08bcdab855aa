"""A round end to end on the database: created and planned, answered by POST (idempotent by
client id), a failed item → a problem dispatched to the point's department → fixed → verified
→ the finding closed, the point's score and the readiness list following."""

import io
import uuid
from xml.etree import ElementTree

import openpyxl
import pytest
from django.urls import reverse

from gridmap.campaign.models import Answer, ChecklistItem, Finding, RoundPoint
from gridmap.campaign.results import readiness, round_compared, round_results
from gridmap.campaign.rounds import round_create
from gridmap.campaign.selectors import points_visible_to, visits_visible_to
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import Problem, ProblemPhoto, Status
from tests.photos import jpeg

pytestmark = pytest.mark.django_db


def test_points_are_placed_in_grid_and_community(town):
    market = town.points["market"]
    assert market.grid == town.grids["A"] and market.community == town.grids["A"].community
    assert town.points["alley"].grid == town.grids["B"]


def test_round_assigns_whole_communities_and_plans_walks(town):
    r = round_create(name="一月模拟测评", created_by=town.people["admin"],
                     inspectors=[town.people["inspector1"], town.people["inspector2"]])  # fmt: skip
    visits = list(RoundPoint.objects.filter(round=r))
    assert len(visits) == 4
    by_community = {}
    for v in visits:
        by_community.setdefault(v.point.community_id, set()).add(v.inspector_id)
    assert all(len(s) == 1 for s in by_community.values())
    for inspector in {v.inspector_id for v in visits}:
        orders = sorted(v.walk_order for v in visits if v.inspector_id == inspector)
        assert orders == list(range(1, len(orders) + 1))
    sampled = round_create(name="抽样", created_by=town.people["admin"], share=0.5, seed=3)
    again = round_create(name="抽样2", created_by=town.people["admin"], share=0.5, seed=3)
    assert set(sampled.visits.values_list("point_id", flat=True)) == set(
        again.visits.values_list("point_id", flat=True)
    )


def _visit(town, name="market", inspector="inspector1"):
    r = round_create(name="测评", created_by=town.people["admin"], inspectors=[town.people[inspector]])
    return r, r.visits.get(point=town.points[name])


def _post(client, visit, item, findings=0, cid=None, **extra):
    data = {"item": str(item.pk), "client_uuid": str(cid or uuid.uuid4()), "findings": str(findings), **extra}
    return client.post(reverse("campaign-answer", args=[visit.pk]), data, HTTP_ACCEPT="application/json")


def test_answer_is_idempotent_by_client_id(client, town):
    r, visit = _visit(town)
    item = ChecklistItem.objects.filter(point_type=visit.point.type).first()
    client.force_login(town.people["inspector1"])
    cid = uuid.uuid4()
    first = _post(client, visit, item, 0, cid)
    assert first.status_code == 201, first.content
    again = _post(client, visit, item, 5, cid)  # a retry: the first answer stands
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Answer.objects.count() == 1 and Answer.objects.get().findings == 0
    other = _post(client, visit, item, 1)  # a second answer to the same item under a new id
    assert other.status_code == 409
    assert Answer.objects.count() == 1 and not Problem.objects.exists()


def test_only_the_visits_inspector_answers(client, town):
    r, visit = _visit(town, "alley", inspector="inspector2")
    item = ChecklistItem.objects.filter(point_type=visit.point.type).first()
    client.force_login(town.people["inspector1"])  # patrols community 1, the alley is in 2
    assert _post(client, visit, item).status_code == 404
    client.force_login(town.people["leaderA"])
    assert _post(client, visit, item).status_code == 404
    assert not Answer.objects.exists()


def test_failed_item_goes_round_the_loop_and_closes(client, town, settings):
    r, visit = _visit(town)
    items = list(ChecklistItem.objects.filter(point_type=visit.point.type).order_by("order"))
    vending = next(i for i in items if i.code == "zones")
    client.force_login(town.people["inspector1"])
    lon, lat = visit.point.geom.point_on_surface.coords
    reply = _post(client, visit, vending, 1, photo=jpeg("finding.jpg", lonlat=(lon, lat)))
    assert reply.status_code == 201, reply.content
    assert reply.json()["failed"] is True
    for item in items:
        if item != vending:
            assert _post(client, visit, item, 0).status_code == 201
    problem = Problem.objects.get(pk=reply.json()["problem"])
    assert problem.status == Status.DISPATCHED
    assert problem.department == town.departments["scjg"]  # the point's department, not the category's
    assert problem.category == vending.category and problem.reporter == town.people["inspector1"]
    assert ProblemPhoto.objects.filter(problem=problem, stage="before").count() == 1
    finding = Finding.objects.get(problem=problem)
    assert finding.point == visit.point and finding.item == vending and finding.closed_at is None

    results = round_results(r, visits_visible_to(town.people["admin"]))
    total = sum(i.weight for i in items)
    market = next(p for p in results.points if p.point_id == visit.point.pk)
    assert market.score == round(100 * (total - vending.weight + 5) / total, 2)  # 1 finding: −5
    assert [e["point"].pk for e in readiness(points_visible_to(town.people["admin"]))] == [visit.point.pk]

    fixer = town.people["dept_scjg"]
    problem_transition(problem_id=problem.pk, action="handle", actor=fixer, note="已清理",
                       photos=[jpeg("after.jpg", lonlat=(lon, lat))])  # fmt: skip
    finding.refresh_from_db()
    assert finding.closed_at is None  # handled is not verified
    problem_transition(problem_id=problem.pk, action="verify_pass", actor=town.people["inspector1"],
                       photos=[jpeg("check.jpg", lonlat=(lon, lat))])  # fmt: skip
    finding.refresh_from_db()
    assert finding.closed_at is not None
    assert readiness(points_visible_to(town.people["admin"])) == []

    # the next round: the same item passes → better than the round before
    r2 = round_create(name="二月", created_by=town.people["admin"], inspectors=[town.people["inspector1"]])
    visit2 = r2.visits.get(point=visit.point)
    for item in items:
        assert _post(client, visit2, item, 0).status_code == 201
    rows = {c["code"]: c for c in round_compared(r2, visits_visible_to(town.people["admin"]))}
    assert rows["zones"]["trend"] == "better" and rows["clean"]["trend"] == "same"
    again = round_results(r2, visits_visible_to(town.people["admin"])).points
    assert next(p for p in again if p.point_id == visit.point.pk).score == 100.0


def test_workbook_opens_and_holds_the_scores(client, town):
    r, visit = _visit(town)
    client.force_login(town.people["inspector1"])
    item = ChecklistItem.objects.filter(point_type=visit.point.type).first()
    assert _post(client, visit, item, 9, note='=HYPERLINK("x")').status_code == 201
    client.force_login(town.people["admin"])
    reply = client.get(reverse("campaign-report", args=[r.pk]))
    assert reply.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(reply.content))
    assert book.sheetnames == ["点位得分", "分类汇总", "逐项对比", "待整改"]
    rows = {row[0]: row for row in book["点位得分"].iter_rows(values_only=True)}
    assert rows["东门菜场"][6] == 0.0 and rows["北弄"][6] is None
    assert len(list(book["待整改"].iter_rows(values_only=True))) == 2


def test_pages_answer(client, town):
    r, visit = _visit(town)
    client.force_login(town.people["inspector1"])
    page = client.get(reverse("campaign-walk", args=[r.pk]))
    assert page.status_code == 200 and "东门菜场" in page.content.decode()
    for name in ("campaign", "campaign-readiness", "campaign-points"):
        assert client.get(reverse(name)).status_code == 200
    assert client.get(reverse("campaign-round", args=[r.pk])).status_code == 200
    assert client.get(reverse("campaign-points"), {"bbox": "1e999,0,1,1"}).status_code == 400
    client.force_login(town.people["admin"])
    created = client.post(reverse("campaign"), {"name": "三月", "held_on": "2026-03-01", "seed": "1",
                                                "inspectors": [town.people["inspector2"].pk]})  # fmt: skip
    assert created.status_code == 302
    client.force_login(town.people["reporter"])
    assert client.get(reverse("campaign")).status_code == 403


def test_maps_draw_the_points_in_scope(client, town):
    client.force_login(town.people["leaderA"])
    page = client.get(f"/grids/{town.grids['A'].code}/map/").content.decode()
    assert '"key":"inspection_points"' in page and '"phoneOff":true' in page
    assert "东门菜场" in page and "人民路站" in page and "北弄" not in page
    client.force_login(town.people["admin"])
    planner = client.get("/planner/map/").content.decode()
    assert reverse("campaign-points") in planner


def test_a_failure_the_intake_refuses_writes_nothing(client, town, settings):
    r, visit = _visit(town, "stop")
    item = ChecklistItem.objects.filter(point_type=visit.point.type).first()
    # the service area moved since the point was placed: the intake refuses its position
    settings.GRIDMAP = {**settings.GRIDMAP, "SERVICE_AREA": "100.0,20.0,100.5,20.5"}
    client.force_login(town.people["inspector1"])
    reply = _post(client, visit, item, 3)
    assert reply.status_code == 400 and reply.json()["error"]
    assert not Answer.objects.exists() and not Problem.objects.exists() and not Finding.objects.exists()


def test_an_edited_weight_changes_no_past_score(client, town):
    r, visit = _visit(town, "stop")
    items = list(ChecklistItem.objects.filter(point_type=visit.point.type).order_by("order"))
    client.force_login(town.people["inspector1"])
    assert _post(client, visit, items[0], 1).status_code == 201  # one finding: loses its deduction
    assert _post(client, visit, items[1], 0).status_code == 201
    scope = visits_visible_to(town.people["admin"])
    before = next(p for p in round_results(r, scope).points if p.point_id == visit.point.pk).score
    earned = items[0].weight - items[0].deduction + items[1].weight
    assert before == round(100 * earned / (items[0].weight + items[1].weight), 2)
    ChecklistItem.objects.filter(pk=items[1].pk).update(weight=items[1].weight * 3)
    assert next(p for p in round_results(r, scope).points if p.point_id == visit.point.pk).score == before


def test_walk_gpx_follows_the_walk_order(client, town):
    r = round_create(name="测评", created_by=town.people["admin"], inspectors=[town.people["inspector1"]])
    client.force_login(town.people["inspector1"])
    reply = client.get(reverse("campaign-walk-gpx", args=[r.pk]))
    assert reply.status_code == 200 and reply["Content-Type"].startswith("application/gpx+xml")
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    root = ElementTree.fromstring(reply.content)
    names = [int(w.findtext("g:name", namespaces=ns)) for w in root.findall("g:wpt", ns)]
    assert names == list(r.visits.order_by("walk_order").values_list("point_id", flat=True))
    assert len(root.findall(".//g:trkpt", ns)) >= len(names)
    client.force_login(town.people["leaderA"])  # sees the round's points in grid A, walks none of them
    assert client.get(reverse("campaign-walk-gpx", args=[r.pk])).status_code == 404
