"""Reads of facilities: what a user may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import CITY_WIDE_ROLES, role_of
from gridmap.facilities.models import Facility
from gridmap.geography.selectors import grids_visible_to


def facilities_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Facility]:
    """Facilities in the grids ``user`` may see; city-wide roles, inspectors and departments see
    all (they plan, patrol and repair across areas). Facilities outside every grid are seen by
    city-wide roles only."""
    role = role_of(user)
    if role in CITY_WIDE_ROLES or role in {Role.INSPECTOR, Role.DEPARTMENT}:
        return Facility.objects.all()
    return Facility.objects.filter(grid__in=grids_visible_to(user).values("pk"))
