"""Reads of problems: what a user may see (the one scoping every output uses) and nearby cases."""

from __future__ import annotations

import math

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.geos import Point, Polygon
from django.db.models import Q, QuerySet
from django.utils import timezone

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import CITY_WIDE_ROLES, role_of
from gridmap.problems.models import OPEN_STATUSES, EventCategory, Problem, Status

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
    if role is None:
        return problems.none()
    if role in CITY_WIDE_ROLES:
        return problems
    profile = user.profile
    if role == Role.COMMUNITY_HEAD:
        return problems.filter(community_id=profile.community_id) if profile.community_id else problems.none()
    if role == Role.GRID_LEADER:
        return problems.filter(Q(grid__first_responsible=user) | Q(grid__direct_responsible=user)).distinct()
    if role == Role.DEPARTMENT:
        if profile.department_id is None:
            return problems.none()
        return problems.filter(
            Q(department_id=profile.department_id) | Q(category__departments=profile.department_id)
        ).distinct()
    if role == Role.INSPECTOR:
        return problems.filter(Q(inspector=user) | Q(community__inspectors=profile)).distinct()
    return problems.filter(Q(reporter=user) | Q(co_reporters=user)).distinct()


def metre_box(point: Point, radius_m: float) -> Polygon:
    """A lon/lat box a little larger than ``radius_m`` around ``point``: a spatial-index prefilter
    before exact distances are measured in metres."""
    dlat = radius_m / METRES_PER_DEGREE_LAT * 1.1
    dlon = dlat / max(math.cos(math.radians(point.y)), 0.01)
    box = Polygon.from_bbox((point.x - dlon, point.y - dlat, point.x + dlon, point.y + dlat))
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
