"""Reading the coverage sets (``gridmap.analysis.models``) for a user: never computing them.

:func:`coverage_state` tells whether the sets behind a user's scope are fresh (their stamps
equal the current ones), being updated (some stale or missing: the stored rows are shown, "as of"
their time) or not computed at all; in the last two cases it asks for a refresh
(:func:`request_refresh`), which runs off the request (``gridmap.core.jobs``). At most one
refresh is asked for at a time: the request leaves a mark in the shared cache that the task
clears when it starts, and that expires if no task ever starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import CITY_WIDE_ROLES, role_of
from gridmap.analysis.models import BuildingCoverage, CoverageSet, GridCoverage
from gridmap.analysis.precompute import WHOLE_KINDS, current_stamps, towns
from gridmap.core.jobs import dispatch
from gridmap.core.stamps import stamps_of
from gridmap.facilities.models import FacilityKind
from gridmap.geography.selectors import buildings_visible_to, grids_visible_to
from layers.io import iso_time

User = AbstractBaseUser | AnonymousUser
REFRESH_TASK = "analysis.refresh_coverage"
QUEUED_KEY = "gridmap:analysis:refresh-queued"
QUEUED_S = 120  # a refresh asked for and never started is asked for again after this
FRESH, UPDATING, COMPUTING = "fresh", "updating", "computing"


@dataclass(frozen=True)
class CoverageState:
    """The sets of one kind behind a scope and whether they are current."""

    kind: FacilityKind
    sets: list[CoverageSet] = field(default_factory=list)
    state: str = COMPUTING
    as_of: datetime | None = None  # the oldest set's computation time

    @property
    def set_ids(self) -> list[int]:
        return [s.pk for s in self.sets]

    @property
    def version(self) -> str:
        """Names these rows for a cache key (a refresh makes new set ids)."""
        return ".".join(str(i) for i in self.set_ids) or "none"

    def as_json(self) -> dict[str, Any]:
        return {"state": self.state, "as_of": iso_time(self.as_of) if self.as_of else None}


def request_refresh() -> bool:
    """Ask for a refresh of the stale sets unless one is already asked for; True when asked."""
    if not cache.add(QUEUED_KEY, 1, QUEUED_S):
        return False
    dispatch(REFRESH_TASK)
    return True


def refresh_started() -> None:
    cache.delete(QUEUED_KEY)


def towns_in_scope(user: User) -> list[int]:
    """The towns whose sets a user's figures come from."""
    if role_of(user) in CITY_WIDE_ROLES or role_of(user) in {Role.INSPECTOR, Role.DEPARTMENT}:
        return towns()
    found = set(grids_visible_to(user).values_list("community__subdistrict_id", flat=True).distinct())
    profile = getattr(user, "profile", None)
    if role_of(user) == Role.COMMUNITY_HEAD and getattr(profile, "community", None) is not None:
        found.add(profile.community.subdistrict_id)
    return sorted(found)


def coverage_state(user: User, kind: FacilityKind, *, refresh: bool = True) -> CoverageState:
    """The stored sets of ``kind`` for ``user``'s scope and their state (asking for a refresh
    when they are not all current, unless ``refresh`` is false)."""
    wanted = towns_in_scope(user)
    sets = list(CoverageSet.objects.filter(kind=kind, town__in=wanted).order_by("town"))
    whole = stamps_of(WHOLE_KINDS)
    current = all(s.stamps == current_stamps(kind, s.town, whole) for s in sets)  # a query per town
    if not sets:
        state = COMPUTING
    elif current and len(sets) == len(wanted):
        state = FRESH
    else:
        state = UPDATING
    if state != FRESH and refresh:
        request_refresh()
    as_of = min((s.computed_at for s in sets), default=None)
    return CoverageState(kind, sets, state, as_of)


def building_rows(
    state: CoverageState,
    user: User,
    *,
    grid: str | None = None,
    bbox: Any = None,
    uncovered: tuple[str, float] | None = None,
) -> QuerySet[BuildingCoverage]:
    """The stored per-building rows in ``user``'s scope (of ``grid``, touching ``bbox``), ordered
    by building; ``uncovered=(metric, radius_m)`` keeps those farther than the radius by it."""
    rows = BuildingCoverage.objects.filter(set__in=state.set_ids)
    visible = buildings_visible_to(user)
    if visible.query.where:  # the city-wide scope is every building: no semi-join over all of them
        rows = rows.filter(building__in=visible.values("pk"))
    if grid is not None:
        rows = rows.filter(building__grid__code=grid)
    if bbox is not None:
        rows = rows.filter(building__geom__intersects=bbox)
    if uncovered is not None:
        metric, radius_m = uncovered
        rows = rows.filter(Q(**{f"{metric}_m__isnull": True}) | Q(**{f"{metric}_m__gt": radius_m}))
    return rows.order_by("building_id")


def building_summary(rows: QuerySet[BuildingCoverage], *, radius_m: float, metrics: tuple[str, ...]) -> dict:
    """Counts of ``rows`` as the on-request service summarises a run (buildings, households, and
    per metric the uncovered buildings and the covered share of households)."""
    far = {m: Q(**{f"{m}_m__isnull": True}) | Q(**{f"{m}_m__gt": radius_m}) for m in metrics}
    found = rows.order_by().aggregate(
        buildings=Count("pk"),
        households=Sum("building__households"),
        **{f"uncovered_{m}": Count("pk", filter=far[m]) for m in metrics},
        **{f"uncovered_households_{m}": Sum("building__households", filter=far[m]) for m in metrics},
    )
    households = int(found["households"] or 0)
    summary: dict[str, Any] = {"buildings": found["buildings"], "households": households}
    for m in metrics:
        summary[f"uncovered_{m}"] = found[f"uncovered_{m}"]
        left = int(found[f"uncovered_households_{m}"] or 0)
        summary[f"household_share_{m}"] = (households - left) / households if households else None
    return summary


def grid_rows(
    state: CoverageState, user: User, *, metric: str, grid: str | None = None, bbox: Any = None
) -> QuerySet[GridCoverage]:
    """The stored uncovered areas of the grids in ``user``'s scope (fully covered ones left out)."""
    rows = GridCoverage.objects.filter(
        set__in=state.set_ids, metric=metric, grid__in=grids_visible_to(user).values("pk"), geom__isnull=False
    )
    if grid is not None:
        rows = rows.filter(grid__code=grid)
    if bbox is not None:
        rows = rows.filter(geom__intersects=bbox)
    return rows.order_by("grid__code")
