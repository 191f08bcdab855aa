"""A plausible, deterministic closed-loop history for the demo town's imported problems.

The fixture gives each problem only a status; the loop's timestamps, departments, inspectors,
rework and extensions (and the audit events behind them) are derived here from a random
generator seeded by the problem's key, so every load gives the same history. The intake wrote
each problem's ``report`` event; problems with any later event are left alone, so loading again
changes nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from gridmap.accounts.models import Department, Profile, Role
from gridmap.problems.models import Problem, ProblemEvent, Status

S = Status
# The step each status implies, in order; a closed case went through all of them.
PATH = {
    S.REPORTED: [],
    S.REJECTED: ["reject"],
    S.FILED: ["file"],
    S.DISPATCHED: ["file", "dispatch"],
    S.HANDLED: ["file", "dispatch", "handle"],
    S.CLOSED: ["file", "dispatch", "handle", "verify_pass"],
}


def _hours(rng: random.Random, lo: float, hi: float) -> timedelta:
    return timedelta(hours=rng.uniform(lo, hi))


class _Staff:
    def __init__(self) -> None:
        self.departments = {
            c: d for d in Department.objects.prefetch_related("categories") for c in d.categories.all()
        }
        self.handlers = {p.department_id: p.user_id for p in Profile.objects.filter(role=Role.DEPARTMENT)}
        self.inspectors = {
            community: p.user_id
            for p in Profile.objects.filter(role=Role.INSPECTOR).prefetch_related("patrol_communities")
            for community in p.patrol_communities.all()
        }
        self.heads = {p.community_id: p.user_id for p in Profile.objects.filter(role=Role.COMMUNITY_HEAD)}


def _history(p: Problem, staff: _Staff, rng: random.Random) -> list[ProblemEvent]:
    events: list[ProblemEvent] = []
    at: datetime = p.reported_at
    lead = p.grid.first_responsible_id if p.grid_id else staff.heads.get(p.community_id)
    status = S.REPORTED
    for action in PATH[p.status]:
        actor = lead
        if action in ("file", "reject"):
            at += _hours(rng, 0.3, 8)
            p.filed_at = at if action == "file" else None
            new = S.FILED if action == "file" else S.REJECTED
        elif action == "dispatch":
            at += _hours(rng, 0.2, 4)
            department = staff.departments.get(p.category)
            p.department, p.dispatched_at = department, at
            p.deadline = at + timedelta(hours=p.category.deadline_hours)
            p.inspector_id = staff.inspectors.get(p.community_id)
            if rng.random() < 0.06:  # an approved extension
                p.extension_count = 1
                p.deadline += timedelta(hours=48)
            new = S.DISPATCHED
        elif action == "handle":
            at += _hours(rng, 1, p.category.deadline_hours * (1.4 if rng.random() < 0.15 else 0.8))
            actor = staff.handlers.get(p.department.pk) if p.department else lead
            p.handled_at, p.handled_by_id = at, actor
            p.rework_count = 1 if rng.random() < 0.08 else 0
            new = S.HANDLED
        else:  # verify_pass
            at += _hours(rng, 1, 30)
            actor = p.inspector_id or staff.heads.get(p.community_id)
            p.closed_at = at
            p.closed_on_time = p.deadline is None or at <= p.deadline
            p.lookback_due = timezone.localdate(at) + timedelta(days=p.category.lookback_days)
            new = S.CLOSED
        events.append(
            ProblemEvent(problem=p, action=action, from_status=status, to_status=new, actor_id=actor, at=at)
        )
        status = new
    return events


@transaction.atomic
def demo_history_fill() -> int:
    """Fill the loop fields and events of demo problems that have none yet; returns how many."""
    steps = {action for path in PATH.values() for action in path}
    todo = list(
        Problem.objects.filter(source_key__startswith="demo:")
        .exclude(status=S.REPORTED)
        .exclude(events__action__in=steps)
        .select_related("category", "grid")
        .order_by("pk")
    )
    if not todo:
        return 0
    staff = _Staff()
    events: list[ProblemEvent] = []
    for p in todo:
        events += _history(p, staff, random.Random(p.source_key))
    fields = ["filed_at", "department", "dispatched_at", "deadline", "inspector", "extension_count", "handled_at",
              "handled_by", "rework_count", "closed_at", "closed_on_time", "lookback_due"]  # fmt: skip
    _update_rows(todo, fields)
    ProblemEvent.objects.bulk_create(events, batch_size=1000)
    return len(todo)


def _update_rows(rows: list[Problem], names: list[str]) -> None:
    """One parameterised UPDATE run for many rows: Django's bulk_update builds a CASE per field
    and row, which took 8 s for the demo's 3,300 problems; executemany takes a fraction of that."""
    fields = [Problem._meta.get_field(n) for n in names]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(Problem._meta.db_table)} SET {sets} WHERE {quote('id')} = %s"
    params = [[f.get_db_prep_save(getattr(r, f.attname), connection) for f in fields] + [r.pk] for r in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
