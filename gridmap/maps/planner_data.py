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
  kind.

Coverage and uncovered area are read from the precomputed sets (``gridmap.analysis.models``,
refreshed in the background by ``analysis.refresh_coverage``): nothing is computed on a request.
When the sets behind the scope are stale or missing, the stored rows are shown with their time
(``PlannerData.analysis``) and a refresh is asked for. The rows, the grids and their residents
are cached in the shared cache under a key holding the scope, the kind, the sets read (a refresh
makes new ones) and the change stamps of the grids and buildings; problems are not part of it:
the problem counts are one grouped query per view.

Everything is scoped with the selectors (grids, buildings, facilities, problems visible to the
user).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Count, F, Sum
from django.utils import timezone

from gridmap.accounts.selectors import role_of
from gridmap.analysis.coverage import rule_for
from gridmap.analysis.coverage_rows import CoverageState, coverage_state
from gridmap.analysis.models import GridCoverage
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
COVERAGE_KINDS = ("grids", "buildings")  # besides the sets; not problems: counted per view


@dataclass
class PlannerData:
    """Per-grid figures (``grids``, EPSG:4326, ordered by code), uncovered area (``gaps``) and
    the totals of the scope."""

    grids: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    totals: dict[str, Any] = field(default_factory=dict)
    analysis: CoverageState | None = None  # the sets read and whether they are current


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
    visible = problems_visible_to(user)
    # a scope written with joins is DISTINCT: counted through its ids, each problem once; the
    # city-wide scope is the whole table, counted as it is (no semi-join over a million rows)
    qs = Problem.objects.filter(pk__in=visible.values("pk")) if visible.query.distinct else visible
    qs = qs.filter(status__in=RATE_STATUSES)
    return qs if start is None else qs.filter(reported_at__gte=_start_dt(start))


def _stamps() -> str | None:
    """The change stamps of the rows read besides the sets (None: a kind has none, do not cache)."""
    stamps = stamps_of(COVERAGE_KINDS)
    return None if None in stamps.values() else ":".join(str(stamps[k]) for k in COVERAGE_KINDS)


def _scope_key(user: User) -> str:
    profile = getattr(user, "profile", None)
    return f"{user.pk}:{role_of(user)}:{getattr(profile, 'community_id', None)}"


def planner_data(user: User, kind: FacilityKind | None, start: date | None) -> PlannerData:
    """The figures of ``user``'s grids: coverage from the stored sets (cached), problem counts
    counted now. Never computes coverage (see the module docstring)."""
    state = coverage_state(user, kind) if kind is not None else None
    stamps = _stamps()
    key = f"gridmap:planner:{_scope_key(user)}:{kind.code if kind else ''}:{state.version if state else ''}:{stamps}"
    base = cache.get(key) if stamps is not None else None
    if base is None:
        base = _coverage_part(user, state)
        if stamps is not None:
            cache.set(key, base, CACHE_SECONDS)
    return _with_problems(user, base, start, state)


def compute_planner_data(user: User, kind: FacilityKind | None, start: date | None) -> PlannerData:
    """:func:`planner_data` without the cache (tests compare the two)."""
    state = coverage_state(user, kind, refresh=False) if kind is not None else None
    return _with_problems(user, _coverage_part(user, state), start, state)


def _coverage_part(user: User, state: CoverageState | None) -> PlannerData:
    """Grids in scope with their residents, coverage and uncovered area (no problem counts)."""
    grids_qs = grids_visible_to(user).annotate(community_name=F("community__name")).order_by("code")
    grids = to_gdf(grids_qs, ["id", "code", "name", "community_name"]).rename(
        columns={"community_name": "community"}
    )
    ids = grids["id"].tolist()
    rows = (
        GridCoverage.objects.filter(set__in=state.set_ids, metric="straight", grid__in=ids)
        if state is not None
        else GridCoverage.objects.none()
    )
    table = to_gdf(rows, ["grid_id", "buildings", "uncovered", "uncovered_share"]).set_index("grid_id")
    served = grids["id"].map(table["buildings"]).fillna(0).astype(int).to_numpy()
    covered = served - grids["id"].map(table["uncovered"]).fillna(0).astype(int).to_numpy()
    gap_share = grids["id"].map(table["uncovered_share"]).to_numpy(dtype=float)
    pop = dict(
        buildings_visible_to(user)
        .filter(grid__in=ids)
        .values("grid_id")
        .annotate(p=Sum("population"))
        .values_list("grid_id", "p")
    )
    population = grids["id"].map(pop).fillna(0).astype(int).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(served > 0, covered / np.maximum(served, 1), np.nan)
    grids = grids.assign(served=served, covered=covered, coverage=share, population=population,
                         uncovered_share=gap_share)  # fmt: skip
    geoms = np.asarray(table.geometry.values)
    found = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    codes = dict(zip(grids["id"], grids["code"], strict=True))
    gaps = (
        gpd.GeoDataFrame(
            {
                "code": [codes[i] for i in table.index[found]],
                "uncovered_share": table["uncovered_share"][found],
            },
            geometry=gpd.GeoSeries(geoms[found], crs=4326),
            crs=4326,
        )
        .sort_values("code")
        .reset_index(drop=True)
    )
    return PlannerData(grids, gaps)


def _with_problems(
    user: User, base: PlannerData, start: date | None, state: CoverageState | None
) -> PlannerData:
    grids = base.grids
    counts = dict(
        rate_problems(user, start)
        .filter(grid__in=grids["id"].tolist())
        .values("grid_id")
        .annotate(n=Count("id"))
        .values_list("grid_id", "n")
    )
    problems = grids["id"].map(counts).fillna(0).astype(int).to_numpy()
    population = grids["population"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(population > 0, problems * PER_RESIDENTS / np.maximum(population, 1), np.nan)
    grids = grids.assign(problems=problems, rate=rate)
    served, covered = grids["served"].to_numpy(), grids["covered"].to_numpy()
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
    order = ["code", "name", "community", "served", "covered", "coverage", "population", "problems",
             "rate", "uncovered_share", "geometry"]  # fmt: skip
    return PlannerData(grids[order], base.gaps, totals, state)
