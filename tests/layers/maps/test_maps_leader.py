"""The leader map's layers: analysis layers, symbols per kind, overdue rings, legends, escaping.

No database, no browser: the spec the page builds from is read out of the rendered HTML.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from layers.maps.assets import PLUGINS, REPO_VENDOR_DIR, MapAssets
from layers.maps.grid import grid_map
from layers.maps.leader import MapLinks
from layers.maps.leader_layers import graduated_breaks
from layers.maps.packing import unpack_features
from layers.maps.symbols import SHAPES, kind_shapes
from tests.layers.maps.test_maps import (
    KINDS,
    LAT,
    LON,
    XSS,
    _gdf,
    asset_refs,
    at,
    grid,  # noqa: F401  (the fixture)
    legend_labels,
    map_spec,
    rect,
)

ALL_KINDS = {
    code: {"name": code, "color": "#336699", "geom": "point"}
    for code in ["hydrant", "extinguisher", "street_light", "curb_ramp", "litter_bin", "refuse_point",
                 "recycling", "toilet", "notice_board", "bicycle_parking", "new_kind_a", "new_kind_b"]
}  # fmt: skip


@pytest.fixture
def leader(grid: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    problems = grid["problems"].assign(
        overdue=[True, False, False, False],
        deadline=pd.to_datetime(["2024-05-02 09:30", None, None, None]),
        photos=["11,12", None, None, None],
    )
    grid["buildings"] = grid["buildings"].assign(households=[0, 12, 40])
    hotspots = _gdf([
        {"cell_id": "a", "count": 9, "z": 2.8, "p_value": 0.005, "hotspot": "hot_99", "geometry": rect(0, 0, 0.001, 0.001)},
        {"cell_id": "b", "count": 0, "z": -1.7, "p_value": 0.09, "hotspot": "cold_90", "geometry": rect(0.001, 0, 0.002, 0.001)},
        {"cell_id": "c", "count": 2, "z": 0.1, "p_value": 0.9, "hotspot": "none", "geometry": rect(0, 0.001, 0.001, 0.002)},
    ])  # fmt: skip
    gaps = _gdf([{"kind": "hydrant", "radius_m": 150.0, "uncovered_m2": 900.0, "uncovered_share": 0.2,
                  "geometry": rect(0.0015, 0.0015, 0.002, 0.002)}])  # fmt: skip
    uncovered = _gdf([{"kind": "hydrant", "address": XSS, "households": 12, "distance_m": 171.4,
                       "geometry": rect(0.0005, 0.0005, 0.0007, 0.0007)}])  # fmt: skip
    negative = problems.iloc[[0, 3]].assign(days_open=[30, 2]).reset_index(drop=True)
    return grid | {
        "problems": problems,
        "heat": problems.iloc[[0, 3]][["id", "geometry"]],
        "hotspots": hotspots,
        "coverage_gaps": gaps,
        "uncovered_buildings": uncovered,
        "negative_list": negative,
    }


def render(data: dict[str, Any], **kwargs: Any) -> str:
    options = {"kinds": KINDS, "assets": MapAssets(), "tiles": None} | kwargs
    return grid_map(**data, **options).get_root().render()


def layers_of(page: str) -> dict[str, dict[str, Any]]:
    return {layer["key"]: layer for layer in map_spec(page)["layers"]}


def test_every_layer_is_present_and_analysis_layers_start_hidden(leader: dict[str, Any]) -> None:
    layers = layers_of(render(leader))
    counts = {k: len(v.get("heat", v.get("labels", []))) if "data" not in v else v["data"]["n"]
              for k, v in layers.items()}  # fmt: skip
    assert counts == {
        "boundary": 1, "buildings": 3, "facility:litter_bin": 2, "facility:hydrant": 1,
        "facility:tactile_paving": 1, "facility:car_park": 1, "facility:mystery": 1, "problems": 4,
        "heat": 2, "hotspots": 3, "gaps:hydrant": 1, "uncovered:hydrant": 1, "negative_list": 2, "place_labels": 1,
    }  # fmt: skip
    hidden = {k for k, v in layers.items() if not v["show"]}
    assert hidden == {"heat", "hotspots", "gaps:hydrant", "uncovered:hydrant", "negative_list"}
    assert layers["heat"]["heat"][0] == [round(LAT + 0.0012, 6), round(LON + 0.001, 6)]


def test_heat_plugin_is_linked_or_inlined_from_the_vendor_folder(leader: dict[str, Any]) -> None:
    assert (REPO_VENDOR_DIR / PLUGINS["heat"]).is_file()
    assert "/static/vendor/" + PLUGINS["heat"] in asset_refs(render(leader))
    inline = render(leader, assets=MapAssets(inline_from=REPO_VENDOR_DIR))
    assert "L.heatLayer=" in inline.replace(" ", "") and "/static/" not in inline
    without = dict(leader, heat=None)
    assert not any("heat" in r for r in asset_refs(render(without)))


def test_point_kinds_get_distinct_symbols() -> None:
    shapes = kind_shapes(ALL_KINDS)
    assert set(shapes.values()) <= set(SHAPES)
    assert shapes["hydrant"] != shapes["extinguisher"] != shapes["street_light"]
    facilities = _gdf([{"kind": k, "name": k, "condition": "", "geometry": at(i * 1e-4, 0)}
                       for i, k in enumerate(ALL_KINDS)])  # fmt: skip
    empty = facilities.iloc[:0]
    page = grid_map(boundary=facilities.iloc[:0], buildings=empty, facilities=facilities, problems=empty,
                    kinds=ALL_KINDS, assets=MapAssets(), tiles=None).get_root().render()  # fmt: skip
    styles = [v["styles"][0] for k, v in layers_of(page).items() if k.startswith("facility:")]
    assert len(styles) == len(ALL_KINDS)
    symbols = {(s["shape"], s["fillColor"]) for s in styles}  # same colour here: the shape tells them apart
    assert len(symbols) >= len(SHAPES)  # every shape used before one repeats
    assert map_spec(page)["legend"].count("<svg") >= len(ALL_KINDS)  # one legend symbol per kind


def test_overdue_problems_are_ringed_and_shaped_by_class(leader: dict[str, Any]) -> None:
    layer = layers_of(render(leader))["problems"]
    styles = [layer["styles"][i] for i in layer["data"]["props"]["_s"]]
    assert [s["ring"] is not None for s in styles] == [True, False, False, False]
    assert [s["shape"] for s in styles] == ["square", "triangle", "circle", "circle"]  # 02, 03, 01, 01
    page = render(leader)
    assert "已超期" in legend_labels(page)
    props = unpack_features(layer["data"])[0]["properties"]
    assert props["overdue_label"] == "已超期" and props["deadline"] == "2024-05-02 09:30"
    assert props["photos"] == "11,12"


def test_buildings_are_shaded_in_graduated_classes_with_a_legend(leader: dict[str, Any]) -> None:
    page = render(leader)
    layer = layers_of(page)["buildings"]
    assert layer["data"]["props"]["_s"][0] == 0  # no households: the neutral shade
    assert len({layer["styles"][i]["fillColor"] for i in layer["data"]["props"]["_s"]}) == 3
    assert "0 户" in legend_labels(page) and "建筑物（按户数）" in map_spec(page)["legend"]
    # natural breaks in whole numbers, never two single-value classes side by side (quantiles of
    # bunched counts gave "1–24, 25, 26, 27"): 1–2, 3–4, 5–100
    assert graduated_breaks(pd.Series([0, 1, 2, 3, 4, 100]).to_numpy()) == [2.0, 4.0, 100.0]
    assert graduated_breaks(np.array([21, 24, 25, 26, 29])) == [21.0, 24.0, 26.0, 29.0]
    bunched = np.concatenate([np.full(500, v) for v in (24, 25, 26, 27)] + [[1, 30]])
    assert graduated_breaks(bunched) == [1.0, 24.0, 26.0, 30.0]
    assert graduated_breaks(pd.Series([0, 0]).to_numpy()) == []


def test_hotspot_cells_are_coloured_by_confidence(leader: dict[str, Any]) -> None:
    page = render(leader)
    layer = layers_of(page)["hotspots"]
    fills = [layer["styles"][i]["fillColor"] for i in layer["data"]["props"]["_s"]]
    assert fills[0] != fills[1] and layer["styles"][layer["data"]["props"]["_s"][2]]["fillOpacity"] == 0
    labels = legend_labels(page)
    assert "热点（99% 置信）" in labels and "冷点（90% 置信）" in labels and "不显著" in labels
    assert layer["data"]["props"]["hotspot_name"] == ["热点（99% 置信）", "冷点（90% 置信）", "不显著"]


def test_hostile_text_in_analysis_layers_stays_data(leader: dict[str, Any]) -> None:
    leader["negative_list"].loc[0, "category_name"] = "<script>alert(3)</script>"
    page = render(leader)
    assert "<script>alert(3)" not in page and "<img src=x" not in page
    layers = layers_of(page)
    assert layers["uncovered:hydrant"]["data"]["props"]["address"] == [XSS]
    assert layers["negative_list"]["data"]["props"]["category_name"][0] == "<script>alert(3)</script>"
    assert map_spec(page)["negative"]["key"] == "negative_list"
    assert "li.textContent" in page and "link.textContent" in page


def test_links_go_to_the_problem_page_and_scoped_photos(leader: dict[str, Any]) -> None:
    links = MapLinks(problem="/problems/{id}/", photo="/problems/{id}/photos/{photo}/", label="详情")
    spec = map_spec(render(leader, links=links))
    assert spec["links"] == {
        "problem": "/problems/{id}/",
        "photo": "/problems/{id}/photos/{photo}/",
        "label": "详情",
    }
    assert "links" not in map_spec(render(leader))


def test_empty_analysis_inputs_still_make_a_map(leader: dict[str, Any]) -> None:
    empty = gpd.GeoDataFrame(geometry=[], crs=4326)
    data = leader | {
        k: empty for k in ("heat", "hotspots", "coverage_gaps", "uncovered_buildings", "negative_list")
    }
    data |= {"problems": empty, "facilities": empty, "buildings": empty}
    layers = layers_of(render(data))
    assert layers["heat"]["heat"] == [] and layers["hotspots"]["data"]["n"] == 0
    assert layers["negative_list"]["data"]["n"] == 0 and layers["problems"]["data"]["n"] == 0
    assert not any(k.startswith(("gaps:", "uncovered:")) for k in layers)


def test_points_far_outside_do_not_move_the_view(leader: dict[str, Any]) -> None:
    leader["heat"] = _gdf([{"id": 9, "geometry": Point(LON + 1, LAT + 1)}])
    page = render(leader)
    assert f"[[{LAT}, {LON}], [{LAT + 0.002}, {LON + 0.002}]]" in page


def test_positive_sites_are_a_layer_of_their_own_off_at_first(grid: dict[str, Any]) -> None:  # noqa: F811
    sites = _gdf(
        [{"id": 7, "name": XSS, "description": "干净整洁", "geometry": Point(LON + 0.001, LAT + 0.001)}]
    )
    page = render(grid, positive_sites=sites)
    layer = layers_of(page)["positive_sites"]
    assert layer["name"] == "正面清单（示范点位）" and not layer["show"]
    assert unpack_features(layer["data"])[0]["properties"]["name"] == XSS  # data, set as text
    assert "正面清单（示范点位）" in legend_labels(page)
    assert XSS not in page  # escaped where it lands in the page
    english = render(grid, positive_sites=sites, labels={"positive_sites": "Positive list"})
    assert layers_of(english)["positive_sites"]["name"] == "Positive list"
    assert "positive_sites" not in layers_of(render(grid, positive_sites=sites.iloc[:0]))  # none: no layer


def test_the_layer_list_folds_when_the_layers_are_many(grid: dict[str, Any], leader: dict[str, Any]) -> None:  # noqa: F811
    few = {k: grid[k] for k in ("boundary", "buildings", "problems")} | {
        "facilities": grid["facilities"].iloc[:0]
    }
    assert len(map_spec(render(few))["layers"]) <= 6 and map_spec(render(few))["collapsed"] is False
    many = map_spec(render(leader))
    assert len(many["layers"]) > 6 and many["collapsed"] is True
