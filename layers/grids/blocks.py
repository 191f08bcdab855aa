"""Street blocks of a community and the operations that turn them into unit grids.

The steps :func:`layers.grids.partition.partition_community` runs, in local metric coordinates:
``block_faces`` cuts the community along its streets, ``assign_buildings`` counts buildings per block,
``merge_small`` and ``split`` bring blocks to the target area and households, and ``assemble``
rebuilds every grid from the faces of one snap-rounded planar arrangement so neighbours share
their vertices exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from layers.grids.check import polsby_popper, polygonal_part

PRECISION_M = 1e-6  # snap-rounding grid of every overlay and of the final arrangement, metres
_AREA_SLACK = 0.25  # a cut may move a piece's area share by at most this fraction of its share
_THIN = 0.1  # Polsby-Popper below this: merge along the longest shared edge, split a long strip
_MICRO_M2 = 1e-2  # arrangement faces below this are floating-point debris
_OVERSHOOT_M = 1e-3  # cut lines reach this far past their unit so that noding finds their ends


@dataclass
class Unit:
    geom: BaseGeometry  # local metric coordinates
    members: np.ndarray  # indices of the buildings whose representative point lies inside


@dataclass
class Plan:
    points: np.ndarray  # building representative points, local metres, shape (n, 2)
    households: np.ndarray
    target: float
    min_area: float
    max_area: float
    max_hh: float | None
    w_hh: float
    cuts: list[BaseGeometry] = field(default_factory=list)

    def hh(self, unit: Unit) -> float:
        return float(self.households[unit.members].sum())

    def hh_pieces(self, unit: Unit) -> int:
        """Pieces needed to bring a unit down to ``max_hh`` households (1 without a limit)."""
        if self.max_hh is None or self.max_hh <= 0:
            return 1
        return max(1, math.ceil(self.hh(unit) / self.max_hh))


def extend_ends(line: LineString, length_m: float) -> LineString:
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


def block_faces(community: BaseGeometry, lines: list[BaseGeometry]) -> np.ndarray:
    """Faces of the community boundary noded with ``lines``, inside the community."""
    noded = shapely.union_all([shapely.boundary(community), *lines], grid_size=PRECISION_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.contains(community, shapely.point_on_surface(faces)) & (shapely.area(faces) > 0)
    return faces[inside]


def _shared_length(a: BaseGeometry, b: BaseGeometry) -> float:
    return float(shapely.length(shapely.intersection(a.boundary, b.boundary, grid_size=PRECISION_M)))


def merge_small(units: list[Unit], plan: Plan) -> list[Unit]:
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
        alive[new_id] = Unit(
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


def _cut(unit: Unit, plan: Plan, k: int, n: int) -> list[Unit]:
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
    return [Unit(west, unit.members[on_west]), Unit(east, unit.members[~on_west])]


def split(unit: Unit, plan: Plan, n: int | None = None, depth: int = 0) -> list[Unit]:
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
            return split(unit, plan, plan.hh_pieces(unit), depth + 1)
        return [unit]
    pieces = _cut(unit, plan, n // 2, n)
    if len(pieces) == 1:
        return pieces
    return split(pieces[0], plan, n // 2, depth) + split(pieces[1], plan, n - n // 2, depth)


def join_detached_parts(units: list[Unit], plan: Plan) -> list[Unit]:
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
            result[i] = Unit(rest, np.setdiff1d(members, inside))
            if host is None:
                extra.append(Unit(part, inside))
            else:
                joined = shapely.union(result[host].geom, part, grid_size=PRECISION_M)
                result[host] = Unit(joined, np.concatenate([result[host].members, inside]))
    return result + extra


def assemble(units: list[Unit], community: BaseGeometry, lines: list[BaseGeometry]) -> list[Unit]:
    """Rebuild each unit as the union of the arrangement faces it holds.

    A face belongs to the unit holding its representative point (lowest index on a tie), else to
    the unit it overlaps most; a debris face (below ``_MICRO_M2``) held by none goes to the owner
    of the neighbouring face it shares the longest edge with, so that it never forms a spike.
    """
    faces = block_faces(community, lines)
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
            result.append(Unit(geom, unit.members))
    return result


def assign_buildings(blocks: list[BaseGeometry], points: np.ndarray) -> list[Unit]:
    """Give each building to the first block (by index) that holds its representative point."""
    owner = np.full(len(points), -1)
    if len(points) and blocks:
        pairs = shapely.STRtree(blocks).query(shapely.points(points), predicate="intersects")
        for point, block in sorted(zip(*pairs, strict=True), reverse=True):
            owner[point] = block  # reverse order: the lowest block index is written last and wins
    return [Unit(block, np.flatnonzero(owner == i)) for i, block in enumerate(blocks)]
