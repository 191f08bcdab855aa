"""Spacing of facilities along streets: stretches longer than the rule with no facility.

Streets of one name and road class are merged into *ways* (``shapely.line_merge``; unnamed
rows stay ways of their own). Facilities within ``snap_m`` of a way are projected onto it;
a stretch is the part of the way between two consecutive facilities, or between a way end and
its first/last facility. A stretch longer than the class's maximum spacing is a gap. Each gap
names the street rows lying entirely inside it (rows with no facility at all along that
stretch) and all rows it touches. Everything is measured in metres in the metric CRS of the
streets (:func:`layers.projection.metric_crs_for`).

Road classes follow CJJ 27's litter-bin rule (commercial 50–100 m, main/secondary roads
100–200 m, branch roads 200–400 m): ``ROAD_CLASS`` maps OSM/our ``highway`` values to them.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from layers.projection import WGS84, metric_crs_for

__all__ = ["BIN_SPACING_M", "ROAD_CLASS", "road_class", "spacing_gaps"]

ROAD_CLASS: dict[str, str] = {
    "pedestrian": "commercial",
    "living_street": "commercial",
    "trunk": "main",
    "trunk_link": "main",
    "primary": "main",
    "primary_link": "main",
    "secondary": "main",
    "secondary_link": "main",
    "tertiary": "branch",
    "tertiary_link": "branch",
    "unclassified": "branch",
    "residential": "branch",
    "footway": "branch",
}
"""highway value -> spacing class; values not listed (service, path, steps, motorway ...) are
not checked."""

BIN_SPACING_M: dict[str, float] = {"commercial": 100.0, "main": 200.0, "branch": 400.0}
"""CJJ 27-2012 upper bounds of litter-bin spacing per class, metres."""


def road_class(highway: pd.Series, classes: Mapping[str, str] | None = None) -> pd.Series:
    """Spacing class of each ``highway`` value (None where the value is not checked)."""
    table = ROAD_CLASS if classes is None else classes
    return pd.Series(
        [table.get(h) if isinstance(h, str) else None for h in highway], index=highway.index, dtype=object
    )


def _ways(lines: gpd.GeoDataFrame) -> list[tuple[str, str, shapely.LineString]]:
    """(name, class, merged line) per named street and class; unnamed rows one by one."""
    out: list[tuple[str, str, shapely.LineString]] = []
    for (name, cls), group in lines.groupby(["_name", "_class"], sort=True):
        geoms = group.geometry.to_numpy()
        merged = shapely.line_merge(shapely.union_all(geoms)) if name else shapely.multilinestrings(geoms)
        for part in shapely.get_parts(merged):
            out.append((str(name), str(cls), part))
    return out


def spacing_gaps(
    streets: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_spacing_m: float | Mapping[str, float],
    snap_m: float = 20.0,
    street_id_col: str = "id",
    facility_id_col: str = "id",
    classes: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Stretches of street longer than the maximum spacing with no facility.

    Parameters
    ----------
    streets : GeoDataFrame
        LineStrings, EPSG:4326, with ``highway`` and ``name`` columns and ``street_id_col``.
    facilities : GeoDataFrame or GeoSeries
        Points (EPSG:4326) of one kind.
    max_spacing_m : float or mapping of class -> float
        One maximum for every checked class (hydrants: 120), or one per class (litter bins:
        :data:`BIN_SPACING_M`); classes missing from the mapping are not checked.
    snap_m : float
        A facility counts for a way when within this distance of it (metres).
    classes : mapping, optional
        highway -> class table (default :data:`ROAD_CLASS`).

    Returns
    -------
    GeoDataFrame (EPSG:4326), one row per gap, longest first: ``name``, ``road_class``,
    ``rule_m``, ``gap_m``, ``from_facility`` / ``to_facility`` (None at a way end),
    ``segments_without`` (ids of rows entirely inside the gap), ``segments`` (ids of all rows
    the gap touches), geometry (the stretch).
    """
    cols = [
        "name",
        "road_class",
        "rule_m",
        "gap_m",
        "from_facility",
        "to_facility",
        "segments_without",
        "segments",
    ]
    empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=WGS84))
    if streets.empty:
        return empty
    crs = metric_crs_for(streets)
    lines = streets.to_crs(crs) if streets.crs is not None else streets.set_crs(WGS84).to_crs(crs)
    lines = lines.assign(
        _name=lines["name"].fillna("").astype(str) if "name" in lines else "",
        _class=road_class(lines["highway"], classes),
        _id=lines[street_id_col].to_numpy(dtype=object) if street_id_col in lines else lines.index,
    )
    lines = lines[lines["_class"].notna() & lines.geometry.geom_type.isin(["LineString", "MultiLineString"])]
    fac = facilities.geometry if isinstance(facilities, gpd.GeoDataFrame) else facilities
    fac_xy = np.asarray((fac if fac.crs is not None else fac.set_crs(WGS84)).to_crs(crs).values, dtype=object)
    fac_ids = (
        facilities[facility_id_col].to_numpy(dtype=object)
        if isinstance(facilities, gpd.GeoDataFrame) and facility_id_col in facilities
        else facilities.index.to_numpy(dtype=object)
    )
    fac_tree = shapely.STRtree(fac_xy)
    row_tree = shapely.STRtree(lines.geometry.to_numpy())
    rows: list[dict[str, object]] = []
    geoms: list[shapely.LineString] = []
    for name, cls, way in _ways(lines):
        rule = max_spacing_m.get(cls) if isinstance(max_spacing_m, Mapping) else float(max_spacing_m)
        if rule is None or way.length <= rule:
            continue
        near = fac_tree.query(way, predicate="dwithin", distance=snap_m)
        at = shapely.line_locate_point(way, fac_xy[near]) if len(near) else np.zeros(0)
        order = np.lexsort((near, at))
        stops = np.r_[0.0, at[order], way.length]
        names = [None, *fac_ids[near[order]], None]
        for k in np.flatnonzero(np.diff(stops) > rule):
            stretch = substring(way, stops[k], stops[k + 1])
            inside, touched = _rows_in(stretch, lines, row_tree)
            rows.append(
                {
                    "name": name,
                    "road_class": cls,
                    "rule_m": float(rule),
                    "gap_m": float(stops[k + 1] - stops[k]),
                    "from_facility": names[k],
                    "to_facility": names[k + 1],
                    "segments_without": inside,
                    "segments": touched,
                }
            )
            geoms.append(stretch)
    if not rows:
        return empty
    out = gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geoms, crs=crs)).to_crs(WGS84)
    for col in ("from_facility", "to_facility"):  # None (a way end), not NaN
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out.sort_values(["gap_m", "name"], ascending=[False, True]).reset_index(drop=True)


def _rows_in(
    stretch: shapely.LineString, lines: gpd.GeoDataFrame, tree: shapely.STRtree
) -> tuple[list, list]:
    """Ids of street rows inside ``stretch`` (within 1 cm) and of rows sharing more than a point."""
    hits = tree.query(stretch, predicate="dwithin", distance=0.01)
    geoms = lines.geometry.to_numpy()[hits]
    ids = lines["_id"].to_numpy()[hits]
    band = stretch.buffer(0.01)
    inside = shapely.covered_by(geoms, band)
    shared = shapely.length(shapely.intersection(geoms, band)) > 0.05
    order = np.argsort(ids.astype(str))
    return [ids[i] for i in order if inside[i]], [ids[i] for i in order if shared[i] or inside[i]]
