"""Fast point → area assignment: a raster of the areas with exact checks near their edges.

Same answer as ``layers.assign.areas.assign_areas_strtree`` (among the areas whose closed polygon
intersects a point, the smallest code wins), found without testing most points against polygons:

1. Every raster cell that an area edge touches or comes within 1e-6 cell of is a *boundary
   cell*. Edges are cut into pieces at most half a cell long on each axis, and the
   cells of each piece's (slightly widened) bounding box are marked, so no touched cell is missed
   (over-marking only costs exact checks).
2. The other cells form 4-connected components that meet no edge, so each component lies inside
   the same set of areas everywhere: one exact ``intersects`` query on one cell centre per
   component gives its smallest area (or none) for all of its cells.
3. A boundary cell touched by one edge segment only (shared edges deduplicated) stores the
   smallest area on each side of it, taken from the cell corner farthest on that side (an exact
   query, or a free neighbour cell's answer). A point there is placed by the sign of its
   orientation to the segment when Shewchuk's error bound proves the sign; on the segment,
   with an unproven sign, in a cell of several segments, or not a plain point, it is checked
   exactly with shapely's STRtree (``intersects``, boundary included).
4. A point in a free cell takes the cell's answer.

Coordinates are the areas' own (EPSG:4326 degrees in gridmap): the rule is topological, so no
projection is needed. Floating-point rounding when locating a cell is ~1e-10 of a cell, far
below the 1e-6 margin. Areas should be valid polygons (as for shapely's predicates).
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

OUTSIDE = -1  # cell/rank value: no area
UNKNOWN = -2  # side value: no test point, check exactly
EDGE_MARGIN_CELLS = 1e-6
DEFAULT_MAX_CELLS = 2_000_000
CELLS_PER_AREA = 2_000
CHUNK = 131_072  # points per batch step
_EPS = 2.0**-53
_CCW_ERRBOUND = (3.0 + 16.0 * _EPS) * _EPS  # Shewchuk's orient2d filter: beyond it the sign is exact
_CACHE: OrderedDict[tuple, GridLocator] = OrderedDict()
_CACHE_SIZE = 4


@dataclass(frozen=True)
class _Raster:
    """Cells hold an area rank (≥ 0), OUTSIDE, or ``-2 - j`` for boundary cell ``j``.

    A boundary cell touched by exactly one (deduplicated) edge segment keeps that segment and
    the rank on each side of it; a point there is placed by an orientation test whose sign is
    certain (else, or on the segment, or in a cell of several segments: an exact shapely check).
    """

    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int
    cells: np.ndarray  # (ny * nx,) int32
    segments: np.ndarray  # (m, 4) ax, ay, bx, by
    edge_seg: np.ndarray  # (boundary cells,) segment index or -1 (several)
    edge_left: np.ndarray  # rank left of a→b (OUTSIDE possible) or UNKNOWN
    edge_right: np.ndarray


def _orient(seg: np.ndarray, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """orient2d(a, b, p) (> 0: p left of a→b) and whether its sign is certain (Shewchuk's bound)."""
    detleft = (seg[..., 0] - px) * (seg[..., 3] - py)
    detright = (seg[..., 1] - py) * (seg[..., 2] - px)
    det = detleft - detright
    return det, np.abs(det) > _CCW_ERRBOUND * (np.abs(detleft) + np.abs(detright))


def _segments(geoms: np.ndarray) -> np.ndarray:
    """Distinct edge segments of all area boundaries (a shared edge once), (m, 4)."""
    lines = shapely.get_parts(shapely.boundary(geoms))
    coords, line_idx = shapely.get_coordinates(lines, return_index=True)
    same = line_idx[1:] == line_idx[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    keep = (a != b).any(axis=1)
    a, b = a[keep], b[keep]
    swap = (b[:, 0] < a[:, 0]) | ((b[:, 0] == a[:, 0]) & (b[:, 1] < a[:, 1]))
    lo, hi = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
    return np.unique(np.column_stack([lo, hi]), axis=0)


def _edge_cells(segs: np.ndarray, x0: float, y0: float, dx: float, dy: float) -> tuple[np.ndarray, ...]:
    """(row, col, segment) for every cell a segment comes within the margin of (repeats allowed)."""
    ua, va = (segs[:, 0] - x0) / dx, (segs[:, 1] - y0) / dy
    ub, vb = (segs[:, 2] - x0) / dx, (segs[:, 3] - y0) / dy
    pieces = np.maximum(np.ceil(2 * np.maximum(np.abs(ub - ua), np.abs(vb - va))), 1).astype(np.int64)
    seg = np.repeat(np.arange(len(segs)), pieces)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    t0, t1 = k / pieces[seg], (k + 1) / pieces[seg]
    du, dv = (ub - ua)[seg], (vb - va)[seg]
    u0, u1 = ua[seg] + t0 * du, ua[seg] + t1 * du
    v0, v1 = va[seg] + t0 * dv, va[seg] + t1 * dv
    c_lo = np.floor(np.minimum(u0, u1) - EDGE_MARGIN_CELLS).astype(np.int64)
    c_hi = np.floor(np.maximum(u0, u1) + EDGE_MARGIN_CELLS).astype(np.int64)
    r_lo = np.floor(np.minimum(v0, v1) - EDGE_MARGIN_CELLS).astype(np.int64)
    r_hi = np.floor(np.maximum(v0, v1) + EDGE_MARGIN_CELLS).astype(np.int64)
    return np.concatenate([r_lo, r_lo, r_hi, r_hi]), np.concatenate([c_lo, c_hi, c_lo, c_hi]), np.tile(seg, 4)


def _min_ranks(tree: shapely.STRtree, geoms: np.ndarray) -> np.ndarray:
    """Smallest rank of the areas intersecting each geometry (OUTSIDE for none), exactly."""
    best = np.full(len(geoms), np.iinfo(np.int64).max)
    p_idx, a_idx = tree.query(geoms, predicate="intersects")
    np.minimum.at(best, p_idx, a_idx)
    best[best == np.iinfo(np.int64).max] = OUTSIDE
    return best


def _corner_ranks(
    tree: shapely.STRtree, cells: np.ndarray, shape: tuple[int, int], corner: np.ndarray, xy: np.ndarray
) -> np.ndarray:
    """Ranks of cell corners (row, col) at ``xy``: a free cell around a corner holds its answer
    (the corner lies in that closed cell, which meets no edge); the rest are queried exactly."""
    ny, nx = shape
    ranks = np.full(len(corner), UNKNOWN, dtype=np.int64)
    for dr in (-1, 0):
        for dc in (-1, 0):
            r, c = corner[:, 0] + dr, corner[:, 1] + dc
            ok = (r >= 0) & (r < ny) & (c >= 0) & (c < nx)
            value = np.full(len(corner), UNKNOWN, dtype=np.int64)
            value[ok] = cells[r[ok] * nx + c[ok]]
            ranks = np.where((ranks == UNKNOWN) & (value >= OUTSIDE), value, ranks)
    ask = np.flatnonzero(ranks == UNKNOWN)
    if len(ask):
        key = corner[ask, 0] * (nx + 1) + corner[ask, 1]
        _, first, back = np.unique(key, return_index=True, return_inverse=True)
        ranks[ask] = _min_ranks(tree, shapely.points(xy[ask[first]]))[back]
    return ranks


def _side_ranks(
    tree: shapely.STRtree,
    cells: np.ndarray,
    shape: tuple[int, int],
    segs: np.ndarray,
    row: np.ndarray,
    col: np.ndarray,
    x0: float,
    y0: float,
    d: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Rank on each side of each cell's segment, at the cell corner farthest on that side."""
    offsets = np.array([(0, 0), (0, 1), (1, 0), (1, 1)])
    corner = np.stack([row[:, None] + offsets[:, 0], col[:, None] + offsets[:, 1]], axis=-1)  # (n, 4, 2)
    xy = np.stack([x0 + corner[..., 1] * d, y0 + corner[..., 0] * d], axis=-1)
    det, sure = _orient(segs[:, None, :], xy[..., 0], xy[..., 1])
    out = []
    for side in (1.0, -1.0):
        score = np.where(sure & (det * side > 0), det * side, -np.inf)
        best = np.argmax(score, axis=1)
        n = np.arange(len(score))
        has = np.flatnonzero(np.isfinite(score[n, best]))
        ranks = np.full(len(segs), UNKNOWN, dtype=np.int64)
        ranks[has] = _corner_ranks(tree, cells, shape, corner[has, best[has]], xy[has, best[has]])
        out.append(ranks)
    return out[0], out[1]


def _cell_size(geoms: np.ndarray, bounds: np.ndarray) -> float:
    minx, miny, maxx, maxy = bounds
    wanted = min(DEFAULT_MAX_CELLS, CELLS_PER_AREA * len(geoms))
    return math.sqrt(max((maxx - minx) * (maxy - miny), 1e-18) / wanted)


def _build_raster(geoms: np.ndarray, tree: shapely.STRtree, cell_size: float | None) -> _Raster:
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    bounds = shapely.total_bounds(geoms)
    dx = dy = float(cell_size or _cell_size(geoms, bounds))
    x0, y0 = bounds[0] - dx, bounds[1] - dy  # one cell of padding: every point within the bounds maps inside
    nx = int(math.floor((bounds[2] - x0) / dx)) + 2
    ny = int(math.floor((bounds[3] - y0) / dy)) + 2
    segs = _segments(geoms)
    rows, cols, seg_of = _edge_cells(segs, x0, y0, dx, dy)
    touched = rows * nx + cols
    free = np.ones(ny * nx, dtype=bool)
    free[touched] = False
    # Free cells in one 4-connected component meet no edge: one exact query per component.
    labels, n_labels = ndimage.label(free.reshape(ny, nx))
    flat = labels.ravel()
    some_cell = np.zeros(n_labels + 1, dtype=np.int64)
    some_cell[flat] = np.arange(len(flat))
    some_cell = some_cell[1:]
    centres = shapely.points(x0 + (some_cell % nx + 0.5) * dx, y0 + (some_cell // nx + 0.5) * dy)
    label_rank = np.concatenate([[OUTSIDE], _min_ranks(tree, centres)]).astype(np.int32)
    cells = label_rank[flat]
    boundary = np.flatnonzero(~free)
    cells[boundary] = -2 - np.arange(len(boundary), dtype=np.int32)
    j = -2 - cells[touched]
    seg_min = np.full(len(boundary), np.iinfo(np.int32).max, dtype=np.int32)
    seg_max = np.full(len(boundary), -1, dtype=np.int32)
    np.minimum.at(seg_min, j, seg_of.astype(np.int32))
    np.maximum.at(seg_max, j, seg_of.astype(np.int32))
    edge_seg = np.where(seg_min == seg_max, seg_min, -1)
    single = np.flatnonzero(edge_seg >= 0)
    col, row = boundary[single] % nx, boundary[single] // nx
    left = np.full(len(boundary), UNKNOWN, dtype=np.int32)
    right = np.full(len(boundary), UNKNOWN, dtype=np.int32)
    left[single], right[single] = _side_ranks(
        tree, cells, (ny, nx), segs[edge_seg[single]], row, col, x0, y0, dx
    )
    return _Raster(x0, y0, dx, dy, nx, ny, cells, segs, edge_seg, left, right)


class GridLocator:
    """Point → area code by the smallest-code rule, built once from the areas.

    Parameters
    ----------
    areas : GeoDataFrame of polygons (EPSG:4326 in gridmap; any CRS works, points must share it).
    code_col : column holding the codes (compared as strings, like ``assign_areas``).
    cell_size : raster cell side in the areas' CRS units (degrees); by default about
        ``CELLS_PER_AREA`` cells per area, at most ``DEFAULT_MAX_CELLS`` cells in all.
    """

    def __init__(self, areas: gpd.GeoDataFrame, *, code_col: str = "code", cell_size: float | None = None):
        codes = areas[code_col].astype(str).to_numpy()
        order = sorted(range(len(codes)), key=codes.__getitem__)
        # An area's rank is its position in code order, so the smallest rank is the smallest code.
        self.codes = np.append(codes[order].astype(object), None)  # rank OUTSIDE (-1) → None
        self.geoms = np.asarray(areas.geometry.values, dtype=object)[order]
        self.tree = shapely.STRtree(self.geoms)
        self.raster: _Raster | None = None
        if len(self.tree) > 0:
            self.raster = _build_raster(self.geoms, self.tree, cell_size)
            # Plain Python views for the one-point path (no numpy scalar overhead).
            self._cells = memoryview(self.raster.cells)
            self._edge_seg = memoryview(self.raster.edge_seg)
            self._edge_left = memoryview(self.raster.edge_left)
            self._edge_right = memoryview(self.raster.edge_right)
            self._segments = [tuple(row) for row in self.raster.segments.tolist()]

    @property
    def boundary_share(self) -> float:
        """Share of raster cells that lie on an area edge (a side test or an exact check)."""
        return 0.0 if self.raster is None else float(np.mean(self.raster.cells < OUTSIDE))

    def locate(self, lon: float, lat: float) -> str | None:
        """Code of the area holding the point (smallest code on shared edges), or None."""
        r = self.raster
        if r is None or not (math.isfinite(lon) and math.isfinite(lat)):
            return None
        ix = math.floor((lon - r.x0) / r.dx)
        iy = math.floor((lat - r.y0) / r.dy)
        if not (0 <= ix < r.nx and 0 <= iy < r.ny):
            return None
        rank = self._cells[iy * r.nx + ix]
        if rank < OUTSIDE:
            rank = self._edge_rank(-2 - rank, lon, lat)
        return self.codes[rank]

    def _edge_rank(self, j: int, x: float, y: float) -> int:
        """Scalar ``_edge_ranks`` (Python floats are the same IEEE doubles as numpy's)."""
        r = self.raster
        assert r is not None
        seg = self._edge_seg[j]
        if seg >= 0:
            ax, ay, bx, by = self._segments[seg]
            detleft, detright = (ax - x) * (by - y), (ay - y) * (bx - x)
            det = detleft - detright
            if abs(det) > _CCW_ERRBOUND * (abs(detleft) + abs(detright)):
                rank = self._edge_left[j] if det > 0 else self._edge_right[j]
                if rank != UNKNOWN:
                    return rank
        hits = self.tree.query(shapely.Point(x, y), predicate="intersects")
        return int(hits.min()) if len(hits) else OUTSIDE

    def ranks_xy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Area rank (index into ``codes``; -1 outside) of each (x, y); NaN → -1."""
        r = self.raster
        if r is None:
            return np.full(len(x), OUTSIDE, dtype=np.int64)
        u = np.subtract(x, r.x0)
        np.divide(u, r.dx, out=u)
        v = np.subtract(y, r.y0)
        np.divide(v, r.dy, out=v)
        with np.errstate(invalid="ignore"):
            inside = (u >= 0) & (u < r.nx) & (v >= 0) & (v < r.ny)  # NaN: outside
        # Truncation is floor here (u, v >= 0 where used).
        flat = v.astype(np.int64)
        flat *= r.nx
        flat += u.astype(np.int64)
        if inside.all():
            out = r.cells[flat].astype(np.int64)
        else:
            out = np.full(len(x), OUTSIDE, dtype=np.int64)
            out[inside] = r.cells[flat[inside]]
        edge = np.flatnonzero(out < OUTSIDE)
        if len(edge):
            out[edge] = self._edge_ranks(-2 - out[edge], x[edge], y[edge])
        return out

    def _edge_ranks(self, j: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Ranks of points in boundary cells ``j``: side test where certain, else shapely."""
        r = self.raster
        assert r is not None
        seg = r.edge_seg[j]
        det, sure = _orient(r.segments[np.maximum(seg, 0)], x, y)
        out = np.where(det > 0, r.edge_left[j], r.edge_right[j]).astype(np.int64)
        out[(seg < 0) | ~sure] = UNKNOWN
        exact = np.flatnonzero(out == UNKNOWN)
        if len(exact):
            out[exact] = _min_ranks(self.tree, shapely.points(x[exact], y[exact]))
        return out

    def ranks(self, geoms: np.ndarray) -> np.ndarray:
        """Area rank of each geometry (-1 outside every area or missing); any geometry type."""
        geoms = np.asarray(geoms, dtype=object)
        if len(geoms) > CHUNK:  # bounded temporaries, warm caches
            return np.concatenate([self.ranks(geoms[i : i + CHUNK]) for i in range(0, len(geoms), CHUNK)])
        one = shapely.get_num_coordinates(geoms) == 1  # a Point (or a one-point MultiPoint)
        if one.all():
            xy = shapely.get_coordinates(geoms)
            return self.ranks_xy(xy[:, 0], xy[:, 1])
        out = np.full(len(geoms), OUTSIDE, dtype=np.int64)
        if one.any():
            xy = shapely.get_coordinates(geoms[one])
            out[one] = self.ranks_xy(xy[:, 0], xy[:, 1])
        other = np.flatnonzero(~one)  # empty, missing or not a point: exactly
        out[other] = _min_ranks(self.tree, geoms[other])
        return out

    def assign(self, points: gpd.GeoSeries) -> pd.Series:
        """Code of each point (None outside), aligned with ``points`` — as ``assign_areas``."""
        return pd.Series(self.codes[self.ranks(points.values)], index=points.index, dtype=object)


def _cache_key(areas: gpd.GeoDataFrame, code_col: str, cell_size: float | None) -> tuple:
    digest = hashlib.blake2b(digest_size=16)
    for wkb in shapely.to_wkb(np.asarray(areas.geometry.values, dtype=object)):
        digest.update(wkb if wkb is not None else b"\0")
    digest.update("\0".join(areas[code_col].astype(str)).encode())
    return (digest.hexdigest(), cell_size)


def locator_for(
    areas: gpd.GeoDataFrame, *, code_col: str = "code", cell_size: float | None = None
) -> GridLocator:
    """A GridLocator for ``areas``, reused while the same areas (geometry and codes) come back."""
    key = _cache_key(areas, code_col, cell_size)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    locator = GridLocator(areas, code_col=code_col, cell_size=cell_size)
    _CACHE[key] = locator
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return locator


def assign_areas_fast(
    points: gpd.GeoSeries, areas: gpd.GeoDataFrame, *, code_col: str = "code", cell_size: float | None = None
) -> pd.Series:
    """Code of the area holding each point, or None — the same answer as ``assign_areas``.

    Parameters
    ----------
    points : GeoSeries (Points; other geometries are checked exactly), EPSG:4326.
    areas : GeoDataFrame with polygons (EPSG:4326) and a ``code_col`` column.
    cell_size : raster cell side in degrees (default: see ``GridLocator``).

    Returns
    -------
    Series aligned with ``points``: the smallest code among the areas whose closed polygon
    intersects the point, None where none does. The raster of ``areas`` is cached by content.
    """
    if len(points) == 0 or len(areas) == 0:
        return pd.Series([None] * len(points), index=points.index, dtype=object)
    return locator_for(areas, code_col=code_col, cell_size=cell_size).assign(points)
