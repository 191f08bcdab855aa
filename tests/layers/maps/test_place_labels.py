"""Street names and grid codes as map labels, whole-number classes of counts, and what the leader
map opens with (``shown``) and shows for coded values (``choices``). No database."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, Point, box

from layers.maps import MapAssets, grid_map
from layers.maps.classes import count_breaks
from layers.maps.place_labels import GRID_MIN_ZOOM, STREET_MIN_ZOOM, grid_labels, street_labels
from tests.layers.maps.test_maps import map_spec

LON, LAT = 120.87, 31.62
STEP = 0.001  # about 95 m east-west here


def _streets() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["人民路", "人民路", "短巷", "", None]},
        geometry=[
            LineString([(LON, LAT), (LON + 5 * STEP, LAT)]),  # 人民路 in two joined pieces, ~950 m
            LineString([(LON + 5 * STEP, LAT), (LON + 10 * STEP, LAT)]),
            LineString([(LON, LAT + STEP), (LON + 0.0002, LAT + STEP)]),  # ~19 m: too short to name
            LineString([(LON, LAT + 2 * STEP), (LON + 5 * STEP, LAT + 2 * STEP)]),  # no name
            LineString([(LON, LAT + 3 * STEP), (LON + 5 * STEP, LAT + 3 * STEP)]),
        ],
        crs=4326,
    )


def test_named_streets_are_joined_and_labelled_along_their_length() -> None:
    labels = street_labels(_streets())
    assert {label["text"] for label in labels} == {"人民路"}
    assert len(labels) == 2  # ~950 m: one label per 400 m
    assert all(label["cls"] == "street" and label["min_zoom"] == STREET_MIN_ZOOM for label in labels)
    lons = sorted(label["at"][1] for label in labels)
    assert LON < lons[0] < LON + 5 * STEP < lons[1] < LON + 10 * STEP  # spread along the street
    assert all(label["at"][0] == LAT for label in labels)
    assert street_labels(_streets().iloc[:0]) == [] and street_labels(_streets().drop(columns="name")) == []


def test_every_grid_gets_its_code_inside_it() -> None:
    grids = gpd.GeoDataFrame(
        {"code": ["320581107001001", "320581107001002"]},
        geometry=[box(LON, LAT, LON + STEP, LAT + STEP), box(LON + STEP, LAT, LON + 2 * STEP, LAT + STEP)],
        crs=4326,
    )
    labels = grid_labels(grids)
    assert [label["text"] for label in labels] == ["320581107001001", "320581107001002"]
    for label, shape in zip(labels, grids.geometry, strict=True):
        assert shape.contains(Point(label["at"][1], label["at"][0]))
        assert label["cls"] == "grid-code" and label["min_zoom"] == GRID_MIN_ZOOM


def test_classes_of_bunched_counts_are_ranges_not_single_values() -> None:
    bunched = np.concatenate([np.full(500, v) for v in (24, 25, 26, 27)] + [[1, 30], np.zeros(100)])
    breaks = count_breaks(bunched)
    lows = [1.0] + [b + 1 for b in breaks[:-1]]
    singles = [i for i, (lo, b) in enumerate(zip(lows, breaks, strict=True)) if lo >= b]
    assert breaks == sorted(set(breaks)) and breaks[-1] == 30
    assert not any(i + 1 in singles for i in singles)  # never "25 户, 26 户" side by side
    spread = np.concatenate([np.arange(1, 200), np.full(300, 3)])
    assert len(count_breaks(spread)) == 5 and all(float(b).is_integer() for b in count_breaks(spread))
    assert count_breaks(np.array([0, 2, 2, 7])) == [2.0, 7.0]  # 1–2, 3–7
    assert count_breaks(np.array([0, 1, 2, 3, 4, 5])) == [2.0, 4.0, 5.0]  # 1–2, 3–4, 5
    assert count_breaks(np.array([0.0, np.nan])) == []


def _frames() -> dict[str, gpd.GeoDataFrame]:
    empty = gpd.GeoDataFrame(geometry=[], crs=4326)
    facilities = gpd.GeoDataFrame(
        {"kind": ["hydrant", "street_light"], "name": ["h", "l"], "condition": ["damaged", "good"]},
        geometry=[Point(LON + 0.0003, LAT + 0.0003), Point(LON + 0.0005, LAT + 0.0005)],
        crs=4326,
    )
    buildings = gpd.GeoDataFrame(
        {"use": ["residential"], "households": [3]},
        geometry=[box(LON + 0.0001, LAT + 0.0001, LON + 0.0002, LAT + 0.0002)],
        crs=4326,
    )
    boundary = gpd.GeoDataFrame({"code": ["320581107001001"]}, geometry=[box(LON, LAT, LON + STEP, LAT + STEP)],
                                crs=4326)  # fmt: skip
    return {"boundary": boundary, "buildings": buildings, "facilities": facilities, "problems": empty}


KINDS = {"hydrant": {"name": "消火栓", "color": "#d7191c", "geom": "point"},
         "street_light": {"name": "路灯", "color": "#ffd700", "geom": "point"}}  # fmt: skip


def test_the_map_opens_with_the_layers_named_and_shows_texts_for_codes() -> None:
    page = grid_map(
        **_frames(), kinds=KINDS, assets=MapAssets(), tiles=None, streets=_streets(),
        shown={"boundary", "facility:hydrant", "place_labels"},
        choices={"use": {"residential": "住宅"}, "condition": {"damaged": "损坏"}},
    ).get_root().render()  # fmt: skip
    spec = map_spec(page)
    layers = {layer["key"]: layer for layer in spec["layers"]}
    assert {k for k, v in layers.items() if v["show"]} == {"boundary", "facility:hydrant", "place_labels"}
    assert layers["buildings"]["data"]["props"]["use"] == ["住宅"]
    assert layers["facility:hydrant"]["data"]["props"]["condition"] == ["损坏"]
    assert layers["facility:street_light"]["data"]["props"]["condition"] == ["good"]  # not in choices: as is
    texts = [label["text"] for label in layers["place_labels"]["labels"]]
    assert texts[:2] == ["人民路", "人民路"] and texts[-1] == "320581107001001"
    assert layers["streets"]["data"]["n"] == 5 and "popup" not in layers["streets"]
    assert spec["legend_title"] == "图例"
    assert "L.control.scale({imperial: false, metric: true})" in page


def test_without_streets_only_the_grid_codes_are_labels_and_every_plain_layer_is_on() -> None:
    spec = map_spec(grid_map(**_frames(), kinds=KINDS, assets=MapAssets(), tiles=None).get_root().render())
    layers = {layer["key"]: layer for layer in spec["layers"]}
    assert "streets" not in layers
    assert [label["cls"] for label in layers["place_labels"]["labels"]] == ["grid-code"]
    assert all(layer["show"] for layer in layers.values())


def test_tiled_layers_show_the_texts_of_coded_values_too() -> None:
    page = grid_map(
        **_frames(), kinds=KINDS, assets=MapAssets(), tiles=None,
        tiled={"buildings": "/tiles/vt/buildings/{z}/{x}/{y}.pbf?grid=1",
               "facilities": "/tiles/vt/facilities/{z}/{x}/{y}.pbf?grid=1"},
        choices={"use": {"residential": "住宅"}, "condition": {"damaged": "损坏"}},
    ).get_root().render()  # fmt: skip
    layers = {layer["key"]: layer for layer in map_spec(page)["layers"]}
    assert layers["buildings"]["derived"]["use"] == ["use", {"residential": "住宅"}]
    assert layers["facility:hydrant"]["derived"]["condition"] == ["condition", {"damaged": "损坏"}]
