"""The leader map's analysis layers (Gi* hotspots, coverage gaps), cached by the data they use.

The result is kept in Django's cache under the change stamps (``gridmap.core.stamps``) of the
grids, buildings and problems of the grids' towns and of every facility, with the grids' codes
and the rule settings: any write of those rows makes a new key, so a cached result is never
stale, and while nothing changed the analysis reads nothing more. When a stamp moved, the
inputs (the grids, their buildings and problems, the facilities within reach of the grids) are
read and the result is looked up by their content (geometry WKB and the columns used), so a
change the analysis does not read (a problem closed, still counted) computes nothing.

- Hotspots: Getis-Ord Gi* (``layers.hotspots.gistar_cells``, queen weights, area
  normalisation, as :mod:`gridmap.analysis.hotspots`) of the counted problems (every status but
  rejected and duplicate) in square cells over the grids, sized for 20–100 cells
  (:func:`cell_size_m`); cells with less than a quarter of a full cell inside are not tested.
- Coverage: per facility kind with the radius rule (:func:`gridmap.analysis.coverage.rule_for`),
  the uncovered part of each grid (``layers.coverage.uncovered_area``) and the buildings
  farther than the radius from every facility (``layers.coverage.building_coverage``), straight
  line, counting the facilities within the radius of the grids too (a hydrant across the street
  covers; facilities recorded as missing do not). The buildings a kind serves follow
  ``building_uses_by_kind``.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.core.cache import cache

from gridmap.analysis.coverage import coverage_settings, rule_for
from gridmap.analysis.hotspots import NOT_COUNTED
from gridmap.core.gdf import to_gdf
from gridmap.core.stamps import stamps_of
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Grid
from layers.coverage import building_coverage, uncovered_area
from layers.hotspots import gistar_cells, square_cells
from layers.projection import metric_crs_for

CACHE_VERSION = "leader-map-2"
TOWN_KINDS = ("grids", "buildings", "problems")
SHARED_KINDS = ("facilities",)
CACHE_SECONDS = 24 * 3600
METRES_PER_DEGREE = 111_320.0


def cell_size_m(area_m2: float) -> float:
    """Square cell side (metres, a multiple of 5 between 25 and 200) giving about 50 cells."""
    side = math.sqrt(max(area_m2, 1.0) / 50.0)
    return float(min(200.0, max(25.0, 5.0 * round(side / 5.0))))


def _stamps(boundary: gpd.GeoDataFrame) -> str | None:
    """The change stamps behind the analysis of ``boundary``'s grids (None: do not cache): their
    towns' grids, buildings and problems, and every facility (they count across a town's edge)."""
    codes = sorted(boundary["code"])
    towns = list(
        Grid.objects.filter(code__in=codes).values_list("community__subdistrict_id", flat=True).distinct()
    )
    stamps = [*stamps_of(TOWN_KINDS, towns).values(), *stamps_of(SHARED_KINDS).values()]
    if None in stamps:
        return None
    return hashlib.sha1(repr((CACHE_VERSION, codes, stamps, coverage_settings())).encode()).hexdigest()


def fingerprint(*parts: Any) -> str:
    """A digest of frames (geometry WKB and columns) and plain values."""
    digest = hashlib.sha1(CACHE_VERSION.encode())
    for part in parts:
        if isinstance(part, gpd.GeoDataFrame):
            digest.update(b"".join(shapely.to_wkb(np.asarray(part.geometry.values), hex=False)))
            digest.update(
                pd.util.hash_pandas_object(part.drop(columns="geometry"), index=False).values.tobytes()
            )
        else:
            digest.update(repr(part).encode())
    return digest.hexdigest()


def area_analysis(
    boundary: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, problems: gpd.GeoDataFrame
) -> dict[str, Any]:
    """``hotspots``, ``coverage_gaps``, ``uncovered_buildings`` (frames) and ``coverage`` (a
    summary per kind: name, radius, buildings served, uncovered, household share covered).

    ``buildings`` and ``problems`` are those assigned to ``boundary``'s grids: while the change
    stamps stand, the result is taken by them alone; when they moved, by the digest of what the
    analysis reads, so a change it does not read (a problem closed, still counted) reuses it."""
    stamps = _stamps(boundary)
    if stamps is not None and (found := cache.get(f"gridmap:leader-map:{stamps}")) is not None:
        return found
    counted = problems[~problems["status"].isin([str(s) for s in NOT_COUNTED])][["id", "geometry"]]
    kinds = [k for k in FacilityKind.objects.all() if k.service_radius_m and rule_for(k) == "radius"]
    uses = coverage_settings()["building_uses_by_kind"]
    reach = _facilities_near(boundary, kinds)
    served = buildings[["id", "address", "use", "households", "geometry"]]
    key = "gridmap:" + fingerprint(
        boundary[["code", "geometry"]], served, counted, reach,
        [(k.code, k.name, k.service_radius_m, tuple(uses.get(k.code) or ())) for k in kinds],
    )  # fmt: skip
    result = cache.get(key)
    if result is None:
        result = {"hotspots": _hotspots(boundary, counted), **_coverage(boundary, served, reach, kinds, uses)}
        cache.set(key, result, CACHE_SECONDS)
    if stamps is not None:
        cache.set(f"gridmap:leader-map:{stamps}", result, CACHE_SECONDS)
    return result


def _facilities_near(boundary: gpd.GeoDataFrame, kinds: list[FacilityKind]) -> gpd.GeoDataFrame:
    """Facilities of ``kinds`` within the largest radius of the grids' bounding box."""
    if not kinds or boundary.empty:
        return gpd.GeoDataFrame({"id": [], "kind": []}, geometry=[], crs=4326)
    x0, y0, x1, y1 = boundary.total_bounds
    pad = max(k.service_radius_m or 0 for k in kinds) / METRES_PER_DEGREE * 1.2
    dlon = pad / max(math.cos(math.radians((y0 + y1) / 2)), 0.1)
    box = GEOSGeometry(shapely.box(x0 - dlon, y0 - pad, x1 + dlon, y1 + pad).wkt, srid=4326)
    qs = Facility.objects.filter(kind__in=kinds, geom__intersects=box).exclude(condition="missing")
    return to_gdf(qs.order_by("pk"), ["id", "kind__code"]).rename(columns={"kind__code": "kind"})


def _hotspots(boundary: gpd.GeoDataFrame, problems: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    empty = gpd.GeoDataFrame({"cell_id": [], "count": [], "z": [], "p_value": [], "hotspot": []},
                             geometry=[], crs=4326)  # fmt: skip
    if boundary.empty:
        return empty
    crs = metric_crs_for(boundary)
    area_m2 = float(boundary.to_crs(crs).area.sum())
    cell_m = cell_size_m(area_m2)
    cells = square_cells(boundary, cell_m=cell_m, crs=crs)
    try:
        result = gistar_cells(problems, cells, id_col="cell_id", min_area_m2=0.25 * cell_m * cell_m, crs=crs)
    except ValueError:  # fewer than two cells can be tested
        return empty
    result = result[result["tested"].astype(bool)]
    return result[["cell_id", "count", "z", "p_value", "hotspot", "geometry"]].reset_index(drop=True)


def _coverage(
    boundary: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    kinds: list[FacilityKind],
    uses: dict[str, list[str]],
) -> dict[str, Any]:
    gaps, uncovered, summary = [], [], []
    areas = boundary[["code", "geometry"]]
    for kind in kinds if len(areas) else []:
        radius = float(kind.service_radius_m or 0)
        here = facilities[facilities["kind"] == kind.code]
        area = uncovered_area(areas, here, radius_m=radius)
        area = area[~area.geometry.is_empty]
        gaps.append(area.assign(kind=kind.code, radius_m=radius).drop(columns=["code"]))
        wanted = uses.get(kind.code)
        served = buildings[buildings["use"].isin(wanted)] if wanted else buildings
        items = building_coverage(served, here, radius_m=radius)
        out = items[~items["straight_covered"].to_numpy(dtype=bool)]
        uncovered.append(
            gpd.GeoDataFrame(
                {
                    "kind": kind.code,
                    "id": out["id"].to_numpy(),
                    "address": out["address"].to_numpy(),
                    "households": out["households"].to_numpy(),
                    "distance_m": out["straight_m"].to_numpy(),
                },
                geometry=out.geometry.to_numpy(),
                crs=4326,
            )  # fmt: skip
        )
        households = float(served["households"].sum())
        covered = float(items.loc[items["straight_covered"].astype(bool), "households"].sum())
        summary.append({
            "kind": kind.code, "name": kind.name, "radius_m": radius, "buildings": len(served),
            "uncovered": len(out), "household_share": covered / households if households else None,
            "building_share": 1 - len(out) / len(served) if len(served) else None,
        })  # fmt: skip
    return {
        "coverage_gaps": _concat(gaps, ["kind", "radius_m", "area_m2", "uncovered_m2", "uncovered_share"]),
        "uncovered_buildings": _concat(uncovered, ["kind", "id", "address", "households", "distance_m"]),
        "coverage": summary,
    }


def _concat(frames: list[gpd.GeoDataFrame], columns: list[str]) -> gpd.GeoDataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=4326)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)
    return out[[c for c in columns if c in out.columns] + ["geometry"]]
