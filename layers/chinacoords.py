"""WGS84 <-> GCJ-02, the offset datum of consumer map tiles in China (AMap/Gaode, Tencent).

GCJ-02 moves every point by a smooth, position-dependent offset of a few hundred metres. Our data
stay in WGS84 (EPSG:4326) everywhere; these functions only move frames for *display* on a GCJ-02
tile source, and move a position clicked on such a map back to WGS84.

The forward formula is the published one (Krasovsky 1940 semi-major axis and eccentricity, as in
the ``prcoords`` reference that ``tests/layers/test_chinacoords.py`` holds it equal to), vectorised
with numpy. "Outside China" is the usual rectangle lon 72.004..137.8347, lat 0.8293..55.8271: points
outside it are returned unchanged, as GCJ-02 services do. The inverse has no closed form; it is
solved by fixed-point iteration (the offset changes by less than 1e-4 of a degree per degree, so
each step gains about four digits).
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

KRASOVSKY_A_M = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)
INVERSE_TOLERANCE_DEG = 1e-12
INVERSE_MAX_STEPS = 30

Floats = npt.NDArray[np.float64]


def in_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where (lon, lat) lies in the rectangle GCJ-02 applies to (NaN is outside)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])


def _offset_deg(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat), ignoring the China test."""
    x, y = lon - 105.0, lat - 35.0
    xpi, ypi = x * np.pi, y * np.pi
    common = 20.0 * np.sin(6.0 * xpi) + 20.0 * np.sin(2.0 * xpi)
    dlat_m = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (common + 20.0 * np.sin(ypi) + 40.0 * np.sin(ypi / 3.0)
           + 160.0 * np.sin(ypi / 12.0) + 320.0 * np.sin(ypi / 30.0)) * 2.0 / 3.0
    )  # fmt: skip
    dlon_m = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (common + 20.0 * np.sin(xpi) + 40.0 * np.sin(xpi / 3.0)
           + 150.0 * np.sin(xpi / 12.0) + 300.0 * np.sin(xpi / 30.0)) * 2.0 / 3.0
    )  # fmt: skip
    rad_lat = np.radians(lat)
    magic = 1.0 - KRASOVSKY_EE * np.sin(rad_lat) ** 2
    lat_deg_m = np.radians(KRASOVSKY_A_M * (1.0 - KRASOVSKY_EE) / (magic * np.sqrt(magic)))
    lon_deg_m = np.radians(KRASOVSKY_A_M * np.cos(rad_lat) / np.sqrt(magic))
    return dlon_m / lon_deg_m, dlat_m / lat_deg_m


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """GCJ-02 (lon, lat) in degrees of WGS84 (lon, lat) arrays; unchanged outside China."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    inside = in_china(lon, lat)
    dlon, dlat = _offset_deg(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """WGS84 (lon, lat) whose GCJ-02 image is the given (lon, lat), to about 1e-12 degrees.

    Points outside China are unchanged (so are points whose GCJ-02 image is, near the edge).
    """
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    inside = in_china(glon, glat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(INVERSE_MAX_STEPS):
        dlon, dlat = _offset_deg(wlon, wlat)
        next_lon, next_lat = glon - dlon, glat - dlat
        step = np.maximum(np.abs(next_lon - wlon), np.abs(next_lat - wlat))
        wlon, wlat = next_lon, next_lat
        if not np.any(step[inside] > INVERSE_TOLERANCE_DEG):
            break
    return np.where(inside, wlon, glon), np.where(inside, wlat, glat)


def _on_coords(fn: Callable[[Floats, Floats], tuple[Floats, Floats]]) -> Callable[[Floats], Floats]:
    """A shapely.transform callback applying ``fn`` to the x, y columns (z, if any, kept)."""

    def apply(coords: Floats) -> Floats:
        out = coords.copy()
        out[:, 0], out[:, 1] = fn(coords[:, 0], coords[:, 1])
        return out

    return apply


def shift_geometries(geoms: npt.ArrayLike, *, to: str) -> npt.NDArray[np.object_]:
    """Shapely geometries of any type moved WGS84 -> GCJ-02 (``to="gcj02"``) or back (``"wgs84"``)."""
    fn = {"gcj02": wgs84_to_gcj02, "wgs84": gcj02_to_wgs84}.get(to)
    if fn is None:
        raise ValueError(f"to must be 'gcj02' or 'wgs84', not {to!r}")
    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object), _on_coords(fn), include_z=None))


def gcj02_for_display(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of ``gdf`` (any CRS; none is taken as WGS84) with every geometry moved to GCJ-02.

    For drawing on a GCJ-02 tile source only: the result keeps the EPSG:4326 label that map
    builders expect, but its coordinates are GCJ-02 and must never be stored or measured.
    """
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    out = gdf.copy()
    out[gdf.geometry.name] = gpd.GeoSeries(
        shift_geometries(gdf.geometry.values, to="gcj02"), index=gdf.index, crs=gdf.crs or 4326
    )
    return out.set_crs(4326, allow_override=True)
