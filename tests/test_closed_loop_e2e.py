"""One problem end to end: submitted through the API, round the loop with photos, in the ledger
and the ranking, and back for its look-back — the issue's "done when", on both databases."""

import csv
import io

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from gridmap.accounts.models import Department, Role
from gridmap.problems.models import EventCategory, Problem, ProblemEvent, Status
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

pytestmark = pytest.mark.django_db
SPOT = (LON0 + 0.001, LAT0 + 0.001)


def api(who):
    client = APIClient()
    client.force_authenticate(who)
    return client


def step(client, pk, action, **body):
    fmt = "multipart" if "photos" in body else "json"
    response = client.post(f"/api/v1/problems/{pk}/transitions/", {"action": action, **body}, format=fmt)
    assert response.status_code == 200, (action, response.content)
    return response.json()["properties"]


def test_submitted_fixed_verified_ranked_and_looked_back():
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    g = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    category = EventCategory.objects.get(code="0201")
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    handler = user("handler", Role.DEPARTMENT, department=dept)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(community)
    head = user("head", Role.COMMUNITY_HEAD, community=community)
    reporter = user("volunteer", Role.REPORTER)

    created = api(reporter).post(
        "/api/v1/problems/",
        {"lon": SPOT[0], "lat": SPOT[1], "category": "0201", "description": "电线杆上的小广告",
         "client_uuid": "7d3c1a64-2f7e-4a55-9b6c-1d2f3e4a5b6c"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    problem = Problem.objects.get(pk=pk)
    assert problem.grid == g and problem.reporter == reporter  # reaches the grid's leader

    step(api(leader), pk, "file")
    props = step(api(leader), pk, "dispatch")
    assert props["department"] == "cg"  # reaches the department owning the category
    step(api(handler), pk, "handle", note="已铲除", photos=[jpeg(lonlat=SPOT)])
    props = step(api(inspector), pk, "verify_pass", lon=SPOT[0], lat=SPOT[1])
    assert props["status"] == Status.CLOSED

    # The ledger and the ranking of the community head show it, closed on time.
    head_client = APIClient()
    head_client.force_login(head)
    today = timezone.localdate()
    period = f"start={today.replace(day=1)}&end={today + timezone.timedelta(days=1)}"
    rows = list(
        csv.reader(
            io.StringIO(head_client.get(f"/evaluation/ledger.csv?{period}").content.decode("utf-8-sig"))
        )
    )
    header, body = rows[0], rows[1:]
    row = dict(zip(header, next(r for r in body if r[0] == f"\t{pk}"), strict=True))  # codes kept as text
    assert row["是否按期"] == "是" and row["状态"] in ("已结案", "closed")
    page = head_client.get(f"/evaluation/?{period}").content.decode()
    assert g.code in page

    # Days later the look-back is due: it shows up, the inspector checks, and it stays closed.
    Problem.objects.filter(pk=pk).update(lookback_due=today)
    props = step(api(inspector), pk, "lookback_pass", note="未复发")
    assert props["status"] == Status.CLOSED
    problem.refresh_from_db()
    assert problem.lookback_done_at is not None
    actions = list(ProblemEvent.objects.filter(problem=problem).values_list("action", flat=True))
    assert actions == ["report", "file", "dispatch", "handle", "verify_pass", "lookback_pass"]
    assert problem.photos.filter(stage="after").count() == 1
