"""The one GeoJSON writer: every polygon comes out wound by RFC 7946's right-hand rule (exterior
counter-clockwise, holes clockwise) with its area unchanged, whatever winding it came in with;
missing and empty geometries are dropped and counted, never written as null."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape

from layers.io import collection, dumps, frame_features, geometry_mapping, geometry_texts


def signed_area(ring: list[list[float]]) -> float:
    """Shoelace: positive for a counter-clockwise ring."""
    xs, ys = np.asarray(ring).T
    return float(np.sum(xs[:-1] * ys[1:] - xs[1:] * ys[:-1]) / 2)


def polygons_of(geometry: dict) -> list[list]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    return []


def assert_right_hand(geometry: dict) -> None:
    for rings in polygons_of(geometry):
        assert signed_area(rings[0]) > 0, "exterior ring must run counter-clockwise"
        for hole in rings[1:]:
            assert signed_area(hole) < 0, "holes must run clockwise"


@st.composite
def polygons(draw: st.DrawFn) -> Polygon:
    """A box in the town's degrees with up to two holes, each ring in either winding."""
    x = draw(st.floats(120.0, 121.0))
    y = draw(st.floats(31.0, 32.0))
    w = draw(st.floats(1e-4, 1e-2))
    h = draw(st.floats(1e-4, 1e-2))
    shell = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    holes = []
    for k in range(draw(st.integers(0, 2))):
        hx0, hx1 = x + w * (0.1 + 0.45 * k), x + w * (0.4 + 0.45 * k)
        hole = [(hx0, y + h * 0.2), (hx1, y + h * 0.2), (hx1, y + h * 0.8), (hx0, y + h * 0.8)]
        holes.append(hole[::-1] if draw(st.booleans()) else hole)
    if draw(st.booleans()):
        shell = shell[::-1]
    return Polygon(shell, holes)


geometries = st.one_of(
    polygons(),
    st.lists(polygons(), min_size=1, max_size=3).map(
        lambda ps: MultiPolygon([shapely.affinity.translate(p, xoff=0.05 * i) for i, p in enumerate(ps)])
    ),
)


@settings(max_examples=200, deadline=None)
@given(geometries)
def test_property_every_polygon_comes_out_right_hand_with_its_area(geom):
    (text,) = geometry_texts([geom])
    written = json.loads(text)
    assert_right_hand(written)
    assert shape(written).area == pytest.approx(geom.area, rel=1e-12)
    assert shape(written).equals(geom)
    mapped = geometry_mapping(geom)
    assert_right_hand(json.loads(json.dumps(mapped)))


def test_a_clockwise_polygon_with_a_counter_clockwise_hole_is_turned():
    clockwise = Polygon([(0, 0), (0, 1), (1, 1), (1, 0)], [[(0.2, 0.2), (0.4, 0.2), (0.4, 0.4)]])
    assert signed_area(list(clockwise.exterior.coords)) < 0  # the case the writer must mend
    (text,) = geometry_texts([clockwise])
    assert_right_hand(json.loads(text))


def test_empty_and_missing_geometries_are_dropped_and_counted():
    frame = gpd.GeoDataFrame(
        {"code": ["a", "b", "c", "d"], "n": [1, 2, 3, 4]},
        geometry=[Point(1, 2), None, Polygon(), LineString([(0, 0), (1, 1)])],
        crs=4326,
    )
    written = frame_features(frame, id_column="code")
    assert written.dropped_empty == 2
    doc = json.loads(dumps(collection(written.features, dropped_empty=written.dropped_empty)))
    assert [f["id"] for f in doc["features"]] == ["a", "d"]
    assert all(f["geometry"] is not None for f in doc["features"]) and doc["dropped_empty"] == 2
    assert doc["features"][0]["geometry"] == {"type": "Point", "coordinates": [1.0, 2.0]}
    assert geometry_mapping(None) is None and geometry_mapping(Polygon()) is None


def test_values_are_plain_and_times_iso_with_t_to_the_second():
    frame = gpd.GeoDataFrame(
        {
            "at": [datetime(2026, 9, 6, 20, 15, 3, 999, tzinfo=timezone(timedelta(hours=8)))],
            "naive": [datetime(2026, 9, 6, 12, 15, 3, 5)],
            "share": [float("nan")],
            "count": [np.int64(3)],
            "name": ["东门菜场"],
        },
        geometry=[Point(120.7, 31.6)],
        crs=4326,
    )
    props = json.loads(dumps(collection(frame_features(frame).features)))["features"][0]["properties"]
    assert props == {"at": "2026-09-06T12:15:03Z", "naive": "2026-09-06T12:15:03", "share": None,
                     "count": 3, "name": "东门菜场"}  # fmt: skip
    assert datetime.fromisoformat(props["at"]) == datetime(2026, 9, 6, 12, 15, 3, tzinfo=UTC)
