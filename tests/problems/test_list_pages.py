"""The problem list (scope, filters, sort, paging; bad filters are a 400, never a 500), the detail
page's timeline, photos and map, and the report form's map picker settings."""

import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from gridmap.accounts.models import Role
from gridmap.problems.intake import problem_create
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import EventCategory, Problem, ProblemPhoto
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

pytestmark = pytest.mark.django_db
SPOT = (LON0 + 0.001, LAT0 + 0.001)


@pytest.fixture
def town():
    (community,) = region_tree()
    leader, other = user("leader", Role.GRID_LEADER), user("other", Role.GRID_LEADER)
    mine = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    theirs = grid(community, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=other)
    cats = {c.code: c for c in EventCategory.objects.filter(code__in=["0301", "0101"])}
    return {"mine": mine, "theirs": theirs, "leader": leader, "other": other, "cats": cats,
            "admin": user("boss", Role.ADMIN), "reporter": user("reporter")}  # fmt: skip


def case(g, category, **kw):
    where = kw.pop("geom", g.geom.centroid)
    return Problem.objects.create(geom=where, grid=g, community=g.community, category=category, **kw)


def listing(client, who, expect=200, **query):
    client.force_login(who)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("problem-list"), query)
    assert response.status_code == expect, response.content[:2000]
    return response


def listed(response):
    return [p.pk for p in response.context["page"].object_list]


def test_a_leader_lists_only_their_grid(client, town):
    a = case(town["mine"], town["cats"]["0301"])
    b = case(town["theirs"], town["cats"]["0301"])
    assert listed(listing(client, town["leader"])) == [a.pk]
    assert listed(listing(client, town["other"])) == [b.pk]
    assert sorted(listed(listing(client, town["admin"]))) == sorted([a.pk, b.pk])
    # a filter naming the other grid finds nothing rather than leaking it
    assert listed(listing(client, town["leader"], grid=town["theirs"].code)) == []


def test_another_grids_problem_page_and_photo_are_404(client, town):
    b = case(town["theirs"], town["cats"]["0301"])
    photo = ProblemPhoto.objects.create(problem=b, image=jpeg(), stage="before")
    client.force_login(town["leader"])
    assert client.get(reverse("problem-detail", args=[b.pk])).status_code == 404
    assert client.get(reverse("problem-photo", args=[b.pk, photo.pk])).status_code == 404


def test_filters_combine(client, town):
    now = timezone.now()
    cats, g = town["cats"], town["mine"]
    late = case(
        g, cats["0301"], status="dispatched", deadline=now - timedelta(hours=2), description="井盖缺失"
    )
    soon = case(g, cats["0301"], status="dispatched", deadline=now + timedelta(hours=2))
    done = case(g, cats["0301"], status="closed", deadline=now - timedelta(days=3))
    old = case(g, cats["0101"], reported_at=now - timedelta(days=40), description="暴露垃圾")
    who = town["leader"]
    assert listed(listing(client, who, overdue="on")) == [late.pk]
    assert sorted(listed(listing(client, who, status=["dispatched", "closed"]))) == sorted(
        [late.pk, soon.pk, done.pk]
    )
    assert listed(listing(client, who, category="0101")) == [old.pk]
    assert listed(listing(client, who, q="井盖")) == [late.pk]
    assert listed(listing(client, who, q=f"#{soon.pk}")) == [soon.pk]
    day = timezone.localdate(now - timedelta(days=40)).isoformat()
    assert listed(listing(client, who, start=day, end=day)) == [old.pk]
    assert old.pk not in listed(listing(client, who, start=timezone.localdate(now).isoformat()))
    by_deadline = listed(listing(client, who, sort="deadline"))
    assert by_deadline[:3] == [done.pk, late.pk, soon.pk] and by_deadline[3] == old.pk  # no deadline last
    assert listed(listing(client, who, sort="reported"))[0] == old.pk


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"grid": "12345"},
        {"grid": "<script>"},
        {"category": "9999"},
        {"start": "2024-13-01"},
        {"start": "0001-01-01"},
        {"start": "2024-05-02", "end": "2024-05-01"},
        {"sort": "password"},
        {"q": "x" * 1000},
        {"q": "a\x00b"},
    ],
)
def test_bad_filters_are_a_400_with_the_reason(client, town, query):
    response = listing(client, town["leader"], expect=400, **query)
    body = response.content.decode()
    assert 'role="alert"' in body and response.context["page"] is None
    assert "<script>" not in body.split("<main>")[1]


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999", "1e400", "9" * 5000])
def test_odd_page_numbers_are_ignored(client, town, page):
    case(town["mine"], town["cats"]["0301"])
    assert listing(client, town["leader"], page=page).status_code == 200


def test_paging_keeps_the_filters(client, town):
    for _ in range(55):
        case(town["mine"], town["cats"]["0301"], status="filed")
    response = listing(client, town["leader"], status="filed", sort="reported")
    assert len(listed(response)) == 50
    body = response.content.decode()
    assert "status=filed&amp;sort=reported&amp;page=2" in body
    second = listing(client, town["leader"], status="filed", sort="reported", page="2")
    assert len(listed(second)) == 5


def test_list_queries_do_not_grow_with_the_rows(client, town):
    def queries():
        client.force_login(town["leader"])
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("problem-list")).status_code == 200
        return len(captured.captured_queries)

    for _ in range(3):
        case(town["mine"], town["cats"]["0301"], status="dispatched", deadline=timezone.now())
    few = queries()
    for _ in range(45):
        case(town["mine"], town["cats"]["0101"], status="filed")
    # the scope's id lists, the map's points (dated, then undated), the departments, the unread count
    assert queries() == few <= 14


def test_detail_shows_the_timeline_photos_and_a_map(client, town):
    leader = town["leader"]
    problem, _ = problem_create(lon=SPOT[0], lat=SPOT[1], category=town["cats"]["0301"], reporter=leader,
                                description="<img src=x onerror=alert(1)>")  # fmt: skip
    ProblemPhoto.objects.create(problem=problem, image=jpeg(), stage="before", event=problem.events.get())
    problem_transition(problem_id=problem.pk, action="file", actor=leader, note="现场核实 <b>属实</b>")
    client.force_login(leader)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("problem-detail", args=[problem.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    timeline = body.split('class="timeline"')[1].split("</ol>")[0]
    assert (
        timeline.count("<li") == 2 and "File" in timeline
    )  # the report and the filing, in order (in English)
    assert timeline.index("event-report") < timeline.index("event-file")
    assert "现场核实 &lt;b&gt;属实&lt;/b&gt;" in timeline and "leader" in timeline
    photo_url = reverse("problem-photo", args=[problem.pk, problem.photos.get().pk])
    assert photo_url in timeline and photo_url in body.split('class="before"')[1].split("</figure>")[0]
    assert "&lt;img src=x" in body and "<img src=x" not in body
    config = json.loads(
        re.search(r'id="location-config" type="application/json">(.*?)</script>', body).group(1)
    )
    assert config["center"] == pytest.approx(list(SPOT)) and config["grid"]["type"] == "MultiPolygon"
    assert config["tiles"] is None  # the tests' setting: a plain background
    assert "/static/vendor/leaflet-1.9.4/leaflet.js" in body and "/static/gridmap/picker.js" in body
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", body)


def _inline_scripts(body):
    return [s for s in re.findall(r"<script([^>]*)>(.*?)</script>", body, re.S) if "src=" not in s[0]]


def test_report_form_carries_the_map_picker_settings(client, town):
    client.force_login(town["leader"])
    body = client.get(reverse("problem-report")).content.decode()
    config = json.loads(
        re.search(r'id="picker-config" type="application/json">(.*?)</script>', body).group(1)
    )
    assert [f["properties"]["code"] for f in config["grids"]["features"]] == [town["mine"].code]
    ring = config["grids"]["features"][0]["geometry"]["coordinates"][0][0]
    assert [LON0, LAT0] in ring
    assert config["tiles"] is None and len(config["center"]) == 2
    assert 'id="picker-map"' in body and 'name="lon"' in body and 'name="lat"' in body
    # no inline code: only JSON data blocks (the page works under a strict CSP)
    assert all('type="application/json"' in attrs for attrs, _ in _inline_scripts(body))
    assert "onclick" not in body and "onchange" not in body


def test_a_reporter_picks_on_the_map_with_grid_outlines_and_nothing_more(client, town):
    client.force_login(town["reporter"])
    body = client.get(reverse("problem-report")).content.decode()
    config = json.loads(
        re.search(r'id="picker-config" type="application/json">(.*?)</script>', body).group(1)
    )
    features = config["grids"]["features"]
    assert features and all(set(f["properties"]) == {"code", "name"} for f in features)


def test_with_no_tiles_the_picker_draws_the_streets_for_reference(client, town, settings):
    from django.contrib.gis.geos import LineString

    from gridmap.geography.models import Street

    Street.objects.create(
        geom=LineString((LON0, LAT0 + 0.001), (LON0 + 0.002, LAT0 + 0.001)), name="<b>虞山路</b>"
    )
    client.force_login(town["reporter"])  # sees no grid: the streets are all the map shows
    config = _picker_config(client)
    (street,) = config["streets"]["features"]
    assert street["properties"]["name"] == "<b>虞山路</b>" and street["geometry"]["type"] == "LineString"
    assert street["geometry"]["coordinates"][0] == pytest.approx([LON0, LAT0 + 0.001], abs=1e-5)
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": "http://127.0.0.1:8081/{z}/{x}/{y}.png"}
    assert _picker_config(client)["streets"]["features"] == []  # the tiles show the streets


def _picker_config(client) -> dict:
    body = client.get(reverse("problem-report")).content.decode()
    return json.loads(re.search(r'id="picker-config" type="application/json">(.*?)</script>', body).group(1))


def test_the_report_form_still_works_without_script(client, town):
    client.force_login(town["reporter"])
    client.get(reverse("problem-report"))
    data = {"category": town["cats"]["0301"].pk, "lon": f"{SPOT[0]:.6f}", "lat": f"{SPOT[1]:.6f}",
            "description": "路灯不亮", "photos": jpeg(lonlat=SPOT)}  # fmt: skip
    response = client.post(reverse("problem-report"), data)
    assert response.status_code == 302
    problem = Problem.objects.get()
    assert problem.grid == town["mine"] and problem.geom.equals_exact(Point(*SPOT, srid=4326), 1e-7)


def test_the_picker_script_sets_six_decimals_and_uses_the_location_button():
    script = (settings.BASE_DIR / "gridmap" / "static" / "gridmap" / "picker.js").read_text()
    assert "navigator.geolocation" in script and script.count("toFixed(6)") >= 4
    assert "http://" not in script and "https://" not in script


def test_an_unassigned_problem_has_a_map_without_a_grid(client, town):
    far = Problem.objects.create(geom=Point(LON0 - 0.05, LAT0), category=town["cats"]["0301"])
    client.force_login(town["admin"])
    body = client.get(reverse("problem-detail", args=[far.pk])).content.decode()
    config = json.loads(
        re.search(r'id="location-config" type="application/json">(.*?)</script>', body).group(1)
    )
    assert config["grid"] is None and config["center"] == pytest.approx([LON0 - 0.05, LAT0])


def test_configured_tiles_reach_the_picker(client, town, settings):
    settings.GRIDMAP = {**settings.GRIDMAP, "TILES": "http://127.0.0.1:8081/{z}/{x}/{y}.png"}
    client.force_login(town["leader"])
    body = client.get(reverse("problem-report")).content.decode()
    config = json.loads(
        re.search(r'id="picker-config" type="application/json">(.*?)</script>', body).group(1)
    )
    assert config["tiles"]["url"] == "http://127.0.0.1:8081/{z}/{x}/{y}.png"
    assert config["tiles"]["maxZoom"] >= 18


@pytest.mark.parametrize("role", ["community_head", "department", "inspector", "planner", "reporter"])
def test_each_role_lists_exactly_what_it_may_see(client, town, role):
    from gridmap.accounts.models import Department
    from gridmap.problems.selectors import problems_visible_to

    community = town["mine"].community
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(town["cats"]["0301"])
    extra = {"community_head": {"community": community}, "department": {"department": dept}}.get(role, {})
    who = user(f"someone_{role}", role, **extra)
    if role == "inspector":
        who.profile.patrol_communities.add(community)
    for g, code in ((town["mine"], "0301"), (town["theirs"], "0101"), (town["mine"], "0101")):
        case(g, town["cats"][code])
    case(town["theirs"], town["cats"]["0101"], reporter=who)
    far = Problem.objects.create(geom=Point(LON0 - 0.05, LAT0), category=town["cats"]["0101"])
    expected = sorted(problems_visible_to(who).values_list("pk", flat=True))
    assert sorted(listed(listing(client, who))) == expected
    if far.pk not in expected:
        client.force_login(who)
        assert client.get(reverse("problem-detail", args=[far.pk])).status_code == 404


# --- the filters that express the dashboards' counts -------------------------------------------


NEW_FILTERS = ("open", "escalated", "late", "unassigned", "lookback", "extension", "queue", "department",
               "community", "filed", "closed", "scope", "asof", "sort")  # fmt: skip


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.dictionaries(st.sampled_from(NEW_FILTERS), st.text(max_size=30), max_size=5))
def test_any_value_of_the_new_filters_is_a_list_or_a_400(client, town, values):
    client.force_login(town["leader"])
    response = client.get(reverse("problem-list"), values)
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    "query", ["filed=2026-13", "closed=1999-01", "asof=-1", "asof=99999999999", "community=12ab", "scope=all"]
)
def test_bad_values_of_the_new_filters_are_a_400(client, town, query):
    client.force_login(town["leader"])
    assert client.get(reverse("problem-list") + "?" + query).status_code == 400


def test_a_month_filter_counts_by_local_month(client, town):
    from gridmap.core.dates import local_midnight
    from gridmap.problems.filters import ProblemFilterForm

    first = timezone.localdate().replace(day=1)
    inside = case(town["mine"], town["cats"]["0301"], status="filed", filed_at=local_midnight(first))
    case(
        town["mine"],
        town["cats"]["0301"],
        status="filed",
        filed_at=local_midnight(first) - timedelta(seconds=1),
    )
    form = ProblemFilterForm({"filed": first.strftime("%Y-%m")})
    assert form.is_valid()
    assert [p.pk for p in form.apply(Problem.objects.all())] == [inside.pk]


def test_each_row_shows_its_grid_and_the_nearest_buildings_address_and_the_map_its_cases(client, town):
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from gridmap.geography.models import Building

    def building(x, y, address):
        box = Polygon.from_bbox((x, y, x + 0.0001, y + 0.0001))
        return Building.objects.create(geom=MultiPolygon(box, srid=4326), address=address, grid=town["mine"])

    building(LON0 + 0.0011, LAT0 + 0.0011, "幸福路 1 号")
    building(LON0 + 0.0017, LAT0 + 0.0017, "幸福路 9 号")
    building(LON0 + 0.00105, LAT0 + 0.00105, "")  # the nearest has no address: not named
    p = case(town["mine"], town["cats"]["0301"], status="filed", geom=Point(*SPOT, srid=4326))
    client.force_login(town["leader"])
    response = client.get(reverse("problem-list"))
    (row,) = response.context["page"].object_list
    assert row.address == "幸福路 1 号"
    body = response.content.decode()
    assert "幸福路 1 号" in body and town["mine"].code in body and 'id="cases-map"' in body
    assert response.context["cases_map"]["cases"] == [
        [p.pk, round(SPOT[0], 6), round(SPOT[1], 6), "filed", False]
    ]
