"""What of the campaign a user may see: the one scoping every campaign page, map and export uses.

Deny by default. Administrators and planners: every point. A community head: their community's
points. A grid leader: the points in their grids. A department: the points it answers for (条).
An inspector: the points of the communities they patrol and those a round gave them. Results
(visits, answers, findings) follow their points.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from gridmap.accounts.models import Profile, Role
from gridmap.accounts.selectors import CITY_WIDE_ROLES, role_of
from gridmap.campaign.models import Finding, InspectionPoint, Round, RoundPoint
from gridmap.geography.models import Grid

MANAGERS = frozenset({Role.ADMIN})  # who runs rounds and edits checklists: the campaign office (创城办)


def points_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[InspectionPoint]:
    role = role_of(user)
    points = InspectionPoint.objects.all()
    if role in CITY_WIDE_ROLES:
        return points
    profile = getattr(user, "profile", None)
    if role == Role.COMMUNITY_HEAD and profile.community_id:
        return points.filter(community_id=profile.community_id)
    if role == Role.GRID_LEADER:
        led = Grid.objects.filter(Q(first_responsible=user) | Q(direct_responsible=user)).values_list(
            "pk", flat=True
        )
        return points.filter(grid_id__in=sorted(set(led)))
    if role == Role.DEPARTMENT and profile.department_id:
        return points.filter(department_id=profile.department_id)
    if role == Role.INSPECTOR:
        patrolled = Profile.patrol_communities.through.objects.filter(profile=profile)
        communities = list(patrolled.values_list("community_id", flat=True))
        given = RoundPoint.objects.filter(inspector=user).values_list("point_id", flat=True)
        return points.filter(Q(community_id__in=communities) | Q(pk__in=sorted(set(given))))
    return points.none()


def visits_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[RoundPoint]:
    return RoundPoint.objects.filter(point__in=points_visible_to(user).values("pk"))


def findings_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Finding]:
    return Finding.objects.filter(point__in=points_visible_to(user).values("pk"))


def rounds_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Round]:
    """Rounds that visited a point ``user`` may see (every round for the campaign office)."""
    if role_of(user) in CITY_WIDE_ROLES:
        return Round.objects.all()
    return Round.objects.filter(pk__in=visits_visible_to(user).values("round_id"))


def may_manage(user: AbstractBaseUser | AnonymousUser) -> bool:
    return role_of(user) in MANAGERS


def visits_to_score(user: AbstractBaseUser | AnonymousUser, round_: Round) -> QuerySet[RoundPoint]:
    """The visits of ``round_`` ``user`` scores: their own (the office may score any)."""
    visits = round_.visits.select_related("point", "point__type")
    return visits if may_manage(user) else visits.filter(inspector=user)
