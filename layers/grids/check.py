"""Quality check of unit grids (单元网格) against their communities.

Grids should tile each community with no gaps and no overlaps, be about the norm area
(10,000 m² in built-up areas), not be slivers, carry a valid 15-digit code (the community's
12-digit code + a 3-digit sequence 001–999) and have a leader. ``check_grids`` reports every
breach as one row of a findings GeoDataFrame in EPSG:4326; areas are in m², computed in the
metric CRS chosen by ``layers.projection.metric_crs_for``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from layers.projection import WGS84, metric_crs_for

KINDS = (
    "invalid_geometry",
    "bad_code",
    "code_not_in_community",
    "duplicate_code",
    "outside_community",
    "gap",
    "overlap",
    "sliver",
    "area_small",
    "area_large",
    "no_leader",
)
FINDING_COLUMNS = ["kind", "grid_code", "community_code", "area_m2", "detail", "geometry"]
GRID_CODE_RE = re.compile(r"\d{12}(?!000)\d{3}")
COMMUNITY_CODE_RE = re.compile(r"\d{12}")


def polygonal_part(geom: BaseGeometry | None) -> BaseGeometry | None:
    """Polygon/MultiPolygon made of the polygonal parts of ``geom``; None when there are none."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    merged = shapely.union_all(parts) if parts else None
    return None if merged is None or merged.is_empty else merged


def polsby_popper(geoms: Any) -> np.ndarray:
    """Compactness 4πA/P²: 1 for a circle, π/4 for a square, towards 0 for a thin strip; unitless.

    ``geoms`` is an array of polygons in a metric (conformal) CRS; the perimeter includes holes.
    Missing, empty or zero-perimeter geometries give 0.
    """
    area = np.nan_to_num(shapely.area(geoms))
    perimeter = np.nan_to_num(shapely.length(geoms))
    safe = np.where(perimeter > 0, perimeter, 1.0)
    return np.where(perimeter > 0, 4 * math.pi * area / safe**2, 0.0)


def _text(value: Any) -> str | None:
    """Stripped string, or None for None/NaN/NA/blank."""
    if isinstance(value, str):
        return value.strip() or None
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return None
    return str(value).strip() or None


def _repair(geom: BaseGeometry | None) -> tuple[BaseGeometry | None, str | None]:
    """A valid polygonal version of ``geom`` (or None) and why the input was not one (or None)."""
    if geom is None or geom.is_empty:
        return None, "geometry is missing or empty"
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return polygonal_part(geom), f"geometry is a {geom.geom_type}, not a polygon"
    if not geom.is_valid:
        reason = f"geometry is not valid ({shapely.is_valid_reason(geom)}); checked after make_valid"
        return polygonal_part(shapely.make_valid(geom)), reason
    return geom, None


@dataclass
class _Grids:
    """The grids in metric coordinates; ``geoms`` repaired (None when unusable)."""

    codes: list[str | None]
    communities: list[str | None]
    geoms: np.ndarray
    shown: np.ndarray  # what a grid's own finding shows: the repaired geometry, else the raw one
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, kind: str, i: int | None, detail: str, geom: Any = None, community: str | None = None
    ) -> None:
        geom = self.shown[i] if geom is None and i is not None else geom
        area = float(shapely.area(geom)) if geom is not None and not geom.is_empty else 0.0
        self.rows.append(
            {
                "kind": kind,
                "grid_code": self.codes[i] if i is not None else None,
                "community_code": self.communities[i] if i is not None else community,
                "area_m2": round(area, 2),
                "detail": detail,
                "geometry": geom,
            }
        )

    def usable(self) -> np.ndarray:
        return np.flatnonzero([g is not None for g in self.geoms])


def _check_codes(grids: _Grids) -> None:
    counts = pd.Series([c for c in grids.codes if c is not None], dtype=object).value_counts()
    for i, (code, community) in enumerate(zip(grids.codes, grids.communities, strict=True)):
        if community is None or not COMMUNITY_CODE_RE.fullmatch(community):
            grids.add("bad_code", i, f"community code {community!r} is not 12 digits")
        if code is None or not GRID_CODE_RE.fullmatch(code):
            detail = f"grid code {code!r} is not 15 digits (12-digit community code + sequence 001-999)"
            grids.add("bad_code", i, detail)
        elif community is not None and code[:12] != community:
            grids.add(
                "code_not_in_community", i, f"grid code {code} does not start with community {community}"
            )
        if code is not None and counts.get(code, 0) > 1:
            grids.add("duplicate_code", i, f"grid code {code} is used by {counts[code]} grids")


def _check_shape(
    grids: _Grids, *, norm_m2: float, tolerance: tuple[float, float], sliver_m2: float, thinness: float
) -> None:
    idx = grids.usable()
    areas = shapely.area(grids.geoms[idx])
    compactness = polsby_popper(grids.geoms[idx])
    low, high = tolerance[0] * norm_m2, tolerance[1] * norm_m2
    for i, area, pp in zip(idx.tolist(), areas.tolist(), compactness.tolist(), strict=True):
        sliver = area < sliver_m2 or pp < thinness
        if sliver:
            detail = (
                f"sliver: {area:.1f} m², compactness 4πA/P² {pp:.3f} (limits {sliver_m2:g} m², {thinness:g})"
            )
            grids.add("sliver", i, detail)
        if area < low and not sliver:
            grids.add("area_small", i, f"area {area:.0f} m² is below {low:.0f} m² ({tolerance[0]:g} × norm)")
        if area > high:
            grids.add("area_large", i, f"area {area:.0f} m² is above {high:.0f} m² ({tolerance[1]:g} × norm)")


def _check_overlaps(grids: _Grids, *, min_area_m2: float) -> None:
    idx = grids.usable()
    left, right = shapely.STRtree(grids.geoms[idx]).query(grids.geoms[idx], predicate="intersects")
    left, right = idx[left[left < right]], idx[right[left < right]]
    same = [grids.communities[a] == grids.communities[b] for a, b in zip(left, right, strict=True)]
    left, right = left[np.asarray(same, dtype=bool)], right[np.asarray(same, dtype=bool)]
    for a, b, geom in zip(
        left, right, shapely.intersection(grids.geoms[left], grids.geoms[right]), strict=True
    ):
        part = polygonal_part(geom)
        if part is not None and part.area > min_area_m2:
            detail = f"grids {grids.codes[a]} and {grids.codes[b]} overlap by {part.area:.1f} m²"
            grids.add("overlap", int(a), detail, geom=part)


def _check_coverage(grids: _Grids, community_geoms: dict[str, BaseGeometry], *, min_area_m2: float) -> None:
    idx = grids.usable().tolist()
    known = [i for i in idx if grids.communities[i] in community_geoms]
    for i in sorted(set(idx) - set(known)):
        grids.add("outside_community", i, f"community {grids.communities[i]!r} is not among the communities")
    boundaries = [community_geoms[grids.communities[i]] for i in known]  # type: ignore[index]
    for i, outside in zip(known, shapely.difference(grids.geoms[known], boundaries), strict=True):
        part = polygonal_part(outside)
        if part is not None and part.area > min_area_m2:
            detail = (
                f"{part.area:.1f} m² of grid {grids.codes[i]} lies outside community {grids.communities[i]}"
            )
            grids.add("outside_community", i, detail, geom=part)
    members: dict[str, list[int]] = {}
    for i in known:
        members.setdefault(grids.communities[i], []).append(i)  # type: ignore[arg-type]
    for community in sorted(community_geoms):
        mine = members.get(community, [])
        missing = community_geoms[community].difference(shapely.union_all(grids.geoms[mine]))
        note = "not covered by any grid" if mine else "(the community has no grids)"
        for gap in shapely.get_parts(polygonal_part(missing)):
            if gap.area > min_area_m2:
                grids.add("gap", None, f"gap of {gap.area:.1f} m² {note}", geom=gap, community=community)


def _objects(values: Any) -> np.ndarray:
    """A 1-d object array of geometries (None allowed)."""
    values = list(values)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _metric_crs(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> Any:
    for frame in (grids, communities):
        geoms = frame.geometry
        if frame.crs is not None and (geoms.notna() & ~geoms.is_empty).any():
            return metric_crs_for(frame)
    if grids.crs is None or communities.crs is None:
        raise ValueError("grids and communities need a CRS (EPSG:4326)")
    return metric_crs_for((120.0, 30.0))  # nothing to measure: any metric CRS will do


def _community_geoms(communities: gpd.GeoDataFrame) -> dict[str, BaseGeometry]:
    result: dict[str, BaseGeometry] = {}
    for code, raw in zip(communities["code"], communities.geometry, strict=True):
        key, geom = _text(code), _repair(raw)[0]
        if key is not None and geom is not None:
            result[key] = geom if key not in result else result[key].union(geom)
    return result


def check_grids(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    norm_area_m2: float = 10_000,
    area_tolerance: tuple[float, float] = (0.3, 3.0),
    sliver_area_m2: float = 50,
    sliver_thinness: float = 0.1,
    gap_min_area_m2: float = 1.0,
    overlap_min_area_m2: float = 0.01,
) -> gpd.GeoDataFrame:
    """Check unit grids against their communities and return one row per finding.

    Parameters
    ----------
    grids : GeoDataFrame
        Columns ``code`` (str, 15 digits), ``community_code`` (str, 12 digits), ``leader``
        (str or None; without the column no grid has a leader) and Polygon/MultiPolygon
        geometry, in EPSG:4326 (another CRS is transformed).
    communities : GeoDataFrame
        Columns ``code`` (12 digits) and polygon geometry, EPSG:4326; rows sharing a code are
        united.
    norm_area_m2 : float
        Norm grid area, m².
    area_tolerance : (float, float)
        A grid below ``low × norm`` is ``area_small``, above ``high × norm`` ``area_large``.
    sliver_area_m2, sliver_thinness : float
        A grid below this area (m²) or below this Polsby-Popper compactness 4πA/P² is a
        ``sliver`` (and then not also ``area_small``).
    gap_min_area_m2 : float
        Gaps, and grid parts outside their community, are reported above this area (m²).
    overlap_min_area_m2 : float
        Overlaps of two grids of one community are reported above this area (m²), so that
        floating-point noise along shared edges is not.

    Returns
    -------
    GeoDataFrame
        EPSG:4326, columns ``kind`` (one of ``KINDS``), ``grid_code`` (None for a gap; for an
        overlap the first grid, the detail names both), ``community_code``, ``area_m2`` (area of
        the row's geometry, m², 2 decimals), ``detail`` (English) and ``geometry``: the gap,
        overlap or outside part, else the grid. Sorted by kind (``KINDS`` order), community
        code, grid code, then area (largest first). Invalid grids are reported, then checked as
        repaired by ``make_valid``; a grid that cannot be repaired is only checked for codes
        and leader.
    """
    for frame, columns in ((grids, ("code", "community_code")), (communities, ("code",))):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"missing column(s): {', '.join(missing)}")
    crs = _metric_crs(grids, communities)
    grids_m = grids.to_crs(crs)
    raw = _objects(grids_m.geometry)
    repaired = [_repair(g) for g in raw]
    geoms = _objects([g for g, _ in repaired])
    checked = _Grids(
        codes=[_text(c) for c in grids_m["code"]],
        communities=[_text(c) for c in grids_m["community_code"]],
        geoms=geoms,
        shown=_objects([g if g is not None else r for g, r in zip(geoms, raw, strict=True)]),
    )
    for i, (_, reason) in enumerate(repaired):
        if reason is not None:
            checked.add("invalid_geometry", i, reason)
    _check_codes(checked)
    _check_shape(
        checked,
        norm_m2=norm_area_m2,
        tolerance=area_tolerance,
        sliver_m2=sliver_area_m2,
        thinness=sliver_thinness,
    )
    _check_overlaps(checked, min_area_m2=overlap_min_area_m2)
    _check_coverage(checked, _community_geoms(communities.to_crs(crs)), min_area_m2=gap_min_area_m2)
    leaders = grids_m["leader"] if "leader" in grids_m.columns else [None] * len(grids_m)
    for i, leader in enumerate(leaders):
        if _text(leader) is None:
            checked.add("no_leader", i, f"grid {checked.codes[i]} has no leader")
    return _findings_frame(checked.rows, crs)


def _findings_frame(rows: list[dict[str, Any]], crs: Any) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(rows, columns=FINDING_COLUMNS, geometry="geometry", crs=crs)
    for column in ("kind", "grid_code", "community_code", "detail"):  # plain str/None, not NaN
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    frame["area_m2"] = frame["area_m2"].astype("float64")
    if not frame.empty:
        keys = pd.DataFrame(
            {
                "kind": frame["kind"].map({kind: i for i, kind in enumerate(KINDS)}),
                "community": frame["community_code"].fillna(""),
                "grid": frame["grid_code"].fillna(""),
                "area": -frame["area_m2"],
            }
        )
        frame = frame.loc[keys.sort_values(list(keys.columns), kind="stable").index].reset_index(drop=True)
    return frame.to_crs(WGS84)
