"""A small town for the dashboard: two communities, three grids, one of each role, and cases in
every state (times relative to now, so "this month" and "overdue" hold whenever it runs)."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from gridmap.accounts.models import Department, Role
from gridmap.dashboard.selectors import month_period
from gridmap.problems.models import EventCategory, ExtensionRequest, Problem
from tests.factories import LAT0, LON0, grid, region_tree, user


def make_case(g, community, category, status, **kw):
    where = g.geom.centroid if g else Point(LON0 + 0.001, LAT0 + 0.0019 if community else LAT0 - 0.01)
    return Problem.objects.create(
        geom=where, category=category, grid=g, community=community, status=status, **kw
    )


@pytest.fixture
def town(db):
    c1, c2 = region_tree(n=2)
    leader, other = user("leader", Role.GRID_LEADER), user("other_leader", Role.GRID_LEADER)
    g1 = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    g2 = grid(c1, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=other)
    g3 = grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002))
    category = EventCategory.objects.get(code="0301")
    dept, other_dept = (
        Department.objects.create(code="cg", name="城管"),
        Department.objects.create(code="x", name="X"),
    )
    dept.categories.add(category)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(c1)
    now = timezone.now()
    start = month_period(now).start
    hour = timedelta(hours=1)
    p = {
        "reported": make_case(g1, c1, category, "reported"),
        "filed": make_case(g1, c1, category, "filed", filed_at=start + hour),
        "late": make_case(g1, c1, category, "dispatched", filed_at=start + hour, department=dept,
                          deadline=now - hour),
        "soon": make_case(g1, c1, category, "dispatched", filed_at=start + hour, department=dept,
                          deadline=now + 5 * hour),
        "other_dept": make_case(g1, c1, category, "dispatched", department=other_dept, deadline=now + hour),
        "handled": make_case(g1, c1, category, "handled", filed_at=start + hour, department=dept),
        "closed": make_case(g1, c1, category, "closed", filed_at=start + hour, closed_at=start + 2 * hour,
                            closed_on_time=True, lookback_due=timezone.localdate(now)),
        "g2_open": make_case(g2, c1, category, "dispatched", department=dept, deadline=now - 2 * hour,
                             escalated_at=now - hour),
        "g3_open": make_case(g3, c2, category, "reported"),
        "fallback": make_case(None, c1, category, "filed", filed_at=start + hour),
        "unassigned": make_case(None, None, category, "reported"),
    }  # fmt: skip
    ExtensionRequest.objects.create(problem=p["soon"], hours=24, reason="雨天", requested_by=leader)
    users = {
        "leader": leader,
        "other_leader": other,
        "head": user("head", Role.COMMUNITY_HEAD, community=c1),
        "handler": user("handler", Role.DEPARTMENT, department=dept),
        "inspector": inspector,
        "planner": user("planner", Role.PLANNER),
        "admin": user("boss", Role.ADMIN),
        "reporter": user("reporter", Role.REPORTER),
    }
    p["own"] = make_case(g3, c2, category, "reported", reporter=users["reporter"])
    return {"c1": c1, "c2": c2, "g1": g1, "g2": g2, "g3": g3, "p": p, "category": category, "dept": dept,
            "now": now, **users}  # fmt: skip
