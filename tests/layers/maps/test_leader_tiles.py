"""The leader map's tiled layers: the same styles, legend and popup fields as the embedded ones,
each feature's style chosen in the page by a rule equal to the embedded layer's choice."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.maps import DEFAULT_STATUSES, MapAssets, grid_map
from layers.maps.leader_layers import building_layers
from layers.maps.leader_problems import problem_layers
from layers.maps.leader_tiles import building_rule, problem_rule, tile_specs


def _frames():
    rng = np.random.default_rng(3)
    n = 40
    xy = np.column_stack([120.87 + rng.random(n) * 0.002, 31.62 + rng.random(n) * 0.002])
    problems = gpd.GeoDataFrame(
        {
            "id": np.arange(1, n + 1),
            "category": rng.choice(["0101", "0201", "0301"], n),
            "category_name": "c",
            "status": rng.choice(["reported", "filed", "closed"], n),
            "overdue": rng.random(n) < 0.3,
            "reported_at": pd.Timestamp("2026-01-01"),
            "description": "d",
        },
        geometry=shapely.points(xy),
        crs=4326,
    )
    boxes = [shapely.box(x, y, x + 0.0001, y + 0.0001) for x, y in xy]
    buildings = gpd.GeoDataFrame(
        {"id": np.arange(n), "households": rng.integers(0, 30, n), "address": "a"}, geometry=boxes, crs=4326
    )
    boundary = gpd.GeoDataFrame(
        {"code": ["1"], "name": ["g"]}, geometry=[shapely.box(120.87, 31.62, 120.872, 31.622)], crs=4326
    )
    return boundary, buildings, problems


def _pick(rule, props):
    """The page's choice (layers.maps.vector_tiles VECTOR_JS) written out again in Python."""
    spec = rule.spec()
    if "prop" in spec:
        v = float(props.get(spec["prop"]) or 0)
        return (
            0
            if v <= 0
            else next((i + 1 for i, b in enumerate(spec["breaks"]) if v <= b), len(spec["breaks"]))
        )
    parts = []
    for prop, how in spec["parts"]:
        v = props[prop]
        parts.append(("1" if v else "0") if how == "bool" else str(v)[: how or None])
    return spec["index"].get("\t".join(parts), 0)


def test_the_rules_choose_the_style_the_embedded_layers_chose():
    _, buildings, problems = _frames()
    (embedded,), _ = problem_layers(problems, DEFAULT_STATUSES)
    rule = problem_rule(problems)
    for i, row in enumerate(problems.itertuples()):
        props = {"status": row.status, "category": row.category, "overdue": bool(row.overdue)}
        assert _pick(rule, props) == embedded["data"]["props"]["_s"][i]
    (embedded,), _ = building_layers(buildings)
    rule = building_rule(buildings)
    for i, v in enumerate(buildings["households"]):
        assert _pick(rule, {"households": int(v)}) == embedded["data"]["props"]["_s"][i]


def test_tiled_specs_keep_name_styles_and_popup_and_drop_the_data():
    _, buildings, problems = _frames()
    (embedded,), _ = problem_layers(problems, DEFAULT_STATUSES)
    (tiled,) = tile_specs([embedded], {"problems": "/t/problems/{z}/{x}/{y}.pbf?status=all"}, buildings=buildings,
                          problems=problems, statuses=DEFAULT_STATUSES, zooms={"problems": (12, 15)})  # fmt: skip
    assert "data" not in tiled and tiled["tiles"] == "/t/problems/{z}/{x}/{y}.pbf?status=all"
    assert tiled["name"] == embedded["name"] and tiled["styles"] == embedded["styles"]
    assert tiled["popup"] == embedded["popup"] and tiled["popup"]["problem"] is True
    assert (tiled["minZoom"], tiled["detailZoom"]) == (12, 15)
    assert tiled["derived"]["status_name"][1]["reported"] == DEFAULT_STATUSES["reported"]["name"]


def test_a_tiled_map_embeds_no_rows_of_those_layers_and_loads_the_plugin():
    boundary, buildings, problems = _frames()
    empty = gpd.GeoDataFrame({"kind": []}, geometry=[], crs=4326)
    args = dict(boundary=boundary, buildings=buildings, facilities=empty, problems=problems, kinds={},
                assets=MapAssets(), tiles=None)  # fmt: skip
    plain = grid_map(**args).get_root().render()
    tiled = grid_map(**args, tiled={"problems": "/t/p/{z}/{x}/{y}.pbf", "buildings": "/t/b/{z}/{x}/{y}.pbf"})
    html = tiled.get_root().render()
    assert "VectorGrid" not in plain and "/static/vendor/leaflet.vectorgrid-1.3.0/" in html
    assert "gridmap.vectorLayer" in html
    for key in ("buildings", "problems"):
        assert re.search(r'"key":"' + key + r'","name":"[^"]*","show":true,"tiles":"/t/', html)
        assert re.search(r'"key":"' + key + r'","name":"[^"]*","show":true,"data":', plain)
    assert re.search(r'"key":"boundary","name":"[^"]*","show":true,"data":', html)
