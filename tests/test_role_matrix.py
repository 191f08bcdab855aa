"""Every role against every output that shows problems or grids: pages, API, Open311, exports.

The expected sets are written out here from the rules (DOMAIN.md, RELIABILITY.md), not taken
from the selectors, so a scoping mistake anywhere shows up as a difference.
"""

import csv
import io
import re

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from gridmap.accounts.models import Department, Role
from gridmap.problems.models import EventCategory, Problem, ProblemPhoto
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

pytestmark = pytest.mark.django_db

# who: (role, profile extras); problems: pA (grid A, 0301, by "reporter"), pB (grid B, 0602), pC (grid B, 0301)
ROLES = ["admin", "planner", "head1", "leaderA", "dept_cg", "dept_fire", "inspector1", "reporter", "nobody"]
SEES_PROBLEMS = {
    "admin": {"pA", "pB", "pC"},
    "planner": {"pA", "pB", "pC"},
    "head1": {"pA"},
    "leaderA": {"pA"},
    "dept_cg": {"pA", "pC"},
    "dept_fire": {"pB"},
    "inspector1": {"pA"},
    "reporter": {"pA"},
    "nobody": set(),
}
SEES_GRIDS = {
    "admin": {"A", "B"}, "planner": {"A", "B"}, "head1": {"A"}, "leaderA": {"A"}, "dept_cg": {"A", "B"},
    "dept_fire": {"A", "B"}, "inspector1": {"A", "B"}, "reporter": set(), "nobody": set(),
}  # fmt: skip
MAY_EVALUATE = {"admin", "planner", "head1", "leaderA", "dept_cg", "dept_fire", "inspector1"}
MAY_PLAN = {"admin", "planner", "head1"}  # the planner map: city-wide, or a head's community
HAS_ROUTE = {"head1", "leaderA", "inspector1"}  # the route page and its GPX


@pytest.fixture
def world():
    c1, c2 = region_tree(n=2)
    people = {
        "admin": user("admin", Role.ADMIN),
        "planner": user("planner", Role.PLANNER),
        "head1": user("head1", Role.COMMUNITY_HEAD, community=c1),
        "leaderA": user("leaderA", Role.GRID_LEADER),
        "inspector1": user("inspector1", Role.INSPECTOR),
        "reporter": user("reporter", Role.REPORTER),
        "nobody": user("nobody", Role.REPORTER),
    }
    people["inspector1"].profile.patrol_communities.add(c1)
    cats = {c: EventCategory.objects.get(code=c) for c in ("0301", "0602")}
    for code, name, cat in (("cg", "城管", "0301"), ("fire", "消防", "0602")):
        dept = Department.objects.create(code=code, name=name)
        dept.categories.add(cats[cat])
        people[f"dept_{code}"] = user(f"dept_{code}", Role.DEPARTMENT, department=dept)
    grids = {
        "A": grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=people["leaderA"]),
        "B": grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002)),
    }
    now = timezone.now()

    def problem(g, community, cat, reporter=None):
        return Problem.objects.create(
            geom=Point(g.geom.centroid.x, g.geom.centroid.y, srid=4326), grid=g, community=community,
            category=cats[cat], reporter=reporter, reported_at=now, filed_at=now,
        )  # fmt: skip

    problems = {
        "pA": problem(grids["A"], c1, "0301", people["reporter"]),
        "pB": problem(grids["B"], c2, "0602"),
        "pC": problem(grids["B"], c2, "0301"),
    }
    return people, grids, problems


def names(problems, ids):
    by_id = {p.pk: name for name, p in problems.items()}
    return {by_id[i] for i in ids if i in by_id}


@pytest.mark.parametrize("who", ROLES)
def test_problem_outputs_agree_with_the_rules(client, world, who):
    people, grids, problems = world
    client.force_login(people[who])
    expected = SEES_PROBLEMS[who]
    for name, p in problems.items():
        want = 200 if name in expected else 404
        assert client.get(f"/problems/{p.pk}/").status_code == want, ("page", name)
        assert client.get(f"/api/v1/problems/{p.pk}/").status_code == want, ("api detail", name)
        assert client.get(f"/api/v1/problems/{p.pk}/events/").status_code == want, ("api events", name)
        assert client.get(f"/open311/v2/requests/{p.pk}.json").status_code == want, ("open311", name)
        photo = ProblemPhoto.objects.create(problem=p, image=jpeg(f"{name}.jpg"))
        for url in (f"/problems/{p.pk}/photos/{photo.pk}/", f"/api/v1/problems/{p.pk}/photos/{photo.pk}/",
                    f"/open311/v2/requests/{p.pk}/media/{photo.pk}", f"/media/{photo.image.name}"):  # fmt: skip
            want_photo = want if not url.startswith("/media/") else 404  # never served unchecked
            assert client.get(url).status_code == want_photo, ("photo", url, name)
        assert client.get(f"/ogc/collections/problems/items/{p.pk}").status_code == want, ("ogc", name)
        if name not in expected:  # acting on an unseen problem is a 404, not a 403 that confirms it exists
            response = client.post(f"/api/v1/problems/{p.pk}/transitions/", {"action": "file"},
                                    content_type="application/json")  # fmt: skip
            assert response.status_code == 404, ("api transition", name)
    listed = client.get("/api/v1/problems/?page_size=1000").json()
    assert names(problems, [f["id"] for f in listed["features"]]) == expected
    ogc = client.get("/ogc/collections/problems/items?limit=1000").json()
    assert names(problems, [f["id"] for f in ogc["features"]]) == expected, "ogc items"
    page = client.get("/problems/")
    if who == "nobody" or who == "reporter":
        assert page.status_code in (200, 403)
    if page.status_code == 200:
        shown = {int(i) for i in re.findall(r'href="/problems/(\d+)/"', page.content.decode())}
        assert names(problems, shown) == expected, "problem list page"
    assert client.get("/dashboard/").status_code == 200
    want = 200 if who in HAS_ROUTE else 403
    assert client.get("/route/").status_code == want and client.get("/route.gpx").status_code == want
    figures = client.get("/evaluation/figures/")
    assert figures.status_code == (200 if who in MAY_EVALUATE else 403), "figures"
    o311 = client.get("/open311/v2/requests.json")
    if o311.status_code == 200:
        assert names(problems, [int(r["service_request_id"]) for r in o311.json()]) == expected
    else:
        assert expected == set() and o311.status_code == 403
    today = timezone.localdate()
    ledger = client.get(
        f"/evaluation/ledger.csv?start={today.replace(day=1)}&end={today + timezone.timedelta(days=1)}"
    )
    if who in MAY_EVALUATE:
        rows = list(csv.reader(io.StringIO(ledger.content.decode("utf-8-sig"))))[1:]
        assert names(problems, [int(r[0]) for r in rows]) == expected
    else:
        assert ledger.status_code == 403


@pytest.mark.parametrize("who", ROLES)
def test_grid_outputs_agree_with_the_rules(client, world, who):
    people, grids, _ = world
    client.force_login(people[who])
    expected = SEES_GRIDS[who]
    for name, g in grids.items():
        want = 200 if name in expected else 404
        assert client.get(f"/grids/{g.code}/").status_code == want, ("page", name)
        assert client.get(f"/grids/{g.code}/map/").status_code == want, ("map", name)
        assert client.get(f"/api/v1/grids/{g.pk}/").status_code == want, ("api", name)
        assert client.get(f"/ogc/collections/grids/items/{g.pk}").status_code == want, ("ogc", name)
        # each community of this world holds one grid: its page is open to who sees that grid
        assert client.get(f"/communities/{g.community.code}/").status_code == want, ("community", name)
        assert client.get(f"/communities/{g.community.code}/map/").status_code == want, (
            "community map",
            name,
        )
    planner = client.get("/planner/")
    assert planner.status_code == (200 if who in MAY_PLAN else 403), "planner"
    assert client.get("/planner/map/").status_code == planner.status_code, "planner map"
    listed = client.get("/api/v1/grids/").json()
    codes = {f["properties"]["code"] for f in listed["features"]}
    assert codes == {grids[n].code for n in expected}
    ogc = client.get("/ogc/collections/grids/items").json()
    assert {f["properties"]["code"] for f in ogc["features"]} == {grids[n].code for n in expected}, "ogc"


def test_anonymous_sees_nothing(client, world):
    _, grids, problems = world
    p = problems["pA"]
    assert client.get(f"/problems/{p.pk}/").status_code == 302
    assert client.get(f"/api/v1/problems/{p.pk}/").status_code in (401, 403)
    assert client.get("/api/v1/problems/").status_code in (401, 403)
    assert client.get("/ogc/collections/problems/items").status_code == 401
    assert client.get(f"/ogc/collections/problems/items/{p.pk}").status_code == 401
    assert client.get(f"/open311/v2/requests/{p.pk}.json").status_code == 403
    assert client.get(f"/grids/{grids['A'].code}/map/").status_code == 302
    assert client.get("/evaluation/ledger.csv").status_code == 302
    for path in ["/dashboard/", "/problems/", "/planner/", "/planner/map/", "/route/", "/route.gpx",
                 f"/communities/{grids['A'].community.code}/", "/evaluation/figures/", "/steps/",
                 f"/steps/{grids['A'].community.code}/", "/patrols/", "/patrols/not-walked/", "/surveys/",
                 "/campaign/readiness/ranking/"]:  # fmt: skip
        assert client.get(path).status_code == 302, path


# -- writes (issue 12, finding 9: the read-only planner could add photos to any problem) ---------
# Adding a photo to an existing problem: its reporter, and whoever acts on it through their role
# (a role that takes some step of the loop, on a problem in that role's scope). Seeing is not
# enough: the planner sees the whole city and may add none (403); out of sight is a 404.
ADDS_PHOTOS = {
    "admin": {"pA", "pB", "pC"},
    "planner": set(),
    "head1": {"pA"},
    "leaderA": {"pA"},
    "dept_cg": {"pA", "pC"},
    "dept_fire": {"pB"},
    "inspector1": {"pA"},
    "reporter": {"pA"},
    "nobody": set(),
}
FILES = {"admin": {"pA", "pB", "pC"}, "head1": {"pA"}, "leaderA": {"pA"}}  # 立案: leads, in their area
# a positive-list site at grid A's centre: admins, the head of its community, its grid's leader
PLACES_SITE = {"admin", "head1", "leaderA"}


def _stored(problems):
    from gridmap.problems.models import ProblemEvent, ProblemPhoto

    return (ProblemPhoto.objects.count(), ProblemEvent.objects.count(),
            {n: Problem.objects.get(pk=p.pk).status for n, p in problems.items()})  # fmt: skip


@pytest.mark.parametrize("who", ROLES)
def test_writes_agree_with_the_rules(client, world, who, tmp_path, settings):
    from tests.photos import jpeg

    settings.MEDIA_ROOT = str(tmp_path)
    people, _, problems = world
    client.force_login(people[who])
    for name, p in problems.items():
        before = _stored(problems)
        response = client.post(f"/api/v1/problems/{p.pk}/photos/", {"image": jpeg()})
        if name in ADDS_PHOTOS[who]:
            assert response.status_code == 201, ("api photo", name, response.content)
        else:
            want = 404 if name not in SEES_PROBLEMS[who] else 403
            assert response.status_code == want, ("api photo", name)
            assert response.json()["detail"]
            assert _stored(problems) == before, ("api photo stored", name)
    assert not any(tmp_path.rglob("*.jpg")) or ADDS_PHOTOS[who]
    for name, p in problems.items():
        for door in ("api", "page"):
            before = _stored(problems)
            if door == "api":
                response = client.post(f"/api/v1/problems/{p.pk}/transitions/", {"action": "file"},
                                       content_type="application/json")  # fmt: skip
            else:
                response = client.post(f"/problems/{p.pk}/transition/", {"action": "file", "photos": jpeg()})
            if name in FILES.get(who, set()) and door == "api":
                assert response.status_code == 200, (door, "file", name, response.content)
                continue
            if name in FILES.get(who, set()):  # filed through the API just before: a conflict now
                assert response.status_code == 409, (door, "file", name)
            else:
                want = 404 if name not in SEES_PROBLEMS[who] else 403
                assert response.status_code == want, (door, "file", name)
            assert _stored(problems) == before, (door, "file stored", name)
    from gridmap.problems.models import PositiveSite

    centre = world[1]["A"].geom.centroid
    sites = PositiveSite.objects.count()
    response = client.post("/api/v1/positive-sites/", {"lon": centre.x, "lat": centre.y, "name": "示范"},
                           content_type="application/json")  # fmt: skip
    if who in PLACES_SITE:
        assert response.status_code == 201, ("site", response.content)
    else:
        assert response.status_code == 403 and PositiveSite.objects.count() == sites, "site"


# -- the campaign: inspection points ptA (grid A, 城管) and ptB (grid B, 消防), one round -----------
SEES_POINTS = {
    "admin": {"ptA", "ptB"},
    "planner": {"ptA", "ptB"},
    "head1": {"ptA"},
    "leaderA": {"ptA"},
    "dept_cg": {"ptA"},
    "dept_fire": {"ptB"},
    "inspector1": {"ptA"},
    "reporter": None,
    "nobody": None,
}  # fmt: skip  (None: the campaign's pages are refused, 403)


@pytest.mark.parametrize("who", ROLES)
def test_campaign_outputs_agree_with_the_rules(client, world, who):
    import openpyxl

    from gridmap.campaign.models import Answer, ChecklistItem, Finding, InspectionPoint, PointType
    from gridmap.campaign.points import point_save
    from gridmap.campaign.rounds import round_create
    from tests.campaign.conftest import campaign_catalogue

    campaign_catalogue()
    people, grids, problems = world
    stop = PointType.objects.get(code="bus_stop")
    item = ChecklistItem.objects.filter(point_type=stop).first()
    points = {
        name: point_save(InspectionPoint(name=name, type=stop, geom=grids[g].geom.centroid,
                                         department=Department.objects.get(code=dept)))
        for name, g, dept in (("ptA", "A", "cg"), ("ptB", "B", "fire"))
    }  # fmt: skip
    round_ = round_create(name="round", created_by=people["admin"])
    round_.visits.filter(point=points["ptA"]).update(inspector=people["inspector1"])
    for name, problem in (("ptA", problems["pA"]), ("ptB", problems["pB"])):
        visit = round_.visits.get(point=points[name])
        answer = Answer.objects.create(
            visit=visit, item=item, findings=1, points=0, weight=item.weight, failed=True
        )
        Finding.objects.create(answer=answer, problem=problem, point=points[name], item=item)
    by_id = {p.pk: n for n, p in points.items()}
    client.force_login(people[who])
    expected = SEES_POINTS[who]
    pages = ["/campaign/", "/campaign/readiness/", "/campaign/points.geojson", f"/campaign/rounds/{round_.pk}/",
             f"/campaign/rounds/{round_.pk}/report.xlsx", f"/campaign/rounds/{round_.pk}/walk/",
             f"/campaign/rounds/{round_.pk}/walk.gpx"]  # fmt: skip
    if expected is None:
        assert all(client.get(url).status_code == 403 for url in pages)
        return
    geo = client.get("/campaign/points.geojson").json()
    assert {by_id[f["id"]] for f in geo["features"]} == expected, "points"
    ready = client.get("/campaign/readiness/").content.decode()
    assert {by_id[int(i)] for i in re.findall(r'data-point="(\d+)"', ready)} == expected, "readiness"
    page = client.get(f"/campaign/rounds/{round_.pk}/").content.decode()
    assert {by_id[int(i)] for i in re.findall(r'data-point="(\d+)"', page)} == expected, "round"
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/campaign/rounds/{round_.pk}/report.xlsx").content))
    assert {r[0] for r in book["点位得分"].iter_rows(min_row=2, values_only=True)} == expected, "workbook"
    gpx = client.get(f"/campaign/rounds/{round_.pk}/walk.gpx")  # only the inspector walks a point
    assert gpx.status_code == (200 if who == "inspector1" else 404), "gpx"
    if who == "inspector1":
        assert f"1. #{points['ptA'].pk}</name>" in gpx.content.decode() and "ptB" not in gpx.content.decode()
    walk = client.get(f"/campaign/rounds/{round_.pk}/walk/").content.decode()
    on_walk = {n for n in points if f">{n}" in walk or f"{n} <small" in walk}
    assert on_walk == ({"ptA", "ptB"} if who == "admin" else {"ptA"} if who == "inspector1" else set()), (
        "walk"
    )
    for name, p in points.items():
        visit = round_.visits.get(point=p)
        reply = client.post(f"/campaign/visits/{visit.pk}/answer/", {"item": item.pk, "findings": "0",
                            "client_uuid": "5f0c5e9e-0000-4000-8000-00000000000" + name[-1].lower().replace("a", "1").replace("b", "2")},
                            HTTP_ACCEPT="application/json")  # fmt: skip
        if name not in expected:
            assert reply.status_code == 404, ("answer", name)
        else:
            assert reply.status_code in (403, 409), ("answer", name)  # answered already, or not their walk


# The campaign's community pages: the ten steps, surveys, patrols' grids not walked lately and the
# readiness ranking. Communities: c1 holds grid A, c2 grid B.
FOLLOWS = {
    "admin": {"c1", "c2"}, "planner": {"c1", "c2"}, "head1": {"c1"}, "leaderA": {"c1"}, "dept_cg": set(),
    "dept_fire": set(), "inspector1": {"c1"}, "reporter": set(), "nobody": set(),
}  # fmt: skip
SEES_GRIDS_WALKED = SEES_GRIDS  # the not-walked page lists the grids one may see


@pytest.mark.parametrize("who", ROLES)
def test_community_campaign_pages_agree_with_the_rules(client, world, who):
    from gridmap.surveys.models import Question, Survey

    people, grids, _ = world
    codes = {"c1": grids["A"].community.code, "c2": grids["B"].community.code}
    survey = Survey.objects.create(title="满意度")
    Question.objects.create(survey=survey, number=1, text="满意吗", kind="rating", satisfaction=True)
    client.force_login(people[who])
    expected = FOLLOWS[who]
    for c, code in codes.items():  # the ten steps: a community's checklist is a 404 outside the scope
        status = client.get(f"/steps/{code}/").status_code
        assert status == (200 if c in expected else 404), ("steps", c, who)
    listed = client.get("/steps/")
    assert {r.community.code for r in listed.context["rows"]} == {codes[c] for c in expected}, "steps list"
    results = client.get(f"/surveys/{survey.pk}/")
    if expected:
        assert {r.community.code for r, _ in results.context["table"]} == {codes[c] for c in expected}
    else:
        assert results.status_code == 403, ("surveys", who)
    walked = client.get("/patrols/not-walked/?days=7")
    assert {r["grid"].code for r in walked.context["rows"]} == {grids[g].code for g in SEES_GRIDS_WALKED[who]}
    ranking = client.get("/campaign/readiness/ranking/?level=community")
    if who in ("reporter", "nobody"):
        assert ranking.status_code == 403
    else:
        assert {r["code"] for r in ranking.context["rows"]} == {codes[c] for c in expected}, "ranking"
        grids_ranked = client.get("/campaign/readiness/ranking/?level=grid").context["rows"]
        assert {r["code"] for r in grids_ranked} == {grids[g].code for g in SEES_GRIDS[who]}, "grid ranking"
