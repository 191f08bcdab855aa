"""Reads of areas: point location and what a user may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.geos import Point
from django.db.models import Q, QuerySet

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import CITY_WIDE_ROLES, role_of
from gridmap.geography.models import Building, Community, Grid, Street


def grid_for_point(point: Point) -> Grid | None:
    """The grid holding ``point``; on a shared edge the smallest code wins (as layers.assign)."""
    # intersects (not contains) so a point on a boundary belongs somewhere; both backends use a
    # spatial index for it.
    return (
        Grid.objects.filter(geom__intersects=point)
        .order_by("code")
        .only("pk", "code", "community_id")
        .first()
    )


def community_for_point(point: Point) -> Community | None:
    return Community.objects.filter(geom__intersects=point).order_by("code").only("pk", "code").first()


def grids_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Grid]:
    """Grids ``user`` may see: all for city-wide roles, inspectors and departments (they work
    across areas), their community's for a community head, their own for a grid leader."""
    role = role_of(user)
    grids = Grid.objects.select_related("community", "first_responsible__profile")
    if role in CITY_WIDE_ROLES or role in {Role.INSPECTOR, Role.DEPARTMENT}:
        return grids
    if role == Role.COMMUNITY_HEAD:
        return grids.filter(community_id=user.profile.community_id)
    if role == Role.GRID_LEADER:
        # pk__in, not a join + distinct(): no DISTINCT over every column (boundaries included),
        # and counts annotated on the result see each grid once.
        led = Grid.objects.filter(Q(first_responsible=user) | Q(direct_responsible=user)).values("pk")
        return grids.filter(pk__in=led)
    return grids.none()


def grid_outlines_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Grid]:
    """Grids whose outline (code, name and shape: no people, no figures) a map may draw for
    ``user`` as a reference: those they may see, or every grid for a user who sees none (a
    reporter placing a problem needs to see which grid a place lies in)."""
    visible = grids_visible_to(user)
    return visible if visible.exists() else Grid.objects.all()


def buildings_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Building]:
    """Buildings in the grids ``user`` may see (all of them for city-wide roles)."""
    role = role_of(user)
    if role in CITY_WIDE_ROLES or role in {Role.INSPECTOR, Role.DEPARTMENT}:
        return Building.objects.all()
    if role == Role.COMMUNITY_HEAD:
        return Building.objects.filter(community_id=user.profile.community_id)
    return Building.objects.filter(grid__in=grids_visible_to(user).values("pk"))


def communities_followed_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Community]:
    """The communities ``user`` follows (the ten steps, surveys): every one for city-wide roles,
    a head's own, the communities of a grid leader's grids, those an inspector patrols."""
    if not getattr(user, "is_authenticated", False):
        return Community.objects.none()
    role = role_of(user)
    if role in CITY_WIDE_ROLES:
        return Community.objects.order_by("code")
    if role == Role.COMMUNITY_HEAD:
        return Community.objects.filter(pk=user.profile.community_id)
    if role == Role.GRID_LEADER:
        led = Grid.objects.filter(Q(first_responsible=user) | Q(direct_responsible=user)).values(
            "community_id"
        )
        return Community.objects.filter(pk__in=led).order_by("code")
    if role == Role.INSPECTOR:
        return Community.objects.filter(pk__in=user.profile.patrol_communities.values("pk")).order_by("code")
    return Community.objects.none()


def streets_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Street]:
    """Street centrelines: the walkable network is the city's, not an area's, so anyone who may
    see a grid sees all of it; anyone else none."""
    return Street.objects.all() if grids_visible_to(user).exists() else Street.objects.none()
