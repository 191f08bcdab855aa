"""Who may see what. Deny by default: a user with no profile sees nothing but their own reports."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from gridmap.accounts.models import Role

CITY_WIDE_ROLES = {Role.ADMIN, Role.PLANNER}


def role_of(user: AbstractBaseUser | AnonymousUser) -> str | None:
    """The campaign role of ``user``; superusers count as administrators."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    profile = getattr(user, "profile", None)
    return profile.role if profile else None
