"""The planner pages: who may open them, strict parameters, and the figures per grid."""

import math
import re
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building
from gridmap.maps.planner_data import compute_planner_data, period_start
from gridmap.problems.models import EventCategory, Problem, Status
from tests.analysis.coverage_helpers import refresh_now
from tests.factories import LAT0, LON0, box, grid, region_tree, user

pytestmark = pytest.mark.django_db


def _building(g, x, y, population=0, use="residential"):
    return Building.objects.create(
        geom=box(x, y, x + 0.0001, y + 0.0001), grid=g, community=g.community, population=population, use=use
    )


def _problem(g, status, days_ago, description="x"):
    return Problem.objects.create(
        geom=Point(g.geom.centroid.x, g.geom.centroid.y, srid=4326),
        grid=g,
        community=g.community,
        category=EventCategory.objects.get(code="0201"),
        status=status,
        reported_at=timezone.now() - timedelta(days=days_ago),
        description=description,
    )


@pytest.fixture
def town():
    c1, c2 = region_tree(n=2)
    g1 = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002))
    g2 = grid(c1, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002))
    g3 = grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002))
    g1.name = "<script>alert(1)</script>{{ 7*7 }}"
    g1.save()
    # one hydrant (150 m) in the middle of g1: both g1 buildings and the near g2 one are covered
    Facility.objects.create(
        kind=FacilityKind.objects.get(code="hydrant"), geom=Point(LON0 + 0.001, LAT0 + 0.001)
    )
    _building(g1, LON0 + 0.0008, LAT0 + 0.0008, population=100)
    _building(g1, LON0 + 0.0012, LAT0 + 0.0012, population=100)
    _building(g2, LON0 + 0.0021, LAT0 + 0.001)  # ~105 m away
    _building(g2, LON0 + 0.0037, LAT0 + 0.001)  # ~255 m away
    _problem(g1, Status.REPORTED, 1)
    _problem(g1, Status.CLOSED, 10)
    _problem(g1, Status.REJECTED, 5)  # not counted
    _problem(g1, Status.DISPATCHED, 400)  # before the 365-day period
    _problem(g2, Status.FILED, 3)
    refresh_now()
    return {"c1": c1, "c2": c2, "g1": g1, "g2": g2, "g3": g3}


def _login(client, role, **profile):
    client.force_login(user(f"u-{role}", role, **profile))


def test_pages_need_a_login(client, town):
    for name in ("planner", "planner-map"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("role", [Role.GRID_LEADER, Role.DEPARTMENT, Role.INSPECTOR, Role.REPORTER])
def test_other_roles_are_refused(client, town, role):
    _login(client, role)
    for name in ("planner", "planner-map"):
        assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize(
    "role,community,visible",
    [
        (Role.ADMIN, None, {"g1", "g2", "g3"}),
        (Role.PLANNER, None, {"g1", "g2", "g3"}),
        (Role.COMMUNITY_HEAD, "c1", {"g1", "g2"}),
        (Role.COMMUNITY_HEAD, "c2", {"g3"}),
    ],
)
def test_the_map_holds_the_grids_in_scope_only(client, town, role, community, visible):
    _login(client, role, **({"community": town[community]} if community else {}))
    page = client.get(reverse("planner"), {"kind": "hydrant"})
    assert page.status_code == 200 and page.context["totals"]["grids"] == len(visible)
    html = client.get(reverse("planner-map"), {"kind": "hydrant"}).content.decode()
    assert {k for k in ("g1", "g2", "g3") if f'"{town[k].code}"' in html} == visible


@pytest.mark.parametrize(
    "query",
    [
        {"kind": "no-such-kind"},
        {"kind": "curb_ramp"},  # no service radius: no coverage share
        {"kind": "<script>"},
        {"period": "7d"},
        {"period": ""},
        {"bbox": "1,2,3,4"},
        "kind=hydrant&kind=toilet",
    ],
)
def test_bad_parameters_answer_400(client, town, query):
    _login(client, Role.PLANNER)
    for name in ("planner", "planner-map"):
        url = reverse(name) + ("?" + query if isinstance(query, str) else "")
        response = client.get(url, query if isinstance(query, dict) else None)
        assert response.status_code == 400, (name, query)
        assert "<script>" not in response.content.decode().split("<main>")[-1]


def test_figures_per_grid(town):
    from tests.factories import user as make_user

    planner = make_user("p", Role.PLANNER)
    kind = FacilityKind.objects.get(code="hydrant")
    data = compute_planner_data(planner, kind, period_start("365d"))
    rows = data.grids.set_index("code")
    g1, g2, g3 = (rows.loc[town[k].code] for k in ("g1", "g2", "g3"))
    assert (g1.served, g1.covered, g1.coverage) == (2, 2, 1.0)
    assert (g2.served, g2.covered, g2.coverage) == (2, 1, 0.5)
    assert g3.served == 0 and math.isnan(g3.coverage)  # no building: no data
    # open or closed, since the period's start, per 1,000 residents
    assert (g1.problems, g1.population, g1.rate) == (2, 200, 10.0)
    assert g2.problems == 1 and g2.population == 0 and math.isnan(g2.rate)  # no residents
    assert data.totals["coverage"] == 0.75 and data.totals["rate"] == 3 * 1000 / 200
    everything = compute_planner_data(planner, kind, period_start("all")).grids.set_index("code")
    assert everything.loc[town["g1"].code].problems == 3
    # the uncovered area: g1 is covered everywhere within 150 m of its middle, g2 and g3 are not
    gaps = set(data.gaps["code"])
    assert town["g2"].code in gaps and town["g3"].code in gaps


def test_the_map_document_is_local_and_text_is_data(client, town):
    _login(client, Role.PLANNER)
    html = client.get(reverse("planner-map"), {"kind": "hydrant", "period": "all"}).content.decode()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    assert refs and all(r.startswith("/static/") for r in refs), refs
    assert "<script>alert(1)" not in html
    assert "{{ 7*7 }}" in html  # shown as text, never run as a template
    assert '"/grids/{code}/"' in html and "/api/v1/buildings/" in html


def test_the_page_links_the_map_with_its_parameters(client, town):
    _login(client, Role.PLANNER)
    page = client.get(reverse("planner"), {"kind": "hydrant", "period": "90d"})
    assert page.status_code == 200
    assert 'src="/planner/map/?kind=hydrant&amp;period=90d"' in page.content.decode()
    assert "<script>alert(1)</script>" not in page.content.decode()  # the grid's name, escaped
    worst = page.context["worst"]
    assert [w["code"] for w in worst] == [town["g2"].code, town["g1"].code]  # lowest share first


def test_without_a_kind_with_a_radius_the_rate_still_shows(client, town):
    FacilityKind.objects.update(service_radius_m=None)
    refresh_now()
    _login(client, Role.ADMIN)
    page = client.get(reverse("planner"))
    assert page.status_code == 200 and page.context["kind"] is None
    assert page.context["totals"]["problems"] == 3
    response = client.get(reverse("planner-map"))
    assert response.status_code == 200 and 'gridmap.layers["sites"]' not in response.content.decode()
    assert client.get(reverse("planner"), {"kind": "hydrant"}).status_code == 400
