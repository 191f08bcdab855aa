"""The route walk leg by leg (layers.routes.legs) and the route map (layers.maps.route).

No database, no browser: the walk is checked against distances measured independently (straight
lines in the metric CRS, networkx-free street sums by hand), the map by reading its HTML.
"""

from __future__ import annotations

import json
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely.geometry import LineString, Point

from layers.maps.assets import MapAssets
from layers.maps.packing import unpack_features
from layers.maps.route import MAX_LABELS, PATH_STYLES, ROUTE_JS, route_map
from layers.network import build_network
from layers.routes.exact import held_karp
from layers.routes.legs import plan_street_walk
from layers.routes.walk import RouteError, RouteStop, stop_distances_m

GK = pyproj.CRS.from_epsg(4549)  # the metric CRS metric_crs_for picks near Changshu
X0, Y0 = 580_000.0, 3_500_000.0
TO_LL = pyproj.Transformer.from_crs(GK, 4326, always_xy=True)
TO_GK = pyproj.Transformer.from_crs(4326, GK, always_xy=True)
SCRIPT_CLOSE = "</script><script>alert(2)</script>"
JINJA = "{{ 7*7 }} {% if 1 %}jinja{% endif %} {#"


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_LL.transform(X0 + x, Y0 + y)
    return float(lon), float(lat)


def stops_at(*xy: tuple[float, float], weights: list[float] | None = None) -> list[RouteStop]:
    w = weights or [1.0] * len(xy)
    return [RouteStop(i, *lonlat(x, y), weight=w[i]) for i, (x, y) in enumerate(xy)]


def metric_length(coords: list[tuple[float, float]]) -> float:
    x, y = TO_GK.transform(*np.asarray(coords).T)
    return float(LineString(np.column_stack([x, y])).length)


@pytest.fixture
def streets():
    """An L of streets, and one street far off on its own."""
    lines = [[(0, 0), (400, 0)], [(400, 0), (400, 400)], [(1000, 1000), (1200, 1000)]]
    frame = gpd.GeoDataFrame(
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines], crs=GK
    ).to_crs(4326)
    return build_network(frame)


# ---------------------------------------------------------------- the walk


def test_without_streets_every_leg_is_straight_and_the_order_is_the_exact_optimum():
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 800, (8, 2))
    stops = stops_at(*map(tuple, xy))
    walk = plan_street_walk(stops, network=None)
    assert sorted(walk.order) == list(range(8)) and not walk.network
    assert walk.legs[0] is None and all(leg is not None and not leg.on_streets for leg in walk.legs[1:])
    assert walk.straight_legs == 7 and all(not p.on_streets for p in walk.pieces)
    dist = stop_distances_m(np.array([[s.lon, s.lat] for s in stops]), metric="straight")
    best, _ = held_karp(dist)
    assert walk.length_m == pytest.approx(best, abs=0.5)
    assert walk.length_m == pytest.approx(metric_length(walk.path_lonlat), abs=0.05)
    assert walk.duration_min == pytest.approx(walk.length_m / 1.25 / 60 + 8 * 3.0)


def test_street_legs_follow_the_streets_and_unreachable_ones_are_straight(streets):
    stops = stops_at((100, 5), (400, 300), (1100, 1005))
    walk = plan_street_walk(stops, start=lonlat(0, 0), network=streets)
    assert walk.order == [0, 1, 2]  # every stop stays in the walk, the island one too
    assert [leg.on_streets for leg in walk.legs] == [True, True, False]
    assert walk.straight_legs == 1
    assert walk.legs[0].length_m == pytest.approx(100 + 5, abs=0.05)
    assert walk.legs[1].length_m == pytest.approx(5 + 300 + 300, abs=0.05)
    assert walk.legs[2].length_m == pytest.approx(np.hypot(700, 705), abs=0.05)
    # one street run for the first two legs (turning at the corner), then the straight leg
    assert [p.on_streets for p in walk.pieces] == [True, False]
    run = walk.pieces[0]
    assert metric_length(run.coords) == pytest.approx(walk.legs[0].length_m + walk.legs[1].length_m, abs=0.05)
    x, y = TO_GK.transform(*np.asarray(run.coords).T)
    assert LineString(np.column_stack([x, y])).distance(Point(X0 + 400, Y0)) < 0.01
    straight = [(stops[1].lon, stops[1].lat), (stops[2].lon, stops[2].lat)]
    assert np.allclose(walk.pieces[1].coords, straight)
    assert walk.length_m == pytest.approx(metric_length(walk.path_lonlat), abs=0.1)


def test_an_empty_network_means_straight_lines():
    empty = build_network(gpd.GeoDataFrame(geometry=[], crs=4326), crs=GK)
    walk = plan_street_walk(stops_at((0, 0), (100, 0)), network=empty)
    assert not walk.network and walk.straight_legs == 1


def test_budget_keeps_the_heavy_stops_and_reports_the_rest():
    stops = stops_at((100, 0), (200, 0), (300, 0), (2000, 0), weights=[1, 3, 1, 3])
    walk = plan_street_walk(stops, start=lonlat(0, 0), budget_min=12.0)
    assert walk.duration_min <= 12.0
    assert sorted(walk.order + walk.dropped) == [0, 1, 2, 3]
    assert 1 in walk.order and 3 in walk.dropped  # 2 km away: 27 min of walking alone
    assert len(walk.legs) == len(walk.order)


def test_start_only_and_nothing_at_all():
    assert plan_street_walk([]).order == [] and plan_street_walk([]).length_m == 0
    alone = plan_street_walk([], start=lonlat(0, 0))
    assert alone.order == [] and alone.legs == [] and alone.pieces == []
    one = plan_street_walk(stops_at((30, 40)))
    assert one.order == [0] and one.legs == [None] and one.length_m == 0.0
    with pytest.raises(RouteError):
        plan_street_walk(stops_at((0, 0)), speed_kmh=0)


# ---------------------------------------------------------------- the map


def stop_frame(n: int, descriptions: dict[int, str] | None = None) -> gpd.GeoDataFrame:
    rows = []
    for i in range(n):
        rows.append(
            {
                "seq": i + 1,
                "id": 100 + 7 * (n - i),  # ids in another order than the walk
                "task": ("overdue", "open", "lookback")[i % 3],
                "category": f"0301 占道经营 {i}",
                "status": "已派遣",
                "deadline": "2026-12-01 18:00",
                "description": (descriptions or {}).get(i, f"问题 {i}"),
                "url": f"/problems/{100 + 7 * (n - i)}/",
                "geometry": Point(lonlat(50 * i, 20 * (i % 2))),
            }
        )
    columns = ["seq", "id", "task", "category", "status", "deadline", "description", "url", "geometry"]
    return gpd.GeoDataFrame(rows or {c: [] for c in columns}, columns=columns, geometry="geometry", crs=4326)


def path_frame(kinds: list[str]) -> gpd.GeoDataFrame:
    lines = [LineString([lonlat(50 * i, 0), lonlat(50 * (i + 1), 0)]) for i in range(len(kinds))]
    return gpd.GeoDataFrame({"kind": kinds}, geometry=lines, crs=4326)


def render(stops: gpd.GeoDataFrame, path: gpd.GeoDataFrame, **kw: Any) -> str:
    m = route_map(stops=stops, path=path, assets=MapAssets(), tiles=None, **{"start": None, **kw})
    return m.get_root().render()


def layer(html: str, key: str) -> list[dict[str, Any]]:
    match = re.search(
        r"gridmap\.layers\["
        + re.escape(json.dumps(key))
        + r"\] =\s*\w+\.addData\(gridmap\.unpack\((.*?)\)\);",
        html,
        re.S,
    )
    assert match, f"no layer {key}"
    return unpack_features(json.loads(match.group(1)))


def test_stops_are_numbered_in_walking_order_and_the_path_layer_is_drawn():
    stops = stop_frame(5)
    html = render(stops, path_frame(["street", "street", "straight", "street"]), start=lonlat(-50, 0))
    drawn = layer(html, "stops")
    assert [f["properties"]["seq"] for f in drawn] == [1, 2, 3, 4, 5]
    assert [f["properties"]["id"] for f in drawn] == stops["id"].tolist()
    assert [f["geometry"]["coordinates"] for f in drawn] == [
        pytest.approx([p.x, p.y], abs=1e-6) for p in stops.geometry
    ]
    assert [f["properties"]["kind"] for f in layer(html, "path")] == [
        "street",
        "street",
        "straight",
        "street",
    ]
    assert len(layer(html, "start")) == 1
    assert PATH_STYLES["straight"]["dashArray"] and "dashArray" not in PATH_STYLES["street"]
    assert json.dumps(PATH_STYLES["straight"]["dashArray"]) in html
    # the numbers come from the seq property; the locate button and focus hook are in the page
    assert "route-num" in html and "navigator.geolocation" in html and "gridmap.route = " in html
    assert html.index("gridmap.route = ") < html.index("gridmap.ready = true")


def test_user_text_stays_data_and_is_shown_as_text():
    stops = stop_frame(3, {0: SCRIPT_CLOSE, 1: JINJA, 2: "<img src=x onerror=alert(1)>"})
    html = render(stops, path_frame(["street", "street"]))
    assert "</script><script>alert(2)" not in html and "<img src=x" not in html
    assert "{{ 7*7 }}" in html.replace("\\u003c", "<") and "49 jinja" not in html
    texts = [f["properties"]["description"] for f in layer(html, "stops")]
    assert texts == [SCRIPT_CLOSE, JINJA, "<img src=x onerror=alert(1)>"]
    # popups and notes are built with textContent; only the site-relative url becomes a link
    assert "innerHTML" not in ROUTE_JS and "textContent" in ROUTE_JS
    assert "/^\\/[^\\/\\\\]/.test(p.url)" in ROUTE_JS


def test_an_empty_route_still_renders_with_the_fallback_view():
    empty_stops = stop_frame(0)
    html = render(empty_stops, path_frame([]), fallback_bounds=[[31.6, 120.86], [31.63, 120.88]])
    assert layer(html, "stops") == [] and layer(html, "path") == []
    assert "fitBounds" in html and "[[31.6, 120.86], [31.63, 120.88]]" in html
    assert "gridmap.ready = true" in html


def test_no_external_references_and_labels_are_bounded():
    html = render(stop_frame(4), path_frame(["street"] * 3))
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html)
    assert "cdn" not in html.lower()
    assert f'"maxLabels":{MAX_LABELS}' in html and MAX_LABELS <= 200


def test_over_gcj02_tiles_the_route_is_drawn_where_those_tiles_show_it():
    from layers.chinacoords import wgs84_to_gcj02
    from layers.maps.assets import TileSource

    stops, path = stop_frame(3), path_frame(["street", "street"])
    gcj = TileSource("https://tiles.example/{z}/{x}/{y}.png", "", datum="gcj02")
    html = route_map(stops=stops, path=path, start=lonlat(-50, 0), assets=MapAssets(), tiles=gcj)
    html = html.get_root().render()
    lon, lat = wgs84_to_gcj02([p.x for p in stops.geometry], [p.y for p in stops.geometry])
    drawn = [f["geometry"]["coordinates"] for f in layer(html, "stops")]
    assert drawn == [pytest.approx([float(x), float(y)], abs=1e-6) for x, y in zip(lon, lat, strict=True)]
    assert abs(drawn[0][0] - stops.geometry[0].x) > 1e-3  # hundreds of metres: really moved
    start_lon, start_lat = wgs84_to_gcj02(*lonlat(-50, 0))
    assert layer(html, "start")[0]["geometry"]["coordinates"] == pytest.approx(
        [float(start_lon), float(start_lat)], abs=1e-6
    )
    assert '"datum": "gcj02"' in html.replace('"datum":"gcj02"', '"datum": "gcj02"')
    assert stops.geometry[0].x == pytest.approx(lonlat(0, 0)[0])  # the caller's frame is untouched
    plain = render(stops, path)
    assert [f["geometry"]["coordinates"] for f in layer(plain, "stops")][0] == pytest.approx(
        [stops.geometry[0].x, stops.geometry[0].y], abs=1e-6
    )
