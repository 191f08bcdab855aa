"""A constructed month of cases (March 2024, Asia/Shanghai) with hand-computed figures.

Grid A (leader_a, community c1), cases 1–9:
  1 filed 03-02 08:00 closed 03-03 08:00 (24 h) on time
  2 filed 03-05       closed 03-07       (48 h) late, 1 rework, 1 extension
  3 filed 03-10       closed 03-14       (96 h) on time, 2 reworks
  4 filed 03-31 23:00 closed 04-01 01:00 (2 h)   boundary: filed in March, closed in April
  5 filed 02-28 12:00 closed 03-01 00:00 (36 h) on time; boundary: closed at the period start
  6 filed 03-15 dispatched, deadline 03-18 (overdue at NOW)
  7 filed 03-16 dispatched, deadline 04-05 (not overdue at NOW)
  8 filed 03-04 merged as a duplicate (not counted as filed)
  9 filed 03-20 closed 04-01 00:00 (288 h) boundary: closed at the period end (April)
Grid B (leader_b, c1): 10 filed 03-03 closed 03-04 (24 h) on time; 11 filed 03-06 closed 03-08
  (48 h) late; 12 reported 03-20, a recurrence of case 1 (open, not filed).
Community c1 without grid (属地兜底): 13 filed 03-12 closed 03-13 (24 h) on time.
Grid C (c2, no leader): 14 filed 03-05, dispatched, no deadline.
Departments: X handles 1, 2, 3; Y handles 10, 11. Handlers: h1 fixed 1, 2; h2 fixed 3, 10, 11.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.gis.geos import Point

from gridmap.accounts.models import Department, Role
from gridmap.evaluation.metrics import Period
from gridmap.problems.models import EventCategory, Problem
from tests.factories import LAT0, LON0, grid, region_tree, user

TZ = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=TZ)


MARCH = Period(at(3, 1), at(4, 1))
APRIL = Period(at(4, 1), at(5, 1))
NOW = at(4, 2, 12)


@pytest.fixture
def town(db):
    c1, c2 = region_tree(n=2)
    leader_a, leader_b = user("leader_a", Role.GRID_LEADER), user("leader_b", Role.GRID_LEADER)
    ga = grid(c1, 1, (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002), leader=leader_a)
    gb = grid(c1, 2, (LON0 + 0.002, LAT0, LON0 + 0.004, LAT0 + 0.002), leader=leader_b)
    gc = grid(c2, 1, (LON0 + 0.004, LAT0, LON0 + 0.006, LAT0 + 0.002))
    category = EventCategory.objects.get(code="0101")
    dx, dy = (
        Department.objects.create(code="x", name="部门X"),
        Department.objects.create(code="y", name="部门Y"),
    )
    h1, h2 = user("h1", Role.DEPARTMENT, department=dx), user("h2", Role.DEPARTMENT, department=dy)
    where = {ga: Point(LON0 + 0.001, LAT0 + 0.001), gb: Point(LON0 + 0.003, LAT0 + 0.001),
             gc: Point(LON0 + 0.005, LAT0 + 0.001), None: Point(LON0 + 0.001, LAT0 + 0.0019)}  # fmt: skip

    def case(g, filed, closed=None, status="closed", **kw):
        return Problem.objects.create(
            geom=where[g], category=category, grid=g, community=g.community if g else c1,
            reported_at=kw.pop("reported_at", filed), filed_at=filed, closed_at=closed, status=status,
            closed_on_time=kw.pop("on_time", None if closed is None else True), **kw,
        )  # fmt: skip

    p = {}
    p[1] = case(ga, at(3, 2, 8), at(3, 3, 8), department=dx, handled_by=h1, description="=HYPERLINK(1)")
    p[2] = case(ga, at(3, 5), at(3, 7), on_time=False, rework_count=1, extension_count=1, department=dx,
                handled_by=h1, description="+1 @SUM -2")  # fmt: skip
    p[3] = case(ga, at(3, 10), at(3, 14), rework_count=2, department=dx, handled_by=h2)
    p[4] = case(ga, at(3, 31, 23), at(4, 1, 1))
    p[5] = case(ga, at(2, 28, 12), at(3, 1))
    p[6] = case(ga, at(3, 15), status="dispatched", deadline=at(3, 18))
    p[7] = case(ga, at(3, 16), status="dispatched", deadline=at(4, 5))
    p[8] = case(ga, at(3, 4), status="duplicate")
    p[9] = case(ga, at(3, 20), at(4, 1))
    p[10] = case(gb, at(3, 3), at(3, 4), department=dy, handled_by=h2)
    p[11] = case(gb, at(3, 6), at(3, 8), on_time=False, department=dy, handled_by=h2)
    p[12] = case(gb, None, status="reported", reported_at=at(3, 20), recurrence_of=p[1])
    p[13] = case(None, at(3, 12), at(3, 13))
    p[14] = case(gc, at(3, 5), status="dispatched")
    return {"c1": c1, "c2": c2, "ga": ga, "gb": gb, "gc": gc, "leader_a": leader_a, "leader_b": leader_b,
            "dx": dx, "dy": dy, "h1": h1, "h2": h2, "p": p, "category": category}  # fmt: skip


MARCH_QUERY = {"start": "2024-03-01", "end": "2024-04-01"}


@pytest.fixture
def admin(town):
    return user("boss", Role.ADMIN)


def signed_in(client, who):
    client.force_login(who)
    return client
