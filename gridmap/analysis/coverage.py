"""Coverage services: the layers.coverage* rules run on what a user may see.

Which rule a kind runs (``rule_for``): ``crossings`` for curb ramps, ``tactile`` for tactile
paving, ``parking`` for car parks, ``radius`` for a kind with a service radius (or when a
radius is passed), else ``spacing`` for a kind with a maximum spacing. The numbers come from
FacilityKind (service_radius_m, max_spacing_m) and from ``settings.GRIDMAP_COVERAGE`` (a dict
overriding :data:`DEFAULTS`); arguments override both.

Scope: buildings and problems come from the selectors (``buildings_visible_to``,
``problems_visible_to``), so a grid leader's coverage is that of their buildings; the facilities
measured against are every facility of the kind, wherever it stands (one across the grid's edge
serves it too); streets are base geography and are not scoped. Findings along
streets (spacing gaps, crossings, tactile defects) are kept where they touch the grids in
scope when the user is not city-wide or a grid is chosen. A command-line run uses an
administrator's scope (:func:`cli_user`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, QuerySet

from gridmap.accounts.selectors import CITY_WIDE_ROLES, role_of
from gridmap.analysis.network_cache import street_network
from gridmap.core.gdf import to_gdf
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Grid
from gridmap.geography.selectors import buildings_visible_to, grids_visible_to
from gridmap.problems.models import OPEN_STATUSES
from gridmap.problems.selectors import problems_visible_to
from layers.coverage import (
    BIN_SPACING_M,
    METRICS,
    accessible_parking,
    building_coverage,
    curb_ramp_gaps,
    gap_table,
    spacing_gaps,
    tactile_defects,
    uncovered_area,
)

User = AbstractBaseUser | AnonymousUser
RULES = ("radius", "spacing", "crossings", "tactile", "parking")

DEFAULTS: dict[str, Any] = {
    "rule_by_kind": {
        "curb_ramp": "crossings",
        "tactile_paving": "tactile",
        "car_park": "parking",
        "car_park_point": "parking",
    },  # fmt: skip
    "spacing_by_class": {"litter_bin": dict(BIN_SPACING_M)},  # kind -> {road class: max m}
    # the buildings a radius rule serves (kind -> uses); other kinds serve every building
    "building_uses_by_kind": {"refuse_point": ["residential"], "toilet": ["commercial", "public"]},
    "spacing_snap_m": 20.0,
    "curb_ramp_within_m": 20.0,
    "tactile_max_gap_m": 5.0,
    "tactile_defect_conditions": ["broken", "blocked"],
    "tactile_problem_categories": ["0303"],
    "tactile_problem_within_m": 10.0,
    "parking_share": 0.02,
    "parking_min_spaces": 2,
    "parking_min_spaces_from_capacity": 50,
}


class CoverageError(ValueError):
    """Bad input for a coverage run (unknown kind or grid, a rule the kind cannot run)."""


@dataclass
class CoverageResult:
    """A coverage run: ``items`` per building (radius) or per finding (other rules), EPSG:4326."""

    kind: str
    rule: str
    metric: str | None
    limit_m: float | dict[str, float] | None  # the radius or the spacing rule
    items: gpd.GeoDataFrame
    grids: pd.DataFrame | None = None  # the per-grid gap table (radius rule)
    summary: dict[str, Any] = field(default_factory=dict)


def coverage_settings() -> dict[str, Any]:
    return {**DEFAULTS, **getattr(settings, "GRIDMAP_COVERAGE", {})}


def cli_user() -> AbstractBaseUser:
    """An unsaved superuser: the administrator's scope for command-line runs."""
    return get_user_model()(username="coverage-cli", is_superuser=True, is_staff=True)


def rule_for(kind: FacilityKind, *, radius_m: float | None = None) -> str | None:
    by_kind = coverage_settings()["rule_by_kind"]
    if kind.code in by_kind:
        return str(by_kind[kind.code])
    if radius_m is not None or kind.service_radius_m is not None:
        return "radius"
    if kind.max_spacing_m is not None or kind.code in coverage_settings()["spacing_by_class"]:
        return "spacing"
    return None


def _label(frame: pd.DataFrame) -> np.ndarray:
    """source_key where set, else the primary key, as text."""
    keys = frame["source_key"].to_numpy(dtype=object)
    pks = frame["pk"].astype(str).to_numpy(dtype=object)
    return np.where(pd.isna(keys) | (keys == ""), pks, keys)


def _scope(user: User, grid: str | None) -> tuple[QuerySet[Grid], bool]:
    """Grids in scope and whether findings must be clipped to them."""
    grids = grids_visible_to(user)
    if grid is not None:
        grids = grids.filter(code=grid)
        if not grids.exists():
            raise CoverageError(f"no grid {grid!r} (or not visible to you)")
        return grids, True
    return grids, role_of(user) not in CITY_WIDE_ROLES


def _clip(items: gpd.GeoDataFrame, grids: QuerySet[Grid]) -> gpd.GeoDataFrame:
    area = shapely.union_all(to_gdf(grids, ["code"]).geometry.to_numpy())
    return items[items.intersects(area)].reset_index(drop=True)


def facilities_frame(kind: FacilityKind, exclude: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Every facility of ``kind``, wherever it stands: a hydrant or bin across a grid's edge serves
    that grid's buildings and streets as well, so coverage is measured against all of them (as the
    leader map's analysis does). What a run reports stays in the user's scope."""
    qs = Facility.objects.filter(kind=kind).exclude(condition__in=exclude).order_by("pk")
    frame = to_gdf(qs, ["pk", "source_key", "name", "condition", "capacity", "accessible_spaces"])
    frame.insert(0, "id", _label(frame))
    return frame


def coverage_run(
    *,
    user: User,
    kind: str,
    metric: str = "straight",
    radius_m: float | None = None,
    spacing_m: float | None = None,
    grid: str | None = None,
    rule: str | None = None,
    exclude_conditions: tuple[str, ...] = (),
    building_uses: tuple[str, ...] | None = None,
    both_metrics: bool = False,
) -> CoverageResult:
    """Run the coverage rule of facility kind ``kind`` for ``user``.

    Parameters
    ----------
    kind : str
        FacilityKind code.
    metric : "straight" or "network"
        Decides ``covered`` in the per-building result (radius rule); "network" (or
        ``both_metrics``, when the town has streets) has both metrics in the columns and the gap
        table, "straight" the straight line only: snapping every building to the streets takes
        seconds in a city.
    radius_m, spacing_m : float, optional
        Override the kind's service radius / maximum spacing (metres).
    grid : str, optional
        Limit to one grid (its code); it must be visible to ``user``.
    rule : str, optional
        One of :data:`RULES`; default :func:`rule_for`.
    exclude_conditions : tuple of str
        Facilities in these conditions do not count (e.g. ``("missing", "broken")``).
    building_uses : tuple of str, optional
        Radius rule: only buildings of these uses (default: ``building_uses_by_kind``, else all).
    """
    if metric not in METRICS:
        raise CoverageError(f"metric must be one of {', '.join(METRICS)}")
    found = FacilityKind.objects.filter(code=kind).first()
    if found is None:
        known = ", ".join(FacilityKind.objects.values_list("code", flat=True))
        raise CoverageError(f"unknown facility kind {kind!r}; known: {known}")
    chosen = rule or rule_for(found, radius_m=radius_m)
    if chosen not in RULES:
        raise CoverageError(f"kind {kind!r} has no coverage rule; pass --radius-m or --rule")
    grids, clip = _scope(user, grid)
    if chosen == "radius":
        uses = (
            building_uses
            if building_uses is not None
            else coverage_settings()["building_uses_by_kind"].get(kind)
        )
        walk = metric == "network" or both_metrics
        return _radius(user, found, metric, radius_m, grid, exclude_conditions, tuple(uses or ()), walk)
    if chosen == "spacing":
        result = _spacing(user, found, spacing_m, exclude_conditions)
    elif chosen == "crossings":
        result = _crossings(user, found)
    elif chosen == "tactile":
        result = _tactile(user, found)
    else:
        result = _parking(user, found)
    if clip and len(result.items):
        result.items = _clip(result.items, grids)
    result.summary = {"findings": int(len(result.items)), **result.summary}
    if chosen == "parking":
        result.summary["non_compliant"] = int((result.items["compliant"] == False).sum())  # noqa: E712
    return result


def _radius(
    user: User,
    kind: FacilityKind,
    metric: str,
    radius_m: float | None,
    grid: str | None,
    exclude: tuple[str, ...],
    uses: tuple[str, ...],
    walk: bool,
) -> CoverageResult:
    radius = radius_m if radius_m is not None else kind.service_radius_m
    if radius is None:
        raise CoverageError(f"kind {kind.code!r} has no service radius; pass --radius-m")
    buildings = buildings_visible_to(user).order_by("pk")
    if grid is not None:
        buildings = buildings.filter(grid__code=grid)
    if uses:
        buildings = buildings.filter(use__in=uses)
    frame = to_gdf(
        buildings.annotate(grid_code=F("grid__code")),
        ["pk", "source_key", "address", "use", "households", "grid_code"],
    )
    frame.insert(0, "id", _label(frame))
    frame = frame.drop(columns=["pk", "source_key"]).rename(columns={"grid_code": "grid"})
    # only the walking metric needs the network: snapping every building costs seconds in a city
    net = street_network().network if walk else None
    if metric == "network" and net is None:
        raise CoverageError("the network metric needs streets; import some first")
    items = building_coverage(frame, facilities_frame(kind, exclude), radius_m=float(radius), net=net)
    items["covered"] = items[f"{metric}_covered"]
    table = gap_table(items)
    summary: dict[str, Any] = {
        "buildings": int(len(items)),
        "building_uses": list(uses) or "all",
        "households": int(items["households"].sum()),
    }
    for m in METRICS:
        if f"{m}_covered" in items:
            summary[f"uncovered_{m}"] = int((~items[f"{m}_covered"]).sum())
            hh = items["households"].sum()
            summary[f"household_share_{m}"] = (
                float(items.loc[items[f"{m}_covered"], "households"].sum() / hh) if hh else None
            )
    return CoverageResult(kind.code, "radius", metric, float(radius), items, table, summary)


def _streets() -> gpd.GeoDataFrame:
    frame = street_network().streets.copy()
    frame["label"] = _label(frame.rename(columns={"id": "pk"}))
    return frame


def _spacing(
    user: User, kind: FacilityKind, spacing_m: float | None, exclude: tuple[str, ...]
) -> CoverageResult:
    cfg = coverage_settings()
    rule: float | dict[str, float] | None = spacing_m
    if rule is None:
        rule = cfg["spacing_by_class"].get(kind.code) or kind.max_spacing_m
    if rule is None:
        raise CoverageError(f"kind {kind.code!r} has no maximum spacing; pass --spacing-m")
    streets = _streets()
    items = spacing_gaps(
        streets,
        facilities_frame(kind, exclude),
        max_spacing_m=rule,
        snap_m=float(cfg["spacing_snap_m"]),
        street_id_col="label",
    )
    return CoverageResult(kind.code, "spacing", None, rule, items)


def _crossings(user: User, kind: FacilityKind) -> CoverageResult:
    cached = street_network()
    if cached.network is None:
        raise CoverageError("the crossing check needs streets; import some first")
    within = float(coverage_settings()["curb_ramp_within_m"])
    items = curb_ramp_gaps(cached.streets, facilities_frame(kind), within_m=within, net=cached.network)
    return CoverageResult(kind.code, "crossings", None, within, items)


def _tactile(user: User, kind: FacilityKind) -> CoverageResult:
    cfg = coverage_settings()
    cached = street_network()
    if cached.network is None:
        raise CoverageError("the tactile-paving check needs streets; import some first")
    problems = problems_visible_to(user).filter(
        category__code__in=cfg["tactile_problem_categories"], status__in=OPEN_STATUSES
    )
    items = tactile_defects(
        cached.streets,
        facilities_frame(kind),
        to_gdf(problems.order_by("pk"), ["pk"]),
        max_gap_m=float(cfg["tactile_max_gap_m"]),
        defect_conditions=tuple(cfg["tactile_defect_conditions"]),
        problem_within_m=float(cfg["tactile_problem_within_m"]),
        net=cached.network,
    )
    return CoverageResult(kind.code, "tactile", None, float(cfg["tactile_max_gap_m"]), items)


def _parking(user: User, kind: FacilityKind) -> CoverageResult:
    cfg = coverage_settings()
    parks = facilities_frame(kind).drop(columns=["pk", "source_key"])
    items = accessible_parking(
        parks,
        share=float(cfg["parking_share"]),
        min_spaces=int(cfg["parking_min_spaces"]),
        min_spaces_from_capacity=int(cfg["parking_min_spaces_from_capacity"]),
    )
    return CoverageResult(kind.code, "parking", None, None, items)


def coverage_area(
    *, user: User, kind: str, metric: str = "straight", radius_m: float | None = None, grid: str | None = None
) -> gpd.GeoDataFrame:
    """The uncovered part of every grid in scope (see layers.coverage.area for the method)."""
    found = FacilityKind.objects.filter(code=kind).first()
    if found is None:
        raise CoverageError(f"unknown facility kind {kind!r}")
    radius = radius_m if radius_m is not None else found.service_radius_m
    if radius is None:
        raise CoverageError(f"kind {kind!r} has no service radius; pass --radius-m")
    grids, _ = _scope(user, grid)
    net = street_network().network if metric == "network" else None
    if metric == "network" and net is None:
        raise CoverageError("the network metric needs streets; import some first")
    facilities = facilities_frame(found)
    return uncovered_area(
        to_gdf(grids.order_by("code"), ["code"]), facilities, radius_m=float(radius), metric=metric, net=net
    )


__all__ = [
    "DEFAULTS",
    "RULES",
    "CoverageError",
    "CoverageResult",
    "cli_user",
    "coverage_area",
    "coverage_settings",
    "facilities_frame",
    "coverage_run",
    "rule_for",
]
