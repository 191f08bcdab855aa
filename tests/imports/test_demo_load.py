"""load_demo: the demo town through the import core, with a user for every role."""

import json
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from gridmap.accounts.models import Profile, Role
from gridmap.campaign.models import Finding, InspectionPoint, PointType, Round
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Community, Grid, Street
from gridmap.imports.demo import DEMO_DIR
from gridmap.imports.demo_news import STORIES
from gridmap.notifications.models import Kind, Notification
from gridmap.problems.models import Problem, ProblemEvent

pytestmark = pytest.mark.django_db


def geojson_count(name):
    return len(json.loads((DEMO_DIR / f"{name}.geojson").read_text(encoding="utf-8"))["features"])


def test_demo_town_loads_completely_and_again_without_duplicates(demo_town):
    # the first load is the session's (tests/conftest.py), into the empty database
    out = demo_town.output
    assert "rejected 0" in out and "rejected 1" not in out
    counts = {"grids": Grid.objects.count(), "buildings": Building.objects.count(),
              "facilities": Facility.objects.count(),
              "problems": Problem.objects.filter(campaign_finding__isnull=True).count(),
              "streets": Street.objects.count()}  # fmt: skip
    # the problems of the fixture, and the live reports of demo_news (the inboxes' news)
    assert counts == {
        name: geojson_count(name) + (len(STORIES) if name == "problems" else 0) for name in counts
    }
    assert Community.objects.count() >= 3 and counts["grids"] >= 30 and counts["buildings"] >= 1500
    assert counts["problems"] >= 3000
    # Every kind in the catalogue that the demo uses is present, and every role can log in.
    used = set(Facility.objects.values_list("kind__code", flat=True).distinct())
    assert used >= set(FacilityKind.objects.exclude(code__in=["car_park_point", "accessible_entrance"])
                       .values_list("code", flat=True))  # fmt: skip
    assert {p.role for p in Profile.objects.all()} == set(Role.values)
    for role in Role.values:
        username = Profile.objects.filter(role=role).first().user.username
        assert authenticate(username=username, password="gridmap-demo") is not None, role
    # The planted assignment cases: community fallback and the unassigned queue.
    assert Problem.objects.filter(grid=None).exclude(community=None).count() >= 10
    assert Problem.objects.filter(grid=None, community=None).count() >= 10
    assert Problem.objects.exclude(facility=None).count() > 0
    # Each status comes with the loop history that leads to it.
    closed = Problem.objects.filter(status="closed")
    assert closed.filter(closed_at=None).count() == 0 and closed.exclude(department=None).count() > 0
    assert Problem.objects.filter(status="dispatched", deadline=None).count() == 0
    events, told = ProblemEvent.objects.count(), Notification.objects.count()
    assert events > counts["problems"]
    # The campaign: a point of every type, two past rounds, failures through the loop (some closed,
    # some still open and so on the readiness list), each dispatched to its point's department.
    assert set(InspectionPoint.objects.values_list("type__code", flat=True)) == set(
        PointType.objects.values_list("code", flat=True)
    )
    assert Round.objects.count() == 2
    findings = Finding.objects.select_related("problem", "point")
    assert findings.filter(closed_at__isnull=False).exists() and findings.filter(closed_at=None).exists()
    assert all(f.problem.department_id == f.point.department_id for f in findings)
    assert all(f.problem.status == "closed" for f in findings.filter(closed_at__isnull=False))
    total = Problem.objects.count()
    call_command("load_demo", stdout=StringIO())
    assert Problem.objects.count() == total and Grid.objects.count() == counts["grids"]
    assert Finding.objects.count() == findings.count() and Round.objects.count() == 2
    assert ProblemEvent.objects.count() == events and Notification.objects.count() == told


def test_the_demos_inboxes_hold_news_told_through_the_notifications_hook(demo_town):
    """Each role that the loop gives work finds some in its inbox after load_demo: the live steps
    of demo_news went through the intake and problem_transition, whose events the hook tells."""
    kinds = {
        role: set(Notification.objects.filter(recipient__profile__role=role).values_list("kind", flat=True))
        for role in (Role.GRID_LEADER, Role.DEPARTMENT, Role.COMMUNITY_HEAD, Role.INSPECTOR, Role.REPORTER)
    }
    assert Kind.NEW_REPORT in kinds[Role.GRID_LEADER]
    assert Kind.DISPATCHED in kinds[Role.DEPARTMENT]
    assert Kind.EXTENSION_REQUESTED in kinds[Role.COMMUNITY_HEAD]
    assert Kind.TO_VERIFY in kinds[Role.INSPECTOR]
    assert Kind.REPORT_NEWS in kinds[Role.REPORTER]
    # each tied to the event that told it; the bulk-loaded history told nobody
    assert not Notification.objects.filter(event=None).exists()
    assert not Notification.objects.filter(problem__source_key__startswith="demo:").exists()
