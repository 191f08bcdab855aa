"""What the planner's map shows per grid, for the grids a user may see.

Definitions (also stated on the page):

- **Coverage share** of a facility kind with a service radius: the share of the buildings the
  kind serves (``GRIDMAP_COVERAGE["building_uses_by_kind"]``, e.g. refuse points serve
  residential buildings; other kinds every building) whose straight-line distance to the nearest
  facility of the kind is within the kind's service radius (``gridmap.analysis.coverage``).
  A grid with no such building has no value ("no data").
- **Problem rate**: problems reported in the period (since a date, local time) that are open or
  closed (rejected and duplicate reports do not count), per 1,000 residents (the buildings'
  ``population``). A grid with no residents has no rate ("no data"); its count is still shown.
- **Uncovered area**: the part of each grid farther than the radius from every facility of the
  kind (``gridmap.analysis.coverage.coverage_area``).

Everything is scoped with the selectors (grids, buildings, facilities, problems visible to the
user). Results are cached for a few minutes under a key holding the scope, the parameters and the
change stamps (``gridmap.core.stamps``) of the kinds they read, so the page and its map document
compute once and any change of those rows — a moved hydrant, a redrawn grid — is seen at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Count, F, Sum
from django.utils import timezone

from gridmap.accounts.selectors import role_of
from gridmap.analysis.coverage import coverage_area, coverage_run, rule_for
from gridmap.core.gdf import to_gdf
from gridmap.core.stamps import stamps_of
from gridmap.facilities.models import FacilityKind
from gridmap.geography.selectors import buildings_visible_to, grids_visible_to
from gridmap.problems.models import OPEN_STATUSES, Problem, Status
from gridmap.problems.selectors import problems_visible_to

User = AbstractBaseUser | AnonymousUser
PERIODS: dict[str, int | None] = {"30d": 30, "90d": 90, "180d": 180, "365d": 365, "all": None}
DEFAULT_PERIOD = "365d"
RATE_STATUSES = (*OPEN_STATUSES, Status.CLOSED)
PER_RESIDENTS = 1000
CACHE_SECONDS = 600
PLANNER_KINDS = ("grids", "buildings", "facilities", "problems")


@dataclass
class PlannerData:
    """Per-grid figures (``grids``, EPSG:4326, ordered by code), uncovered area (``gaps``) and
    the totals of the scope."""

    grids: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    totals: dict[str, Any] = field(default_factory=dict)


def radius_kinds() -> list[FacilityKind]:
    """Facility kinds whose coverage is a service radius (the ones the choropleth can show)."""
    return [k for k in FacilityKind.objects.order_by("class_code") if rule_for(k) == "radius"]


def period_start(period: str, now: datetime | None = None) -> date | None:
    """First day of ``period`` (local midnight starts it); None for all time."""
    days = PERIODS[period]
    if days is None:
        return None
    return timezone.localdate(now or timezone.now()) - timezone.timedelta(days=days)


def _start_dt(start: date | None) -> datetime | None:
    return None if start is None else timezone.make_aware(datetime.combine(start, time()))


def rate_problems(user: User, start: date | None):
    """The problems a rate counts: visible, open or closed, reported since ``start``."""
    qs = Problem.objects.filter(pk__in=problems_visible_to(user).values("pk"), status__in=RATE_STATUSES)
    return qs if start is None else qs.filter(reported_at__gte=_start_dt(start))


def _stamps() -> str | None:
    """The change stamps of every kind the figures read (None: a kind has none, do not cache)."""
    stamps = stamps_of(PLANNER_KINDS)
    return None if None in stamps.values() else ":".join(str(stamps[k]) for k in PLANNER_KINDS)


def _scope_key(user: User) -> str:
    profile = getattr(user, "profile", None)
    return f"{user.pk}:{role_of(user)}:{getattr(profile, 'community_id', None)}"


def planner_data(user: User, kind: FacilityKind | None, start: date | None) -> PlannerData:
    """:func:`compute_planner_data`, cached by scope, parameters and the data's change stamps
    (read first: a change committed while computing makes a new key, never a stale entry)."""
    stamps = _stamps()
    if stamps is None:
        return compute_planner_data(user, kind, start)
    key = f"gridmap:planner:{_scope_key(user)}:{kind.code if kind else ''}:{start}:{stamps}"
    found = cache.get(key)
    if found is None:
        found = compute_planner_data(user, kind, start)
        cache.set(key, found, CACHE_SECONDS)
    return found


def compute_planner_data(user: User, kind: FacilityKind | None, start: date | None) -> PlannerData:
    grids_qs = grids_visible_to(user).annotate(community_name=F("community__name")).order_by("code")
    grids = to_gdf(grids_qs, ["id", "code", "name", "community_name"]).rename(
        columns={"community_name": "community"}
    )
    ids = grids["id"].tolist()
    if kind is not None:
        table = coverage_run(user=user, kind=kind.code, metric="straight").grids
        area = coverage_area(user=user, kind=kind.code, metric="straight")
    else:  # no kind has a service radius: no coverage to show
        table = None
        area = gpd.GeoDataFrame({"code": [], "uncovered_share": []}, geometry=[], crs=4326)
    table = table.set_index("grid") if table is not None else pd.DataFrame()
    served = (
        table.get("buildings", pd.Series(dtype=float)).reindex(grids["code"]).fillna(0).astype(int).to_numpy()
    )
    uncovered = table.get("uncovered_straight", pd.Series(dtype=float)).reindex(grids["code"])
    covered = served - uncovered.fillna(0).astype(int).to_numpy()
    pop = dict(
        buildings_visible_to(user)
        .filter(grid__in=ids)
        .values("grid_id")
        .annotate(p=Sum("population"))
        .values_list("grid_id", "p")
    )
    counts = dict(
        rate_problems(user, start)
        .filter(grid__in=ids)
        .values("grid_id")
        .annotate(n=Count("id"))
        .values_list("grid_id", "n")
    )
    population = grids["id"].map(pop).fillna(0).astype(int).to_numpy()
    problems = grids["id"].map(counts).fillna(0).astype(int).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(served > 0, covered / np.maximum(served, 1), np.nan)
        rate = np.where(population > 0, problems * PER_RESIDENTS / np.maximum(population, 1), np.nan)
    gap_share = area.set_index("code")["uncovered_share"].reindex(grids["code"]).to_numpy(dtype=float)
    grids = grids.assign(
        served=served, covered=covered, coverage=share, population=population, problems=problems,
        rate=rate, uncovered_share=gap_share,
    )  # fmt: skip
    geoms = np.asarray(area.geometry.values)
    gaps = area[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))].reset_index(drop=True)
    total_served, total_pop = int(served.sum()), int(population.sum())
    totals = {
        "grids": len(grids),
        "served": total_served,
        "covered": int(covered.sum()),
        "coverage": (float(covered.sum()) / total_served) if total_served else None,
        "population": total_pop,
        "problems": int(problems.sum()),
        "rate": (float(problems.sum()) * PER_RESIDENTS / total_pop) if total_pop else None,
        "no_residents": int((population == 0).sum()),
    }
    return PlannerData(grids.drop(columns=["id"]), gaps, totals)
