"""Place names drawn on a map from our own data: street names and grid codes as text labels.

With no background tiles a map shows its layers on a plain background, and nothing says where a
place is. These labels come from the database's streets (their names) and grids (their codes),
not from tiles. Each label is ``{"at": [lat, lon], "text": str, "cls": str, "min_zoom": int}``;
the page (``gridmap.labelLayer`` in :mod:`layers.maps.page`) shows those of the current zoom
that fit without overlapping one shown before them, in the order given (longest streets first).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from layers.projection import to_metric

STREET_MIN_ZOOM = 16  # a street's name from this zoom on (about 2 m a pixel)
GRID_MIN_ZOOM = 16  # a grid's code from this zoom on (a 100 m grid is some 60 px wide)
STREET_LABEL_EVERY_M = 400.0  # one label per this much of a named street (at least one each)
STREET_MIN_M = 40.0  # named pieces shorter than this get no label


def street_labels(streets: gpd.GeoDataFrame, *, min_zoom: int = STREET_MIN_ZOOM) -> list[dict[str, Any]]:
    """Labels along the named streets of ``streets`` (a ``name`` column; any CRS, lines).

    A street's segments are joined by name (``shapely.line_merge``); each joined run of at least
    :data:`STREET_MIN_M` metres gets a label at its middle, and one more per
    :data:`STREET_LABEL_EVERY_M`. Longest runs first, so a crowded view keeps the main streets.
    """
    if streets.empty or "name" not in streets:
        return []
    named = streets[streets["name"].fillna("").astype(str).str.strip() != ""]
    named = named[~(shapely.is_missing(named.geometry.values) | shapely.is_empty(named.geometry.values))]
    if named.empty:
        return []
    metric = to_metric(named.set_crs(4326) if named.crs is None else named)
    runs: list[tuple[float, str, Any]] = []
    # grouped by name with numpy (a pandas groupby cost 0.43 s for a city community's 1,942 names)
    names = metric["name"].astype(str).str.strip().to_numpy()
    geoms = np.asarray(metric.geometry.values)
    order = np.argsort(names, kind="stable")
    names, geoms = names[order], geoms[order]
    cuts = np.flatnonzero(names[1:] != names[:-1]) + 1
    for start, end in zip(np.r_[0, cuts], np.r_[cuts, len(names)], strict=True):
        merged = shapely.line_merge(shapely.union_all(geoms[start:end]))
        for line in shapely.get_parts(merged):
            if line.length >= STREET_MIN_M:
                runs.append((float(line.length), str(names[start]), line))
    runs.sort(key=lambda r: (-r[0], r[1]))
    points, texts = [], []
    for length, name, line in runs:
        n = max(1, int(length // STREET_LABEL_EVERY_M))
        for k in range(n):
            points.append(line.interpolate((k + 0.5) / n, normalized=True))
            texts.append(name)
    if not points:
        return []
    lonlat = gpd.GeoSeries(points, crs=metric.crs).to_crs(4326)
    return [
        {"at": [round(p.y, 6), round(p.x, 6)], "text": t, "cls": "street", "min_zoom": min_zoom}
        for p, t in zip(lonlat, texts, strict=True)
    ]


def grid_labels(boundary: gpd.GeoDataFrame, *, min_zoom: int = GRID_MIN_ZOOM) -> list[dict[str, Any]]:
    """A label with each grid's ``code`` at a point inside it (``representative_point``)."""
    if boundary.empty or "code" not in boundary:
        return []
    geoms = np.asarray(boundary.to_crs(4326).geometry.values if boundary.crs else boundary.geometry.values)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    inside = shapely.point_on_surface(geoms[keep])
    codes = boundary["code"].astype(str).to_numpy()[keep]
    return [
        {"at": [round(p.y, 6), round(p.x, 6)], "text": c, "cls": "grid-code", "min_zoom": min_zoom}
        for p, c in zip(inside, codes, strict=True)
    ]
