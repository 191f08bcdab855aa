"""Stops of a route ticked off as visited: kept per user, day and problem (``RouteVisit``).

A tick is allowed only on a stop of the user's own route today: a problem of their role's scope
(``problems_in_role_scope``, the selector that authorizes every output) that is open or due for
a look-back (``stop_filter``). Anything else is "no such stop" (the caller answers 404), so a
tick never tells whether a problem outside the scope exists. Ticking twice keeps the first time;
unticking what is not ticked changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from gridmap.analysis.models import RouteVisit
from gridmap.analysis.routes import stop_filter
from gridmap.problems.selectors import problems_in_role_scope

__all__ = ["NotAStop", "route_visit_set", "visited_ids"]


class NotAStop(LookupError):
    """The problem is not a stop of this user's route today."""


def visited_ids(user: Any, *, day: date | None = None) -> set[int]:
    """The problems ``user`` ticked off as visited on ``day`` (today by default)."""
    day = day or timezone.localdate()
    return set(RouteVisit.objects.filter(user=user, day=day).values_list("problem_id", flat=True))


def route_visit_set(*, user: Any, problem_id: int, visited: bool) -> bool:
    """Tick (``visited``) or untick the stop ``problem_id`` of the user's route today; returns
    whether it is ticked now. NotAStop when it is not one of the user's stops."""
    today = timezone.localdate()
    stops = problems_in_role_scope(user).filter(stop_filter(today))
    if not stops.filter(pk=problem_id).exists():
        raise NotAStop(problem_id)
    if not visited:
        RouteVisit.objects.filter(user=user, day=today, problem_id=problem_id).delete()
        return False
    try:
        with transaction.atomic():
            RouteVisit.objects.get_or_create(
                user=user, day=today, problem_id=problem_id, defaults={"visited_at": timezone.now()}
            )
    except IntegrityError:  # the same tick from another tab in the same instant: it is there
        pass
    return True
