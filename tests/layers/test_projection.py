"""Tests of layers.projection: metric CRS choice and round trips (no database, no network)."""

from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import Point, box

from layers.projection import gk3_epsg_for, metric_crs_for, to_metric, to_wgs84, utm_epsg_for

CHANGSHU = (120.87, 31.63)


@pytest.mark.parametrize("epsg", range(4534, 4555))
def test_gk3_codes_are_the_cgcs2000_cm_zones(epsg: int) -> None:
    crs = pyproj.CRS.from_epsg(epsg)
    cm = 75 + 3 * (epsg - 4534)
    assert crs.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"
    assert crs.is_projected and crs.axis_info[0].unit_name == "metre"
    operation = crs.coordinate_operation
    assert operation is not None
    params = {p.name: p.value for p in operation.params}
    assert params["Longitude of natural origin"] == cm
    assert params["False easting"] == 500_000
    assert gk3_epsg_for(cm) == epsg


@pytest.mark.parametrize(
    ("lon", "epsg"),
    [(73.5, 4534), (76.49, 4534), (76.5, 4535), (116.4, 4548), (120.87, 4549), (121.5, 4550), (136.5, 4554)],
)
def test_gk3_zone_boundaries(lon: float, epsg: int) -> None:
    assert gk3_epsg_for(lon) == epsg


@pytest.mark.parametrize(
    ("lonlat", "epsg"),
    [
        (CHANGSHU, 4549),  # Changshu, Jiangsu: CM 120E
        ((116.40, 39.90), 4548),  # Beijing: CM 117E
        ((87.62, 43.83), 4538),  # Urumqi: CM 87E
        ((126.63, 45.75), 4551),  # Harbin: CM 126E
        ((-0.12, 51.50), 32630),  # London: UTM 30N
        ((151.21, -33.87), 32756),  # Sydney: UTM 56S
        ((100.0, 2.9), 32647),  # south of China's latitude range: UTM 47N
        ((110.0, 55.0), 32649),  # north of it: UTM 49N
        ((140.0, 35.0), 32654),  # east of the longitude range: UTM 54N
        ((10.0, 85.0), 32661),  # beyond UTM: UPS north
    ],
)
def test_metric_crs_for_positions(lonlat: tuple[float, float], epsg: int) -> None:
    crs = metric_crs_for(lonlat)
    assert crs.to_epsg() == epsg
    assert crs.is_projected


def test_utm_zone_numbers() -> None:
    assert utm_epsg_for(-180.0, 10.0) == 32601
    assert utm_epsg_for(179.9, -10.0) == 32760
    assert utm_epsg_for(3.0, 0.0) == 32631


def test_metric_crs_for_frames_in_any_crs() -> None:
    points = gpd.GeoDataFrame(geometry=[Point(120.80, 31.60), Point(120.94, 31.66)], crs=4326)
    assert metric_crs_for(points).to_epsg() == 4549
    assert metric_crs_for(points.to_crs(3857)).to_epsg() == 4549
    assert metric_crs_for(points.geometry).to_epsg() == 4549
    assert metric_crs_for(box(120.80, 31.60, 120.94, 31.66)).to_epsg() == 4549


def test_metric_crs_for_refuses_what_it_cannot_locate() -> None:
    with pytest.raises(ValueError, match="no CRS"):
        metric_crs_for(gpd.GeoDataFrame(geometry=[Point(120.8, 31.6)]))
    with pytest.raises(ValueError, match="empty"):
        metric_crs_for(gpd.GeoDataFrame(geometry=[], crs=4326))
    with pytest.raises(ValueError, match="empty"):
        metric_crs_for(Point())


def test_round_trip_keeps_metres() -> None:
    crs = metric_crs_for(CHANGSHU)
    origin = gpd.GeoSeries([Point(*CHANGSHU)], crs=4326).to_crs(crs).iloc[0]
    square = box(origin.x, origin.y, origin.x + 100, origin.y + 100)
    metric = gpd.GeoDataFrame({"name": ["a"]}, geometry=[square], crs=crs)

    lonlat = to_wgs84(metric)
    assert lonlat.crs.to_epsg() == 4326
    assert lonlat.geometry.iloc[0].bounds[0] == pytest.approx(CHANGSHU[0], abs=1e-9)

    back = to_metric(lonlat)
    assert back.crs.to_epsg() == 4549
    assert back.geometry.iloc[0].area == pytest.approx(10_000, rel=1e-9)
    assert back.geometry.iloc[0].length == pytest.approx(400, rel=1e-9)
    assert list(back["name"]) == ["a"]


def test_to_metric_accepts_a_chosen_crs() -> None:
    points = gpd.GeoDataFrame(geometry=[Point(120.87, 31.63)], crs=4326)
    utm = pyproj.CRS.from_epsg(32651)
    assert to_metric(points, utm).crs == utm


def test_gauss_kruger_distances_match_the_ellipsoid() -> None:
    # 0.01° of latitude near 31.63°N is 1,109 m on the GRS80 ellipsoid.
    pair = gpd.GeoDataFrame(geometry=[Point(120.87, 31.63), Point(120.87, 31.64)], crs=4326)
    metric = to_metric(pair)
    geod = pyproj.Geod(ellps="GRS80")
    _, _, expected = geod.inv(120.87, 31.63, 120.87, 31.64)
    assert metric.geometry.iloc[0].distance(metric.geometry.iloc[1]) == pytest.approx(expected, rel=1e-4)


def test_to_wgs84_needs_a_crs() -> None:
    with pytest.raises(ValueError, match="no CRS"):
        to_wgs84(gpd.GeoDataFrame(geometry=[Point(0, 0)]))
