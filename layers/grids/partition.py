"""Drawing unit grids (单元网格) for a community from its streets and buildings.

``partition_community`` cuts the community into street blocks, merges blocks far below the target
area into a neighbour, splits blocks far above it with straight cuts that balance area and
households, and numbers the result. The work happens in the metric CRS chosen by
``layers.projection.metric_crs_for``, shifted to a local origin. The final grids are assembled from
the faces of one planar arrangement (community boundary + streets + cut lines, noded and
snap-rounded to ``PRECISION_M``), so neighbours share their vertices exactly: the grids tile the
community with no gaps and no overlaps.

Numbering rule (the 3-digit sequence, 001–999): each grid is located by its representative point
(``shapely.point_on_surface``, always inside the grid). Points fall into rows of height
``sqrt(target_area_m2)`` metres counted down from the community's northernmost point; rows are
numbered north to south, and inside a row grids run west to east (by easting, then northing).
"""

from __future__ import annotations

import math
import re

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.grids.blocks import (
    PRECISION_M,
    Plan,
    Unit,
    assemble,
    assign_buildings,
    block_faces,
    extend_ends,
    join_detached_parts,
    merge_small,
    split,
)
from layers.grids.check import polygonal_part
from layers.projection import WGS84, metric_crs_for


def _ordered(units: list[Unit], *, north_m: float, row_m: float) -> list[Unit]:
    reps = shapely.get_coordinates(shapely.point_on_surface([u.geom for u in units]))
    rows = np.floor((north_m - reps[:, 1]) / row_m)
    return [units[i] for i in np.lexsort((reps[:, 1], reps[:, 0], rows))]


def partition_community(
    community: BaseGeometry,
    streets: gpd.GeoDataFrame | None,
    buildings: gpd.GeoDataFrame | None,
    *,
    community_code: str,
    target_area_m2: float = 10_000,
    street_snap_m: float = 5.0,
    max_households: float | None = None,
    area_band: tuple[float, float] = (0.5, 1.5),
    household_weight: float = 0.5,
) -> gpd.GeoDataFrame:
    """Divide a community into unit grids along its streets, balancing area and households.

    Parameters
    ----------
    community : shapely Polygon or MultiPolygon
        The community boundary, EPSG:4326 longitude/latitude.
    streets : GeoDataFrame or None
        Street centre lines (LineString/MultiLineString) with a CRS, usually EPSG:4326. Only
        lines that close blocks inside the community cut it; dead ends are ignored.
    buildings : GeoDataFrame or None
        Footprints (or points) with a CRS and a ``households`` column (missing values count 0).
        Each building counts once, in the grid holding its representative point; buildings
        outside the community are not counted.
    community_code : str
        The community's 12-digit code; grid codes are this + a 3-digit sequence.
    target_area_m2 : float
        Aimed grid area, m².
    street_snap_m : float
        Street ends are extended by this many metres so that a street stopping just short of
        the boundary or of another street still closes its block; 0 takes the network as drawn.
    max_households : float, optional
        Split grids holding more households than this, and never merge past it.
    area_band : (float, float)
        Blocks below ``low × target`` are merged with a neighbour, blocks above
        ``high × target`` split into ``round(area / target)`` pieces.
    household_weight : float
        0–1: how much a cut balances households rather than area. A piece's area stays within
        ±25 % of its share whatever the households.

    Returns
    -------
    GeoDataFrame
        EPSG:4326; columns ``code`` (15 digits), ``name`` ("第N网格"), ``community_code``,
        ``area_m2`` (float, m²), ``households`` (int) and ``geometry`` (Polygon, or
        MultiPolygon only when a part touches no other grid), in the numbering order of this
        module. The same inputs always give the same output.
    """
    if not re.fullmatch(r"\d{12}", community_code or ""):
        raise ValueError(f"community_code must be 12 digits, got {community_code!r}")
    if target_area_m2 <= 0:
        raise ValueError("target_area_m2 must be positive")
    area_geom = polygonal_part(shapely.make_valid(community)) if community is not None else None
    if area_geom is None:
        raise ValueError("community must be a non-empty polygon")
    crs = metric_crs_for(area_geom)
    community_m = gpd.GeoSeries([area_geom], crs=WGS84).to_crs(crs).iloc[0]
    origin = np.floor(np.asarray(community_m.bounds[:2]))
    local = shapely.set_precision(shapely.transform(community_m, lambda xy: xy - origin), PRECISION_M)

    lines = _street_lines(streets, crs, origin, local, street_snap_m)
    points, households = _building_points(buildings, crs, origin)
    low, high = area_band[0] * target_area_m2, area_band[1] * target_area_m2
    plan = Plan(points, households, target_area_m2, low, high, max_households, household_weight)
    units = merge_small(assign_buildings(list(block_faces(local, lines)), points), plan)
    units = [piece for unit in units for piece in split(unit, plan)]
    units = assemble(join_detached_parts(units, plan), local, lines + plan.cuts)
    units = _ordered(units, north_m=local.bounds[3], row_m=math.sqrt(target_area_m2))
    units = assign_buildings([u.geom for u in units], points)  # count on the final shapes
    if len(units) > 999:
        raise ValueError(f"{len(units)} grids do not fit a 3-digit sequence; raise target_area_m2")
    return _to_frame(units, households, community_code=community_code, crs=crs, origin=origin)


def _street_lines(
    streets: gpd.GeoDataFrame | None, crs: object, origin: np.ndarray, local: BaseGeometry, snap_m: float
) -> list[BaseGeometry]:
    if streets is None or streets.empty:
        return []
    geoms = streets.to_crs(crs).geometry
    parts = shapely.get_parts(np.asarray(geoms[geoms.notna()].values, dtype=object))
    parts = [shapely.transform(p, lambda xy: xy - origin) for p in parts if p.geom_type == "LineString"]
    reach = local.buffer(max(snap_m, 0.0) + 1.0)
    return [extend_ends(p, snap_m) for p in parts if p.intersects(reach)]


def _building_points(
    buildings: gpd.GeoDataFrame | None, crs: object, origin: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if buildings is None or buildings.empty:
        return np.empty((0, 2)), np.empty(0)
    projected = buildings.to_crs(crs)
    projected = projected[projected.geometry.notna() & ~projected.geometry.is_empty]
    reps = shapely.get_coordinates(shapely.point_on_surface(np.asarray(projected.geometry.values)))
    households = projected.get("households")
    values = (
        np.zeros(len(projected))
        if households is None
        else households.astype("float64").fillna(0.0).to_numpy()
    )
    return reps - origin, values


def _to_frame(
    units: list[Unit], households: np.ndarray, *, community_code: str, crs: object, origin: np.ndarray
) -> gpd.GeoDataFrame:
    metric = gpd.GeoSeries([shapely.transform(u.geom, lambda xy: xy + origin) for u in units], crs=crs)
    sequence = range(1, len(units) + 1)
    rows = {
        "code": [f"{community_code}{i:03d}" for i in sequence],
        "name": [f"第{i}网格" for i in sequence],
        "community_code": [community_code] * len(units),
        "area_m2": [round(float(g.area), 2) for g in metric],
        "households": [int(round(float(households[u.members].sum()))) for u in units],
    }
    return gpd.GeoDataFrame(rows, geometry=metric.to_crs(WGS84).values, crs=WGS84)
