"""Every hotspot outline is one valid Polygon containing its points, whatever the points: one spot
repeated, points on a line (in degrees, so nearly collinear in metres), duplicates, a sliver; and
it is written as a right-hand wound GeoJSON Polygon by the one writer (``layers.io``)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import orjson
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from layers.hotspots import density_clusters
from layers.hotspots.clusters import PAD_M, summarise_clusters
from layers.io import frame_features
from layers.projection import metric_crs_for
from tests.layers.io.test_geojson_writer import assert_right_hand

DEGREE_M = 111_000.0  # metres per degree of latitude, near enough to place points


@st.composite
def degenerate_clouds(draw: st.DrawFn) -> np.ndarray:
    """Points (lon, lat) of one cluster that give a Point, a LineString or a sliver as their hull."""
    lon, lat = draw(st.floats(100.0, 125.0)), draw(st.floats(20.0, 45.0))
    n = draw(st.integers(1, 25))
    shape = draw(st.sampled_from(["spot", "line", "sliver", "line-and-spot"]))
    angle = draw(st.floats(0, np.pi))
    steps = np.asarray(draw(st.lists(st.sampled_from([0.0, 0.5, 3.0, 40.0, 120.0]), min_size=n, max_size=n)))
    if shape == "spot":
        steps[:] = 0.0
    along = np.column_stack([np.cos(angle) * steps, np.sin(angle) * steps])  # metres along the line
    if shape == "sliver":  # off the line by less than a millimetre
        along += draw(st.floats(1e-6, 1e-3)) * np.column_stack(
            [-np.sin(angle) * np.arange(n) % 2, np.zeros(n)]
        )
    if shape == "line-and-spot":
        along = np.vstack([along, np.zeros((draw(st.integers(1, 5)), 2))])  # duplicates of the first
    scale = np.array([1 / (DEGREE_M * np.cos(np.radians(lat))), 1 / DEGREE_M])
    return np.array([lon, lat]) + along * scale


def outlines(lonlat: np.ndarray, outline: str) -> gpd.GeoDataFrame:
    points = gpd.GeoDataFrame(geometry=shapely.points(lonlat), crs=4326)
    return summarise_clusters(points, np.zeros(len(points), dtype=np.int64), outline=outline)


def assert_polygon_around(frame: gpd.GeoDataFrame, lonlat: np.ndarray) -> None:
    (geom,) = frame.geometry.values
    assert geom.geom_type == "Polygon" and geom.is_valid and not geom.is_empty, geom.wkt
    assert frame["area_m2"].iloc[0] > 0
    # the points, back from metres to degrees: on or inside the outline (to a millionth of a metre)
    assert shapely.dwithin(geom, shapely.points(lonlat), 1e-11).all()
    (feature,) = frame_features(frame, id_column="cluster_id").features
    written = orjson.loads(orjson.dumps(feature["geometry"]))
    assert written["type"] == "Polygon"
    assert_right_hand(written)


@given(lonlat=degenerate_clouds(), outline=st.sampled_from(["convex", "concave"]))
def test_every_outline_is_a_polygon_around_its_points(lonlat, outline):
    assert_polygon_around(outlines(lonlat, outline), lonlat)


def test_one_spot_is_a_disc_of_the_pad_and_a_line_a_strip():
    spot = np.array([[120.62, 31.31]] * 5)
    disc = outlines(spot, "convex")
    assert_polygon_around(disc, spot)
    assert disc["area_m2"].iloc[0] == pytest.approx(np.pi * PAD_M**2, rel=0.1)  # a 16-gon of radius PAD_M
    line = np.array([[120.62, 31.31], [120.62, 31.3109], [120.62, 31.3118]])  # ~200 m north
    strip = outlines(line, "concave")
    assert_polygon_around(strip, line)
    length = shapely.length(gpd.GeoSeries(shapely.linestrings(line), crs=4326).to_crs(metric_crs_for(strip)))[
        0
    ]
    assert strip["area_m2"].iloc[0] == pytest.approx(2 * PAD_M * length + np.pi * PAD_M**2, rel=0.05)


def test_a_cluster_with_area_keeps_its_hull():
    """A hull with area is not widened: its vertices are the cluster's outer points."""
    square = np.array(
        [[120.62, 31.31], [120.6205, 31.31], [120.6205, 31.3105], [120.62, 31.3105], [120.6202, 31.3102]]
    )
    (geom,) = outlines(square, "convex").geometry.values
    assert sorted(shapely.get_coordinates(geom)[:-1].round(9).tolist()) == sorted(
        square[:4].round(9).tolist()
    )


def test_density_clusters_of_stacked_reports_are_polygons():
    """The demo's case: five reports at one spot and six along a lane (5 m apart) make two polygon outlines."""
    lonlat = np.vstack(
        [[[120.62, 31.31]] * 5, np.column_stack([np.full(6, 120.63), 31.31 + np.arange(6) * 4.5e-5])]
    )
    points = gpd.GeoDataFrame({"category": ["0101"] * 11}, geometry=shapely.points(lonlat), crs=4326)
    frame = density_clusters(points, eps_m=20, min_samples=5)
    assert frame["size"].tolist() == [6, 5]
    assert set(frame.geom_type) == {"Polygon"} and frame.is_valid.all()
