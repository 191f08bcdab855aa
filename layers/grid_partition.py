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
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from layers.grid_check import polsby_popper, polygonal_part
from layers.projection import WGS84, metric_crs_for

PRECISION_M = 1e-6  # snap-rounding grid of every overlay and of the final arrangement, metres
_AREA_SLACK = 0.25  # a cut may move a piece's area share by at most this fraction of its share
_THIN = 0.1  # Polsby-Popper below this: merge along the longest shared edge, split a long strip
_MICRO_M2 = 1e-2  # arrangement faces below this are floating-point debris
_OVERSHOOT_M = 1e-3  # cut lines reach this far past their unit so that noding finds their ends


@dataclass
class _Unit:
    geom: BaseGeometry  # local metric coordinates
    members: np.ndarray  # indices of the buildings whose representative point lies inside


@dataclass
class _Plan:
    points: np.ndarray  # building representative points, local metres, shape (n, 2)
    households: np.ndarray
    target: float
    min_area: float
    max_area: float
    max_hh: float | None
    w_hh: float
    cuts: list[BaseGeometry] = field(default_factory=list)

    def hh(self, unit: _Unit) -> float:
        return float(self.households[unit.members].sum())

    def hh_pieces(self, unit: _Unit) -> int:
        """Pieces needed to bring a unit down to ``max_hh`` households (1 without a limit)."""
        if self.max_hh is None or self.max_hh <= 0:
            return 1
        return max(1, math.ceil(self.hh(unit) / self.max_hh))


def _extend_ends(line: LineString, length_m: float) -> LineString:
    """Lengthen both ends of a line along its end segments so near misses become crossings."""
    coords = np.asarray(line.coords, dtype="float64")[:, :2]
    if length_m <= 0 or len(coords) < 2:
        return line
    for end, prev in ((0, 1), (-1, -2)):
        direction = coords[end] - coords[prev]
        norm = float(np.hypot(*direction))
        if norm > 0:
            coords[end] = coords[end] + direction / norm * length_m
    return LineString(coords)


def _faces(community: BaseGeometry, lines: list[BaseGeometry]) -> np.ndarray:
    """Faces of the community boundary noded with ``lines``, inside the community."""
    noded = shapely.union_all([shapely.boundary(community), *lines], grid_size=PRECISION_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.contains(community, shapely.point_on_surface(faces)) & (shapely.area(faces) > 0)
    return faces[inside]


def _shared_length(a: BaseGeometry, b: BaseGeometry) -> float:
    return float(shapely.length(shapely.intersection(a.boundary, b.boundary, grid_size=PRECISION_M)))


def _merge_small(units: list[_Unit], plan: _Plan) -> list[_Unit]:
    """Merge every unit below ``plan.min_area`` (smallest first) into an edge-sharing neighbour.

    The neighbour giving the smallest combined area wins (ties: longer shared edge); a thin unit
    (Polsby-Popper < 0.1) goes to the neighbour with the longest shared edge instead. A unit with
    households does not merge past ``plan.max_hh`` households (the split step then handles it); a
    unit with no allowed neighbour stays small.
    """
    alive = dict(enumerate(units))
    geoms = [u.geom for u in units]
    neighbours: dict[int, set[int]] = {i: set() for i in alive}
    for a, b in zip(*shapely.STRtree(geoms).query(geoms, predicate="intersects"), strict=True):
        if a != b:
            neighbours[int(a)].add(int(b))
    stuck: set[int] = set()
    while True:
        small = [(u.geom.area, i) for i, u in alive.items() if u.geom.area < plan.min_area and i not in stuck]
        if not small:
            return [alive[i] for i in sorted(alive)]
        uid = min(small)[1]
        unit, thin = alive[uid], polsby_popper([alive[uid].geom])[0] < _THIN
        options = []
        for nid in sorted(neighbours[uid]):
            shared, combined = (
                _shared_length(unit.geom, alive[nid].geom),
                unit.geom.area + alive[nid].geom.area,
            )
            too_many = plan.max_hh is not None and plan.hh(unit) + plan.hh(alive[nid]) > plan.max_hh
            if shared > 0 and not (too_many and plan.hh(unit) > 0):
                options.append((-shared, combined, nid) if thin else (combined, -shared, nid))
        if not options:
            stuck.add(uid)
            continue
        nid = min(options)[2]
        new_id = max(alive) + 1
        alive[new_id] = _Unit(
            shapely.union(unit.geom, alive[nid].geom, grid_size=PRECISION_M),
            np.concatenate([unit.members, alive[nid].members]),
        )
        neighbours[new_id] = (neighbours.pop(uid) | neighbours.pop(nid)) - {uid, nid}
        del alive[uid], alive[nid]
        for other in neighbours[new_id]:
            neighbours[other] = (neighbours[other] - {uid, nid}) | {new_id}
        stuck -= neighbours[new_id]


def _long_axis(geom: BaseGeometry) -> np.ndarray | None:
    """Unit vector along the longer side of the minimum rotated rectangle (None if degenerate)."""
    ring = shapely.get_coordinates(shapely.minimum_rotated_rectangle(geom))
    if len(ring) < 4:
        return None
    side = max((ring[1] - ring[0], ring[2] - ring[1]), key=lambda v: float(np.hypot(*v)))
    length = float(np.hypot(*side))
    if length == 0:
        return None
    side = side / length
    return side if (side[0], side[1]) > (0, 0) else -side  # one canonical direction: deterministic


def _bisect(share_at: Callable[[float], float], share: float, lo: float, hi: float) -> float:
    """Smallest position in [lo, hi] (to 1 mm) where the non-decreasing ``share_at`` reaches ``share``."""
    while hi - lo > 1e-3:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if share_at(mid) >= share else (mid, hi)
    return hi


def _cut(unit: _Unit, plan: _Plan, k: int, n: int) -> list[_Unit]:
    """Cut ``unit`` across its long axis into shares k/n and (n-k)/n of area and households.

    The share mixes area and households by ``plan.w_hh``; the area share may not move more than
    ``_AREA_SLACK`` of itself. The cut line is recorded in ``plan.cuts``.
    """
    axis = _long_axis(unit.geom)
    if axis is None:
        return [unit]
    normal = np.array([-axis[1], axis[0]])
    coords = shapely.get_coordinates(unit.geom)
    s_min, s_max = float((coords @ axis).min()), float((coords @ axis).max())
    reach = float(np.abs(coords @ normal).max()) + 1.0

    def half_plane(t: float) -> Polygon:
        a, b = axis * (s_min - 1.0), axis * t
        return Polygon([a - normal * reach, b - normal * reach, b + normal * reach, a + normal * reach])

    def area_share(t: float) -> float:
        return float(shapely.area(shapely.intersection(unit.geom, half_plane(t)))) / unit.geom.area

    member_s = plan.points[unit.members] @ axis
    member_hh = plan.households[unit.members]
    weight = plan.w_hh if plan.hh(unit) > 0 else 0.0

    def mixed_share(t: float) -> float:
        hh_share = float(member_hh[member_s < t].sum()) / plan.hh(unit) if weight else 0.0
        return (1 - weight) * area_share(t) + weight * hh_share

    share, slack = k / n, _AREA_SLACK * min(k, n - k) / n
    t = _bisect(mixed_share, share, s_min, s_max)
    t = min(
        max(t, _bisect(area_share, share - slack, s_min, s_max)),
        _bisect(area_share, share + slack, s_min, s_max),
    )
    plane = half_plane(t)
    west = polygonal_part(shapely.intersection(unit.geom, plane, grid_size=PRECISION_M))
    east = polygonal_part(shapely.difference(unit.geom, plane, grid_size=PRECISION_M))
    if west is None or east is None:
        return [unit]
    line = LineString([axis * t - normal * reach, axis * t + normal * reach])
    plan.cuts.append(shapely.intersection(line, unit.geom.buffer(_OVERSHOOT_M)))
    on_west = member_s < t
    return [_Unit(west, unit.members[on_west]), _Unit(east, unit.members[~on_west])]


def _split(unit: _Unit, plan: _Plan, n: int | None = None, depth: int = 0) -> list[_Unit]:
    """Split a unit into n pieces by recursive cuts (k = n // 2 on one side, n - k on the other).

    By default n is ``round(area / target)`` above ``plan.max_area``, at least ``households /
    max_hh``, and for a thin strip (Polsby-Popper < 0.1) enough pieces to make them compact but
    none below ``plan.min_area``. A piece still above ``max_hh`` is split again while it holds
    two or more buildings and at least ``plan.min_area`` (at most 4 more rounds).
    """
    if n is None:
        area, compactness = unit.geom.area, float(polsby_popper([unit.geom])[0])
        n = round(area / plan.target) if area > plan.max_area else 1
        if 0 < compactness < _THIN:
            n = max(n, min(math.ceil(1.5 * _THIN / compactness), int(area // plan.min_area)))
        n = max(n, plan.hh_pieces(unit))
    if n <= 1:
        crowded = plan.hh_pieces(unit) > 1 and len(unit.members) > 1
        if crowded and depth < 4 and unit.geom.area >= plan.min_area:
            return _split(unit, plan, plan.hh_pieces(unit), depth + 1)
        return [unit]
    pieces = _cut(unit, plan, n // 2, n)
    if len(pieces) == 1:
        return pieces
    return _split(pieces[0], plan, n // 2, depth) + _split(pieces[1], plan, n - n // 2, depth)


def _join_detached_parts(units: list[_Unit], plan: _Plan) -> list[_Unit]:
    """Make multi-part units single polygons where possible.

    The largest part stays; another part becomes a unit of its own when it reaches
    ``plan.min_area``, else joins the unit it shares the longest edge with (or stays if none).
    """
    result, extra = list(units), []
    for i in range(len(result)):
        for part in sorted(shapely.get_parts(result[i].geom), key=lambda p: -p.area)[1:]:
            members = result[i].members
            inside = (
                members[shapely.intersects_xy(part, *plan.points[members].T)] if len(members) else members
            )
            host = None
            if part.area < plan.min_area:
                shared = max(
                    ((_shared_length(part, u.geom), j) for j, u in enumerate(result) if j != i), default=None
                )
                if shared is None or shared[0] <= 0:
                    continue
                host = shared[1]
            rest = shapely.difference(result[i].geom, part, grid_size=PRECISION_M)
            result[i] = _Unit(rest, np.setdiff1d(members, inside))
            if host is None:
                extra.append(_Unit(part, inside))
            else:
                joined = shapely.union(result[host].geom, part, grid_size=PRECISION_M)
                result[host] = _Unit(joined, np.concatenate([result[host].members, inside]))
    return result + extra


def _assemble(units: list[_Unit], community: BaseGeometry, lines: list[BaseGeometry]) -> list[_Unit]:
    """Rebuild each unit as the union of the arrangement faces it holds.

    A face belongs to the unit holding its representative point (lowest index on a tie), else to
    the unit it overlaps most; a debris face (below ``_MICRO_M2``) held by none goes to the owner
    of the neighbouring face it shares the longest edge with, so that it never forms a spike.
    """
    faces = _faces(community, lines)
    geoms = np.array([u.geom for u in units], dtype=object)
    units_tree, faces_tree = shapely.STRtree(geoms), shapely.STRtree(faces)
    owner = np.full(len(faces), -1)
    for face, unit in sorted(zip(*units_tree.query(shapely.point_on_surface(faces), "within"), strict=True))[
        ::-1
    ]:
        owner[face] = unit
    micro = shapely.area(faces) < _MICRO_M2
    for face in np.flatnonzero((owner < 0) & ~micro):
        near = units_tree.query(faces[face], predicate="intersects")
        overlap = shapely.area(shapely.intersection(faces[face], geoms[near]))
        owner[face] = near[int(np.argmax(overlap))] if len(near) else -1
    for _ in range(3):  # debris next to debris: take a few rounds
        for face in np.flatnonzero((owner < 0) & micro):
            beside = [
                j for j in faces_tree.query(faces[face], predicate="intersects").tolist() if owner[j] >= 0
            ]
            shared = max(((_shared_length(faces[face], faces[j]), -j) for j in beside), default=(0.0, 0))
            owner[face] = owner[-shared[1]] if shared[0] > 0 else -1
    result = []
    for i, unit in enumerate(units):
        geom = polygonal_part(shapely.union_all(faces[owner == i], grid_size=PRECISION_M))
        if geom is not None and geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        if geom is not None:
            result.append(_Unit(geom, unit.members))
    return result


def _ordered(units: list[_Unit], *, north_m: float, row_m: float) -> list[_Unit]:
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
    plan = _Plan(points, households, target_area_m2, low, high, max_households, household_weight)
    units = _merge_small(_assign_buildings(list(_faces(local, lines)), points), plan)
    units = [piece for unit in units for piece in _split(unit, plan)]
    units = _assemble(_join_detached_parts(units, plan), local, lines + plan.cuts)
    units = _ordered(units, north_m=local.bounds[3], row_m=math.sqrt(target_area_m2))
    units = _assign_buildings([u.geom for u in units], points)  # count on the final shapes
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
    return [_extend_ends(p, snap_m) for p in parts if p.intersects(reach)]


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


def _assign_buildings(blocks: list[BaseGeometry], points: np.ndarray) -> list[_Unit]:
    """Give each building to the first block (by index) that holds its representative point."""
    owner = np.full(len(points), -1)
    if len(points) and blocks:
        pairs = shapely.STRtree(blocks).query(shapely.points(points), predicate="intersects")
        for point, block in sorted(zip(*pairs, strict=True), reverse=True):
            owner[point] = block  # reverse order: the lowest block index is written last and wins
    return [_Unit(block, np.flatnonzero(owner == i)) for i, block in enumerate(blocks)]


def _to_frame(
    units: list[_Unit], households: np.ndarray, *, community_code: str, crs: object, origin: np.ndarray
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
