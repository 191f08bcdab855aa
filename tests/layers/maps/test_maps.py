"""Tests of layers.maps.grid: the grid map page is self-contained, compact and shows user text as text.

No database, no browser, no network: the rendered HTML is read as text (tests/browser runs it).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, box

from layers.maps.assets import LEAFLET_CSS, LEAFLET_JS, REPO_VENDOR_DIR, MapAssets, TileSource
from layers.maps.grid import grid_map
from layers.maps.packing import pack_features, unpack_features

LON, LAT = 120.87, 31.63  # Changshu
XSS = "<img src=x onerror=alert(1)>"
SCRIPT_CLOSE = "</script><script>alert(2)</script>"
JINJA = "{{ 7*7 }} {% if 1 %}jinja{% endif %} {#"
TILE_URL = "http://tiles.intranet.example/{z}/{x}/{y}.png"
KINDS = {
    "litter_bin": {"name": "果皮箱", "color": "#2b83ba", "geom": "point"},
    "hydrant": {"name": "消火栓", "color": "red", "geom": "point"},
    "tactile_paving": {"name": "盲道<b>", "color": "#fdae61", "geom": "line"},
    "car_park": {"name": "停车场", "color": "url(http://evil.example/x.png)", "geom": "polygon"},
}


def _gdf(rows: list[dict[str, Any]] | pd.DataFrame, crs: int | str = 4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def at(dx: float, dy: float) -> Point:
    return Point(LON + dx, LAT + dy)


def rect(dx0: float, dy0: float, dx1: float, dy1: float) -> shapely.Polygon:
    return box(LON + dx0, LAT + dy0, LON + dx1, LAT + dy1)


@pytest.fixture
def grid() -> dict[str, Any]:
    """A 200 m grid with 3 buildings, 6 facilities of 5 kinds (one unknown) and 4 problems."""
    boundary = _gdf([{"code": "320581001001001", "name": "一号网格", "geometry": rect(0, 0, 0.002, 0.002)}])
    buildings = _gdf(
        [
            {"address": "幸福路1号", "floors": 6, "geometry": rect(0.0001, 0.0001, 0.0003, 0.0003)},
            {"address": XSS, "floors": 2, "geometry": rect(0.0005, 0.0005, 0.0007, 0.0007)},
            {
                "address": "两栋",
                "floors": None,
                "geometry": MultiPolygon(
                    [rect(0.001, 0.001, 0.0011, 0.0011), rect(0.0012, 0.001, 0.0013, 0.0011)]
                ),
            },
        ]
    )
    line = LineString([(LON, LAT + 0.0015), (LON + 0.002, LAT + 0.0015)])
    facilities = _gdf(
        [
            {"kind": "litter_bin", "name": "果皮箱1", "condition": "完好", "geometry": at(0.0002, 0.001)},
            {"kind": "litter_bin", "name": "果皮箱2", "condition": None, "geometry": at(0.0004, 0.001)},
            {"kind": "hydrant", "name": JINJA, "condition": "破损", "geometry": at(0.0006, 0.0012)},
            {"kind": "tactile_paving", "name": "盲道", "condition": "被占", "geometry": line},
            {
                "kind": "car_park",
                "name": "停车场",
                "condition": "完好",
                "geometry": rect(0.0015, 0.0001, 0.0019, 0.0004),
            },
            {"kind": "mystery", "name": "未知", "condition": None, "geometry": at(0.0018, 0.0018)},
        ]
    )
    problems = _gdf(
        pd.DataFrame(
            {
                "id": [1, 2, 3, 4],
                "category": ["0201", "0301", "0101", "0101"],
                "category_name": ["小广告", "占道经营", "暴露垃圾", "暴露垃圾"],
                "status": ["reported", "closed", "weird", "reported"],
                "reported_at": pd.to_datetime(
                    ["2024-05-01 09:30", "2024-05-02 10:00", None, "2024-05-03 08:00"]
                ),
                "description": [XSS, SCRIPT_CLOSE, JINJA, "树下\n有垃圾 😀"],
                "geometry": [
                    at(0.001, 0.0012),
                    at(0.0011, 0.0013),
                    at(0.0012, 0.0014),
                    at(0.00123456789, 0.00098765432),
                ],
            }
        )
    )
    return {"boundary": boundary, "buildings": buildings, "facilities": facilities, "problems": problems}


def render(grid: dict[str, Any], **kwargs: Any) -> str:
    options = {"kinds": KINDS, "assets": MapAssets(), "tiles": None} | kwargs
    return grid_map(**grid, **options).get_root().render()


def map_spec(page: str) -> dict[str, Any]:
    """The spec ``gridmap.build`` draws, read from the page's script."""
    found = re.search(r"gridmap\.build\(\w+, (.*)\);", page)
    assert found, "no gridmap.build call"
    return json.loads(found.group(1))


def embedded_layers(page: str) -> dict[str, dict[str, Any]]:
    """Registry key -> packed layer data (GeoJSON layers only)."""
    return {s["key"]: s["data"] for s in map_spec(page)["layers"] if "data" in s}


class _Refs(HTMLParser):
    """src/href of every tag, url(...) and @import of every <style>; script text is not read."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.refs += [v for k, v in attrs if k in ("src", "href") and v is not None]
        self.refs += _css_refs(dict(attrs).get("style") or "")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.refs += _css_refs(data)


def _css_refs(css: str) -> list[str]:
    return re.findall(r"""url\(\s*["']?([^"')]+)""", css) + re.findall(r"""@import\s+["']([^"']+)""", css)


def asset_refs(page: str) -> list[str]:
    """Everything the page's markup and styles would load."""
    parser = _Refs()
    parser.feed(page)
    return parser.refs


def test_without_tiles_the_page_names_no_remote_address_at_all(grid: dict[str, Any]) -> None:
    page = render(grid)
    assert not re.search(r"(?i)\b(?:https?:)?//[a-z0-9]", page.replace('http-equiv="content-type"', ""))
    assert sorted(asset_refs(page)) == sorted(
        ["/static/vendor/" + LEAFLET_JS, "/static/vendor/" + LEAFLET_CSS]
    )
    assert not [
        lib for lib in ("jquery", "bootstrap", "awesome-markers", "fontawesome") if lib in page.lower()
    ]
    assert "L.tileLayer" not in page


def test_with_tiles_the_tile_template_is_the_only_remote_address(grid: dict[str, Any]) -> None:
    tiles = TileSource(TILE_URL, '&copy; <a href="https://surveying.example/">测绘院</a>', max_zoom=18)
    page = render(grid, tiles=tiles)
    remote = set(re.findall(r"https?://[^\s\"'<>\\)]+", page))
    assert remote == {TILE_URL, "https://surveying.example/"}  # the second one is attribution text only
    assert all(ref.startswith("/static/vendor/") for ref in asset_refs(page))
    assert "L.tileLayer" in page and '"maxZoom": 18' in page


def test_an_empty_attribution_does_not_stop_the_map(grid: dict[str, Any]) -> None:
    assert "L.tileLayer" in render(grid, tiles=TileSource(TILE_URL, ""))


def test_assets_are_linked_from_the_given_static_url_and_are_vendored(grid: dict[str, Any]) -> None:
    page = render(grid, assets=MapAssets(base_url="/s/v/"))
    assert sorted(asset_refs(page)) == sorted(["/s/v/" + LEAFLET_JS, "/s/v/" + LEAFLET_CSS])
    for path in (LEAFLET_JS, LEAFLET_CSS):
        assert (REPO_VENDOR_DIR / path).is_file()
    css = (REPO_VENDOR_DIR / LEAFLET_CSS).read_text()
    for image in re.findall(r"url\((images/[^)]+)\)", css):
        assert (REPO_VENDOR_DIR / LEAFLET_CSS).parent.joinpath(image).is_file(), image
    with pytest.raises(ValueError, match="end with"):
        MapAssets(base_url="/static/vendor")


def test_inline_assets_make_a_page_that_loads_nothing(grid: dict[str, Any]) -> None:
    page = render(grid, assets=MapAssets(inline_from=REPO_VENDOR_DIR))
    refs = asset_refs(page)
    assert refs and all(r.startswith(("data:image/png;base64,", "#default#VML")) for r in refs), refs
    assert "/static/" not in page and "window.L=t" in page


def test_every_layer_holds_its_input_features(grid: dict[str, Any]) -> None:
    layers = embedded_layers(render(grid))
    assert {k: v["n"] for k, v in layers.items()} == {
        "boundary": 1,
        "buildings": 3,
        "facility:litter_bin": 2,
        "facility:hydrant": 1,
        "facility:tactile_paving": 1,
        "facility:car_park": 1,
        "facility:mystery": 1,  # a kind missing from `kinds` still shows, in grey
        "problems": 4,
    }
    for key, data in layers.items():
        assert len(unpack_features(data)) == data["n"], key


def test_geometries_round_trip_rounded_to_six_decimals(grid: dict[str, Any]) -> None:
    layers = embedded_layers(render(grid))
    for key, gdf in [("buildings", grid["buildings"]), ("problems", grid["problems"])]:
        for feature, geom in zip(unpack_features(layers[key]), gdf.geometry, strict=True):
            expected = shapely.transform(geom, lambda xy: np.round(xy, 6))
            assert shapely.equals_exact(shapely.geometry.shape(feature["geometry"]), expected, tolerance=1e-9)
            assert feature["geometry"]["type"] == geom.geom_type
    odd = unpack_features(layers["problems"])[3]["geometry"]["coordinates"]
    assert odd == [round(LON + 0.00123456789, 6), round(LAT + 0.00098765432, 6)]


def test_frames_in_another_crs_are_drawn_in_wgs84(grid: dict[str, Any]) -> None:
    grid["buildings"] = grid["buildings"].to_crs(3857)
    feature = unpack_features(embedded_layers(render(grid))["buildings"])[0]
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert abs(lon - (LON + 0.0003)) < 1e-6 and abs(lat - (LAT + 0.0001)) < 1e-6


def test_rows_without_geometry_are_left_out(grid: dict[str, Any]) -> None:
    problems = grid["problems"]
    problems.loc[1, "geometry"] = None
    problems.loc[2, "geometry"] = Point()
    assert embedded_layers(render(grid))["problems"]["n"] == 2


def test_user_text_travels_as_data_and_is_never_markup(grid: dict[str, Any]) -> None:
    page = render(grid)
    for raw in ("<img", "<script>alert", "</script><script>", "<b>"):
        assert raw not in page
    props = embedded_layers(page)["problems"]["props"]
    assert props["description"] == [XSS, SCRIPT_CLOSE, JINJA, "树下\n有垃圾 😀"]  # folium re-renders no Jinja
    assert props["status_name"] == ["已上报", "已结案", "weird", "已上报"]
    assert props["reported_at"] == ["2024-05-01 09:30", "2024-05-02 10:00", None, "2024-05-03 08:00"]
    assert embedded_layers(page)["buildings"]["props"]["address"][1] == XSS
    assert embedded_layers(page)["facility:hydrant"]["props"]["name"] == [JINJA]
    # popups go through gridmap.popup/detail (textContent), never folium's innerHTML table
    spec = map_spec(page)
    assert all("popup" in layer for layer in spec["layers"] if layer.get("data", {}).get("n"))
    assert "bindPopup(gridmap.popup(" in page and "innerHTML=table" not in page.replace(" ", "")
    # the layer control shows names with innerHTML: they are escaped
    names = [layer["name"] for layer in spec["layers"]]
    assert names == [
        "网格边界",
        "建筑物",
        "果皮箱",
        "消火栓",
        "盲道&lt;b&gt;",
        "停车场",
        "mystery",
        "问题",
        "街道名称与网格编码",
    ]


def legend_labels(page: str) -> list[str]:
    return re.findall(r"</svg>([^<]*)", map_spec(page)["legend"])


def test_legend_lists_kinds_and_statuses_present_with_safe_colours(grid: dict[str, Any]) -> None:
    page = render(grid)
    assert legend_labels(page) == ["网格边界", "建筑物", "果皮箱", "消火栓", "盲道&lt;b&gt;", "停车场", "mystery",
                                   "已上报", "已结案", "weird", "市容环境", "宣传广告", "街面秩序"]  # fmt: skip
    assert "evil.example" not in page  # a colour that is not a colour falls back to grey


def test_custom_statuses_colour_the_problems(grid: dict[str, Any]) -> None:
    statuses = {"reported": {"name": "新", "color": "#123456"}, "closed": {"name": "完", "color": "#abcdef"}}
    page = render(grid, statuses=statuses)
    layer = next(x for x in map_spec(page)["layers"] if x["key"] == "problems")
    fills = [layer["styles"][i]["fillColor"] for i in layer["data"]["props"]["_s"]]
    assert fills == ["#123456", "#abcdef", "#7f7f7f", "#123456"]
    assert embedded_layers(page)["problems"]["props"]["status_name"] == ["新", "完", "weird", "新"]


def test_empty_layers_still_make_a_map(grid: dict[str, Any]) -> None:
    grid["problems"] = grid["problems"].iloc[:0]
    grid["facilities"] = grid["facilities"].iloc[:0]
    layers = embedded_layers(render(grid))
    assert layers["problems"]["n"] == 0 and not any(k.startswith("facility:") for k in layers)
    bare = gpd.GeoDataFrame(geometry=[], crs=4326)  # an empty query may bring no columns at all
    layers = embedded_layers(render(grid | {"buildings": bare, "facilities": bare, "problems": bare}))
    assert {k: v["n"] for k, v in layers.items()} == {"boundary": 1, "buildings": 0, "problems": 0}


def test_the_map_fits_the_boundary_and_is_drawn_on_a_canvas(grid: dict[str, Any]) -> None:
    page = render(grid)
    assert f"[[{LAT}, {LON}], [{LAT + 0.002}, {LON + 0.002}]]" in page
    assert '"preferCanvas": true' in page
    # the view is set before any layer or tile is added, and ready comes last
    assert page.index(".fitBounds(") < page.index("gridmap.build(map_")
    assert page.index("gridmap.ready = true") > page.rindex("gridmap.build(map_")


def test_packing_handles_mixed_collection_and_3d_geometries() -> None:
    geoms = np.array(
        [
            Point(1, 2),
            box(0, 0, 1, 1),
            Point(3, 4.1234567),
            shapely.GeometryCollection([Point(5, 6)]),
            shapely.from_wkt("POLYGON M ((0 0 9, 1 0 9, 1 1 9, 0 0 9))"),  # SpatiaLite may return XYM
            Point(7, 8, 100),
        ],
        dtype=object,
    )
    packed = pack_features(geoms, {"v": ["a", "b", "c", "d", "e", "f"]})
    assert [p.get("type") for p in packed["parts"]] == ["Point", "Polygon", None]
    features = unpack_features(json.loads(json.dumps(packed)))
    assert [f["properties"]["v"] for f in features] == ["a", "b", "c", "d", "e", "f"]
    assert features[2]["geometry"]["coordinates"] == [3, 4.123457]
    assert features[3]["geometry"]["type"] == "GeometryCollection"
    assert features[4]["geometry"]["coordinates"] == [[[0, 0], [1, 0], [1, 1], [0, 0]]]
    assert features[5]["geometry"]["coordinates"] == [7, 8]


def test_html_stays_compact() -> None:
    """A few hundred bytes per object at most: folium's one-Marker-per-object costs ~750."""
    rng = np.random.default_rng(0)
    n = 2000
    x, y = LON + rng.random(n) * 0.01, LAT + rng.random(n) * 0.01
    buildings = _gdf(
        [
            {"address": f"幸福路{i}号", "geometry": g}
            for i, g in enumerate(shapely.box(x, y, x + 1e-4, y + 1e-4))
        ]
    )
    problems = _gdf(
        [
            {"id": i, "category": "0201", "category_name": "小广告", "status": "reported",
             "reported_at": pd.Timestamp("2024-05-01"), "description": "电线杆上有小广告", "geometry": Point(a, b)}
            for i, (a, b) in enumerate(zip(x, y, strict=True))
        ]
    )  # fmt: skip
    empty = _gdf([{"kind": "x", "name": "", "condition": "", "geometry": Point(LON, LAT)}]).iloc[:0]
    page = render(
        {"boundary": buildings.iloc[:1], "buildings": buildings, "facilities": empty, "problems": problems}
    )
    assert len(page.encode()) / (2 * n) < 150
