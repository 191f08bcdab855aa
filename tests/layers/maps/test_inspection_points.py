"""The campaign's inspection points on the leader map: one layer coloured by type, with its
legend, escaped names, on at first on a wide screen and marked to stay off on a phone."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from shapely.geometry import Point, box

from layers.maps.labels import DEFAULT_LABELS
from tests.layers.maps.test_maps import grid  # noqa: F401  (a fixture)
from tests.layers.maps.test_maps_leader import layers_of, render

TYPES = {
    "market": {"name": "农贸市场", "color": "#d7191c"},
    "bus_stop": {"name": "公交站点", "color": "#5e3c99"},
}


def _points(grid: dict[str, Any]) -> gpd.GeoDataFrame:  # noqa: F811
    x0, y0, x1, y1 = grid["boundary"].total_bounds
    return gpd.GeoDataFrame(
        {"type": ["market", "bus_stop", "castle"], "name": ["东门<b>菜场</b>", "人民路站", "?"],
         "type_name": ["农贸市场", "公交站点", "castle"], "department": ["市场监管所", "城管", ""]},
        geometry=[box(x0, y0, x0 + (x1 - x0) / 4, y0 + (y1 - y0) / 4), Point((x0 + x1) / 2, (y0 + y1) / 2),
                  Point(x1, y1)], crs="EPSG:4326",
    )  # fmt: skip


def test_inspection_points_layer(grid: dict[str, Any]) -> None:  # noqa: F811
    page = render(grid, inspection_points=_points(grid), point_types=TYPES)
    layer = layers_of(page)["inspection_points"]
    assert layer["phoneOff"] is True and layer["show"] is True
    assert len(layer["styles"]) == 3  # two known types and an unknown one (grey)
    assert layer["styles"][0]["fillColor"] == "#d7191c" and layer["styles"][2]["fillColor"] == "#7f7f7f"
    assert layer["popup"]["fields"] == ["name", "type_name", "department"]
    assert DEFAULT_LABELS["inspection_points"] in page
    assert "s.phoneOff && gridmap.small()" in page


def test_no_points_no_layer(grid: dict[str, Any]) -> None:  # noqa: F811
    assert "inspection_points" not in layers_of(render(grid))
    empty = _points(grid).iloc[:0]
    assert "inspection_points" not in layers_of(render(grid, inspection_points=empty, point_types=TYPES))
