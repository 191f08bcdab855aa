"""WGS84 <-> GCJ-02 held equal to the prcoords reference, and frames moved for display."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import prcoords
import pytest
import shapely
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box

from layers.chinacoords import (
    gcj02_for_display,
    gcj02_to_wgs84,
    in_china,
    shift_geometries,
    wgs84_to_gcj02,
)

# the demo town (Suzhou), Beijing, Urumqi, Sanya, Harbin, Lhasa; then Tokyo-side and Paris (outside)
PLACES = [
    (120.87, 31.62),
    (116.397, 39.909),
    (87.617, 43.826),
    (109.512, 18.252),
    (126.535, 45.803),
    (91.117, 29.647),
]
OUTSIDE = [(2.35, 48.85), (-74.0, 40.7), (139.0, 35.0)]


def reference(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prcoords warns for points outside China
        out = np.array([prcoords.wgs_gcj((b, a)) for a, b in zip(lon, lat, strict=True)])
    return out[:, 1], out[:, 0]


def spread(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Random points over the China rectangle and a margin around it."""
    rng = np.random.default_rng(seed)
    return rng.uniform(65, 145, n), rng.uniform(-5, 60, n)


def test_forward_equals_the_reference_everywhere() -> None:
    lon, lat = spread(20_000)
    lon = np.concatenate([lon, [p[0] for p in PLACES + OUTSIDE]])
    lat = np.concatenate([lat, [p[1] for p in PLACES + OUTSIDE]])
    glon, glat = wgs84_to_gcj02(lon, lat)
    rlon, rlat = reference(lon, lat)
    assert np.abs(glon - rlon).max() < 1e-9 and np.abs(glat - rlat).max() < 1e-9
    assert in_china(lon, lat).sum() > 5_000 and (~in_china(lon, lat)).sum() > 5_000


def test_the_offset_is_hundreds_of_metres_in_china_and_nothing_outside() -> None:
    lon, lat = np.array(PLACES).T
    glon, glat = wgs84_to_gcj02(lon, lat)
    metres = np.hypot((glon - lon) * 111_320 * np.cos(np.radians(lat)), (glat - lat) * 110_574)
    assert ((metres > 100) & (metres < 1000)).all(), metres
    olon, olat = np.array(OUTSIDE).T
    assert np.array_equal(np.column_stack(wgs84_to_gcj02(olon, olat)), np.column_stack([olon, olat]))


def test_inverse_undoes_the_forward_to_1e_9_degrees() -> None:
    lon, lat = spread(20_000, seed=3)
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    both = in_china(lon, lat) == in_china(glon, glat)  # the rectangle's edge is not invertible
    assert both.mean() > 0.99
    assert np.abs(wlon - lon)[both].max() < 1e-9 and np.abs(wlat - lat)[both].max() < 1e-9


def test_inverse_agrees_with_the_reference_iteration() -> None:
    lon, lat = np.array(PLACES).T
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    ref = np.array([prcoords.gcj_wgs_bored((b, a)) for a, b in zip(glon, glat, strict=True)])
    assert np.abs(wlon - ref[:, 1]).max() < 1e-7 and np.abs(wlat - ref[:, 0]).max() < 1e-7


def test_scalars_nan_and_empty_input() -> None:
    glon, glat = wgs84_to_gcj02(120.87, 31.62)
    assert (
        glon.shape == () and abs(float(glon) - reference(np.array([120.87]), np.array([31.62]))[0][0]) < 1e-12
    )
    nlon, nlat = wgs84_to_gcj02([np.nan], [31.0])
    assert np.isnan(nlon[0]) and nlat[0] == 31.0
    elon, elat = wgs84_to_gcj02([], [])
    assert elon.shape == (0,) and elat.shape == (0,)


def test_every_geometry_type_moves_vertex_by_vertex() -> None:
    x, y = 120.87, 31.62
    geoms = [
        Point(x, y),
        LineString([(x, y), (x + 0.01, y + 0.002)]),
        Polygon(box(x, y, x + 0.01, y + 0.01).exterior, [[(x + 0.002, y + 0.002), (x + 0.004, y + 0.002), (x + 0.003, y + 0.004)]]),
        MultiPolygon([box(x, y, x + 0.001, y + 0.001), box(x + 0.01, y, x + 0.011, y + 0.001)]),
        GeometryCollection([Point(x, y), LineString([(x, y), (x, y + 0.01)])]),
        Point(x, y, 12.5),
        None,
    ]  # fmt: skip
    moved = shift_geometries(np.array(geoms, dtype=object), to="gcj02")
    assert moved[-1] is None and shapely.get_coordinates(moved[5], include_z=True)[0, 2] == 12.5
    for before, after in zip(geoms[:-1], moved[:-1], strict=True):
        assert shapely.get_type_id(before) == shapely.get_type_id(after)
        src, dst = shapely.get_coordinates(before), shapely.get_coordinates(after)
        expected = np.column_stack(reference(src[:, 0], src[:, 1]))
        assert np.abs(dst - expected).max() < 1e-9
    back = shift_geometries(moved[:-1], to="wgs84")
    assert all(shapely.equals_exact(a, b, tolerance=1e-9) for a, b in zip(geoms[:-1], back, strict=True))
    with pytest.raises(ValueError):
        shift_geometries(moved, to="bd09")


def test_a_frame_is_copied_moved_and_reprojected_first() -> None:
    frame = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[Point(120.87, 31.62), None], crs=4326)
    in_metres = frame.to_crs(32651)
    for source in (frame, in_metres, frame.set_crs(None, allow_override=True)):
        shown = gcj02_for_display(source)
        assert shown.crs.to_epsg() == 4326 and list(shown["id"]) == [1, 2] and shown.geometry.iloc[1] is None
        lon, lat = reference(np.array([120.87]), np.array([31.62]))
        assert abs(shown.geometry.iloc[0].x - lon[0]) < 1e-8 and abs(shown.geometry.iloc[0].y - lat[0]) < 1e-8
    assert frame.geometry.iloc[0].equals(Point(120.87, 31.62)), "the input is not changed"
