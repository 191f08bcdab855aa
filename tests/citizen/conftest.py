"""A small town for the citizen-reporting tests: one community, one grid with its leader, a
department for street vending, an inspector who patrols the community and two reporters; and
helpers that take a case round the loop through the one lifecycle."""

from __future__ import annotations

import pytest
from django.utils import timezone

from gridmap.accounts.models import Department, Role
from gridmap.problems.intake import problem_create
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import EventCategory
from tests.factories import LAT0, LON0, grid, region_tree, user
from tests.photos import jpeg

SPOT = (LON0 + 0.001, LAT0 + 0.001)


@pytest.fixture
def town(db):
    (community,) = region_tree()
    leader = user("leader", Role.GRID_LEADER)
    g = grid(community, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader)
    category = EventCategory.objects.get(code="0301")  # street vending
    dept = Department.objects.create(code="cg", name="城管")
    dept.categories.add(category)
    inspector = user("inspector", Role.INSPECTOR)
    inspector.profile.patrol_communities.add(community)
    return {"community": community, "grid": g, "leader": leader, "category": category, "dept": dept,
            "handler": user("handler", Role.DEPARTMENT, department=dept), "inspector": inspector,
            "reporter": user("reporter", Role.REPORTER), "other": user("other", Role.REPORTER)}  # fmt: skip


def report(t, who="reporter", spot=SPOT, **kw):
    problem, _ = problem_create(lon=spot[0], lat=spot[1], category=t["category"], reporter=t[who], **kw)
    return problem


def step(problem, action, actor, **kw):
    return problem_transition(problem_id=problem.pk, action=action, actor=actor, **kw).problem


def close(t, problem, now=None):
    """File, dispatch, fix (with a near after-photo) and verify ``problem``: it ends closed."""
    now = now or timezone.now()
    p = step(problem, "file", t["leader"], now=now)
    p = step(p, "dispatch", t["leader"], now=now)
    p = step(p, "handle", t["handler"], photos=[jpeg(lonlat=SPOT)], now=now)
    return step(p, "verify_pass", t["inspector"], now=now)
