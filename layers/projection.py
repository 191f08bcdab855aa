"""Choosing a metric CRS for an area, and moving GeoDataFrames to and from it.

Every distance, buffer and area in gridmap is computed in metres in the CRS chosen here, never in
degrees. Inside China (centre longitude 73.5–136.5°E, latitude 3–54°N) that is the CGCS2000
3-degree Gauss-Krüger zone without zone prefix (EPSG:4534 "CM 75E" … EPSG:4554 "CM 135E",
false easting 500,000 m), the grid most Chinese survey and cadastral data already use; elsewhere
the WGS 84 UTM zone (EPSG:326xx north, 327xx south), or UPS beyond UTM's latitude limits.

The EPSG definitions of the Gauss-Krüger CRSs list northing first; geopandas transforms with
``always_xy``, so in shapely geometries x is always the easting and y the northing.
"""

from __future__ import annotations

import math
from typing import TypeAlias

import geopandas as gpd
import pyproj
from shapely.geometry.base import BaseGeometry

WGS84 = pyproj.CRS.from_epsg(4326)

CHINA_LON_RANGE = (73.5, 136.5)
CHINA_LAT_RANGE = (3.0, 54.0)
GK3_FIRST_EPSG = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E
GK3_FIRST_CM = 75
GK3_LAST_CM = 135  # EPSG:4554

AreaLike: TypeAlias = "gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | tuple[float, float]"


def gk3_epsg_for(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (no zone prefix) for a longitude.

    Parameters
    ----------
    lon : float
        Longitude in degrees east (EPSG:4326/4490). Values outside 73.5–136.5 are clamped to
        the first (CM 75E) or last (CM 135E) zone.

    Returns
    -------
    int
        An EPSG code in 4534–4554; the zone's central meridian is the multiple of 3° nearest
        to ``lon`` (a longitude half-way between two meridians goes to the eastern zone).
    """
    cm = 3 * math.floor((lon + 1.5) / 3)
    cm = min(max(cm, GK3_FIRST_CM), GK3_LAST_CM)
    return GK3_FIRST_EPSG + (cm - GK3_FIRST_CM) // 3


def utm_epsg_for(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 UTM zone (or UPS near the poles) holding a lon/lat position.

    Parameters
    ----------
    lon, lat : float
        Position in degrees (EPSG:4326).

    Returns
    -------
    int
        32601–32660 (north), 32701–32760 (south), 32661 (UPS north, lat > 84) or
        32761 (UPS south, lat < -80). The Norway/Svalbard zone exceptions are not applied.
    """
    if lat > 84.0:
        return 32661
    if lat < -80.0:
        return 32761
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def _centre_lonlat(area: AreaLike) -> tuple[float, float]:
    if isinstance(area, tuple):
        lon, lat = (float(v) for v in area)
        return lon, lat
    if isinstance(area, BaseGeometry):
        if area.is_empty:
            raise ValueError("cannot choose a metric CRS for an empty geometry")
        min_x, min_y, max_x, max_y = area.bounds
        return (min_x + max_x) / 2, (min_y + max_y) / 2
    if area.crs is None:
        raise ValueError("the GeoDataFrame has no CRS; set one (EPSG:4326 for lon/lat) first")
    geoms = area.geometry
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    if geoms.empty:
        raise ValueError("cannot choose a metric CRS for an empty GeoDataFrame")
    min_x, min_y, max_x, max_y = geoms.total_bounds
    if not pyproj.CRS(area.crs).equals(WGS84, ignore_axis_order=True):
        to_lonlat = pyproj.Transformer.from_crs(area.crs, WGS84, always_xy=True)
        min_x, min_y, max_x, max_y = to_lonlat.transform_bounds(min_x, min_y, max_x, max_y, densify_pts=21)
    return (min_x + max_x) / 2, (min_y + max_y) / 2


def metric_crs_for(area: AreaLike) -> pyproj.CRS:
    """Choose a metric (projected, metres) CRS suited to an area.

    Parameters
    ----------
    area : GeoDataFrame, GeoSeries, shapely geometry or (lon, lat)
        A GeoDataFrame/GeoSeries in any CRS (it must have one), or a shapely geometry or a
        ``(lon, lat)`` tuple in EPSG:4326 degrees. The area is located by the centre of its
        lon/lat bounding box (cheap and stable; areas crossing the antimeridian are not handled).

    Returns
    -------
    pyproj.CRS
        The CGCS2000 3-degree Gauss-Krüger zone (EPSG:4534–4554) when the centre lies within
        longitude 73.5–136.5 and latitude 3–54 (both inclusive), else the UTM/UPS zone.
    """
    return pyproj.CRS.from_epsg(metric_epsg_for(area))


def metric_epsg_for(area: AreaLike) -> int:
    """The EPSG code of ``metric_crs_for(area)`` (for SQL that projects with the same CRS)."""
    lon, lat = _centre_lonlat(area)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError("area centre is not a finite lon/lat position")
    in_china = (
        CHINA_LON_RANGE[0] <= lon <= CHINA_LON_RANGE[1] and CHINA_LAT_RANGE[0] <= lat <= CHINA_LAT_RANGE[1]
    )
    return gk3_epsg_for(lon) if in_china else utm_epsg_for(lon, lat)


def to_metric(gdf: gpd.GeoDataFrame, crs: pyproj.CRS | None = None) -> gpd.GeoDataFrame:
    """Project a GeoDataFrame to metres.

    Parameters
    ----------
    gdf : GeoDataFrame
        Any CRS (it must have one); usually EPSG:4326.
    crs : pyproj.CRS, optional
        Target CRS; by default ``metric_crs_for(gdf)``. Pass it to put several frames in the
        same CRS.

    Returns
    -------
    GeoDataFrame
        A copy in the metric CRS (x = easting, y = northing, metres).
    """
    target = crs if crs is not None else metric_crs_for(gdf)
    return gdf.to_crs(target)


def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in WGS84 longitude/latitude (EPSG:4326), the storage CRS."""
    if gdf.crs is None:
        raise ValueError("the GeoDataFrame has no CRS; cannot transform it to EPSG:4326")
    return gdf.to_crs(WGS84)
