"""Siting suggestions: where new facilities of a kind would cover the buildings left uncovered.

The area is one grid or one community; it must be visible to the user. Demand is the
buildings of the area the user may see (``buildings_visible_to``; a building belongs to the
grid/community it was assigned to), existing facilities are every facility of the kind within
the radius of the area, wherever it stands (one across the area's edge already serves it; as in
:mod:`gridmap.analysis.coverage`), and candidates are points along the
walkable streets (the cached town network, noded at crossings) in the area, 1 m of margin
included so that the streets the grid boundaries follow count. See :mod:`layers.siting` for
the optimisation. A command-line run uses an administrator's scope
(:func:`gridmap.analysis.coverage.cli_user`).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.geos import GEOSGeometry
from django.db.models import QuerySet

from gridmap.accounts.selectors import CITY_WIDE_ROLES, role_of
from gridmap.analysis.network_cache import street_network
from gridmap.core.gdf import to_gdf
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Community
from gridmap.geography.selectors import buildings_visible_to, grids_visible_to
from layers.projection import WGS84, metric_crs_for
from layers.siting import (
    METHODS,
    SitingResult,
    siting_problem,
    street_candidates,
    suggest_best,
    suggest_cover_all,
)

User = AbstractBaseUser | AnonymousUser
METRICS = ("straight", "network")


class SitingError(ValueError):
    """Bad input for a siting run (unknown kind or area, no radius, no streets ...)."""


def _label(frame: pd.DataFrame) -> np.ndarray:
    """source_key where set, else the primary key, as text (as the coverage outputs)."""
    keys = frame["source_key"].to_numpy(dtype=object)
    pks = frame["pk"].astype(str).to_numpy(dtype=object)
    return np.where(pd.isna(keys) | (keys == ""), pks, keys)


def _area(
    user: User, grid: str | None, community: str | None
) -> tuple[dict[str, str], Any, QuerySet[Building]]:
    """(description, polygon in EPSG:4326, visible buildings) of the grid or community."""
    if (grid is None) == (community is None):
        raise SitingError("give exactly one of a grid or a community")
    if grid is not None:
        found = grids_visible_to(user).filter(code=grid).first()
        if found is None:
            raise SitingError(f"no grid {grid!r} (or not visible to you)")
        buildings = buildings_visible_to(user).filter(grid=found)
        return {"type": "grid", "code": found.code, "name": found.name}, found.geom, buildings
    place = Community.objects.filter(code=community).exclude(geom=None).first()
    visible = place is not None and (
        role_of(user) in CITY_WIDE_ROLES or grids_visible_to(user).filter(community=place).exists()
    )
    if place is None or not visible:
        raise SitingError(f"no community {community!r} with a boundary (or not visible to you)")
    buildings = buildings_visible_to(user).filter(community=place)
    return {"type": "community", "code": place.code, "name": place.name}, place.geom, buildings


def _near(area_wgs84: shapely.Geometry, reach_m: float) -> GEOSGeometry:
    """The box around ``area`` grown by ``reach_m`` metres, as a GEOS polygon (EPSG:4326)."""
    crs = metric_crs_for(area_wgs84)
    grown = gpd.GeoSeries([area_wgs84], crs=WGS84).to_crs(crs).envelope.buffer(reach_m, join_style="mitre")
    return GEOSGeometry(grown.to_crs(WGS84).envelope.iloc[0].wkb_hex, srid=4326)


def _frame(queryset: QuerySet, fields: list[str]) -> gpd.GeoDataFrame:
    frame = to_gdf(queryset.order_by("pk"), ["pk", "source_key", *fields])
    frame.insert(0, "id", _label(frame))
    return frame.drop(columns=["pk", "source_key"])


def sites_suggest(
    *,
    user: User,
    kind: str,
    grid: str | None = None,
    community: str | None = None,
    best: int | None = None,
    candidate_spacing_m: float = 25.0,
    radius_m: float | None = None,
    metric: str = "straight",
    method: str = "auto",
    time_limit_s: float = 60.0,
    exclude_conditions: tuple[str, ...] = (),
) -> SitingResult:
    """New sites for facility kind ``kind`` in one grid or community, for ``user``.

    Parameters
    ----------
    best : int, optional
        None: the fewest sites covering every coverable uncovered building (set cover);
        a number p >= 0: the p sites covering the most households (maximal covering).
    candidate_spacing_m : float
        Candidates along the streets at most this far apart (metres).
    radius_m : float, optional
        Service radius in metres (default: the kind's ``service_radius_m``).
    metric : "straight" or "network"
    exclude_conditions : facilities in these conditions do not count as existing.

    Returns
    -------
    SitingResult whose ``summary`` also names the kind, the area and the parameters.
    """
    found = FacilityKind.objects.filter(code=kind).first()
    if found is None:
        known = ", ".join(FacilityKind.objects.values_list("code", flat=True))
        raise SitingError(f"unknown facility kind {kind!r}; known: {known}")
    radius = radius_m if radius_m is not None else found.service_radius_m
    if radius is None or not np.isfinite(radius) or radius <= 0:
        raise SitingError(f"kind {kind!r} has no service radius; pass a positive radius in metres")
    if not (np.isfinite(candidate_spacing_m) and candidate_spacing_m > 0):
        raise SitingError("the candidate spacing must be a positive number of metres")
    if metric not in METRICS or method not in METHODS:
        raise SitingError(f"metric must be one of {', '.join(METRICS)}; method one of {', '.join(METHODS)}")
    if best is not None and best < 0:
        raise SitingError("the number of sites must be >= 0")
    info, geom, buildings = _area(user, grid, community)
    area = shapely.from_wkb(bytes(geom.wkb))
    cached = street_network()
    if cached.network is None:
        raise SitingError("no streets to place candidates on; import streets first")
    facilities = Facility.objects.filter(kind=found, geom__intersects=_near(area, float(radius) + 1))
    existing = _frame(facilities.exclude(condition__in=exclude_conditions), ["name", "condition"])
    homes = _frame(buildings, ["address", "households"])
    streets = cached.streets.assign(label=_label(cached.streets.rename(columns={"id": "pk"})))
    candidates = street_candidates(
        streets, spacing_m=candidate_spacing_m, area=area, net=cached.network, street_id_col="label"
    )
    problem = siting_problem(
        homes, existing, candidates, radius_m=float(radius), metric=metric, net=cached.network
    )
    if best is None:
        result = suggest_cover_all(problem, method=method, time_limit_s=time_limit_s)
    else:
        result = suggest_best(problem, best, method=method, time_limit_s=time_limit_s)
    names = dict(zip(streets["label"], streets["name"].fillna(""), strict=True))
    result.sites.insert(
        result.sites.columns.get_loc("street") + 1, "street_name", result.sites["street"].map(names)
    )
    result.summary = {
        "kind": found.code,
        "area": info,
        "candidate_spacing_m": float(candidate_spacing_m),
        "existing_facilities": len(existing),
        **result.summary,
    }
    return result


__all__ = ["SitingError", "sites_suggest"]
