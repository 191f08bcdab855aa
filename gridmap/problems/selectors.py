"""Reads of problems: what a user may see (the one scoping every output uses), nearby cases, and
the positive-list sites a user may see."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.geos import Point, Polygon
from django.db.models import Q, QuerySet
from django.utils import timezone

from gridmap.accounts.models import Department, Profile, Role
from gridmap.accounts.selectors import CITY_WIDE_ROLES, role_of
from gridmap.geography.models import Grid
from gridmap.geography.selectors import grids_visible_to
from gridmap.problems.models import OPEN_STATUSES, EventCategory, PositiveSite, Problem, Status

METRES_PER_DEGREE_LAT = 111_320.0


def problems_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Problem]:
    """Problems ``user`` may see. Deny by default.

    Administrators and planners: all. Community head: their community (including the
    community-fallback problems with no grid). Grid leader: their grids. Department handler:
    the categories of their department. Inspector: the problems assigned to them and those in
    their patrol communities. Reporter (and anyone else signed in): what they reported.
    """
    role = role_of(user)
    problems = Problem.objects.all()
    if role is None and not user.is_authenticated:
        return problems.none()
    if role in CITY_WIDE_ROLES:
        return problems
    # Everyone signed in sees what they reported themselves (or were merged into), whatever
    # their role's area: a grid leader reporting outside their grid can follow that report.
    co_reported = Problem.co_reporters.through.objects.filter(user=user).values_list("problem_id", flat=True)
    own = Q(reporter=user) | Q(pk__in=list(co_reported))
    return problems.filter(own | _role_scope(user, role))


def problems_in_role_scope(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Problem]:
    """The problems ``user`` may act on through their role: their visible problems minus those
    they only see because they reported them."""
    role = role_of(user)
    if role in CITY_WIDE_ROLES:
        return Problem.objects.all()
    if role is None:
        return Problem.objects.none()
    return Problem.objects.filter(_role_scope(user, role))


def _role_scope(user: AbstractBaseUser, role: str | None) -> Q:
    """The role's part of the scope. Every to-many relation is read first as a list of ids
    (``x_id IN (1, 2, …)``), never joined: a join repeats a problem once per matching row, needs
    a DISTINCT over the whole scope, and made PostgreSQL read every open problem of a city for
    an inspector with an OR across it; and a subquery of ids leaves the planner no estimate (it
    read 434,000 problems of a city to find a grid leader's 566 by the newest first, where a
    list lets it combine the indexes of the few grids)."""
    nothing = Q(pk__in=[])
    profile = getattr(user, "profile", None)
    if role == Role.COMMUNITY_HEAD:
        return Q(community_id=profile.community_id) if profile.community_id else nothing
    if role == Role.GRID_LEADER:
        led = Grid.objects.filter(Q(first_responsible=user) | Q(direct_responsible=user))
        return Q(grid_id__in=sorted(set(led.values_list("pk", flat=True))))
    if role == Role.DEPARTMENT:
        if profile.department_id is None:
            return nothing
        handled = Department.categories.through.objects.filter(department_id=profile.department_id)
        categories = list(handled.values_list("eventcategory_id", flat=True))
        return Q(department_id=profile.department_id) | Q(category_id__in=categories)
    if role == Role.INSPECTOR:
        patrolled = Profile.patrol_communities.through.objects.filter(profile=profile)
        return Q(inspector=user) | Q(community_id__in=list(patrolled.values_list("community_id", flat=True)))
    return nothing


# A scope holding more cases than this is "large": figures over it are computed by the workers,
# not on a request (a department handling most categories sees 829,000 of a city's 1M cases).
LARGE_SCOPE = 100_000


def scope_is_large(user: AbstractBaseUser | AnonymousUser, limit: int | None = None) -> bool:
    """Whether ``user`` may see more than ``limit`` (``LARGE_SCOPE``) cases, counted no further."""
    limit = LARGE_SCOPE if limit is None else limit
    return problems_visible_to(user).order_by()[: limit + 1].count() > limit


def scope_signature(user: AbstractBaseUser | AnonymousUser) -> tuple[Any, ...]:
    """What ``problems_visible_to(user)`` depends on besides the problems themselves, as plain
    values: a result kept for one signature (``gridmap.core.kept``) is right for every user and
    moment with the same signature and the same change stamps. The to-many parts of a role's
    scope are listed (the ids of a leader's grids, a department's categories, an inspector's
    communities): their tables move no stamp of their own."""
    role = role_of(user)
    if role in CITY_WIDE_ROLES:
        return ("city",)
    if not user.is_authenticated:
        return ("nobody",)
    profile = getattr(user, "profile", None)
    parts: tuple[Any, ...] = (user.pk, str(role))  # a Role member and its value are the same role
    if role == Role.COMMUNITY_HEAD:
        parts += (profile.community_id,)
    elif role == Role.GRID_LEADER:
        led = Grid.objects.filter(Q(first_responsible=user) | Q(direct_responsible=user))
        parts += (sorted(set(led.values_list("pk", flat=True))),)
    elif role == Role.DEPARTMENT and profile.department_id is not None:
        handled = Department.categories.through.objects.filter(department_id=profile.department_id)
        parts += (profile.department_id, sorted(handled.values_list("eventcategory_id", flat=True)))
    elif role == Role.INSPECTOR:
        patrolled = Profile.patrol_communities.through.objects.filter(profile=profile)
        parts += (sorted(patrolled.values_list("community_id", flat=True)),)
    return parts


def metre_bounds(x: float, y: float, radius_m: float) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of ``metre_box`` around lon ``x``, lat ``y`` (no GEOS object)."""
    dlat = radius_m / METRES_PER_DEGREE_LAT * 1.1
    dlon = dlat / max(math.cos(math.radians(y)), 0.01)
    return (x - dlon, y - dlat, x + dlon, y + dlat)


def metre_box(point: Point, radius_m: float) -> Polygon:
    """A lon/lat box a little larger than ``radius_m`` around ``point``: a spatial-index prefilter
    before exact distances are measured in metres."""
    box = Polygon.from_bbox(metre_bounds(point.x, point.y, radius_m))
    box.srid = 4326
    return box


def problems_open_nearby(point: Point, category: EventCategory) -> QuerySet[Problem]:
    """Open problems of the same category inside the category's duplicate radius (box prefilter;
    callers measure exact distances)."""
    return Problem.objects.filter(
        category=category,
        status__in=OPEN_STATUSES,
        geom__intersects=metre_box(point, category.duplicate_radius_m),
    )


def problems_closed_recently_nearby(point: Point, category: EventCategory) -> QuerySet[Problem]:
    """Closed problems of the same category near ``point`` within the recurrence window."""
    since = timezone.now() - timezone.timedelta(days=category.recurrence_days)
    return Problem.objects.filter(
        category=category,
        status=Status.CLOSED,
        closed_at__gte=since,
        geom__intersects=metre_box(point, category.recurrence_radius_m),
    )


def positive_sites_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[PositiveSite]:
    """Positive-list sites scoped like grids: all for city-wide roles, inspectors and departments;
    a community head's community; a grid leader's grids; nothing for anyone else."""
    role = role_of(user)
    sites = PositiveSite.objects.all()
    if role in CITY_WIDE_ROLES or role in {Role.INSPECTOR, Role.DEPARTMENT}:
        return sites
    if role == Role.COMMUNITY_HEAD:
        community = user.profile.community_id
        return (
            sites.filter(Q(community_id=community) | Q(grid__community_id=community))
            if community
            else sites.none()
        )
    if role == Role.GRID_LEADER:
        return sites.filter(grid__in=grids_visible_to(user).values("pk"))
    return sites.none()
