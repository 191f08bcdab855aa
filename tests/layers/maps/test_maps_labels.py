"""The leader map's own texts come from one labels mapping: given in English, no Chinese default is left.

No database, no browser: the spec the page builds from is read out of the rendered HTML.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from layers.maps.assets import MapAssets, TileSource
from layers.maps.grid import grid_map
from layers.maps.labels import DEFAULT_LABELS, FIELD_KEYS, fields, label, merged_labels
from layers.maps.leader import MapLinks
from tests.layers.maps.test_maps import TILE_URL, grid, legend_labels, map_spec  # noqa: F401  (grid: a fixture)
from tests.layers.maps.test_maps_leader import layers_of, leader  # noqa: F401  (leader: a fixture)

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
ENGLISH = {key: f"EN {key}" for key in DEFAULT_LABELS} | {
    "households_value": "%(count)s households",
    "population_value": "%(count)s people",
    "coverage_gaps": "%(kind)s: uncovered area",
    "uncovered_buildings": "%(kind)s: uncovered buildings",
    "days_value": "%(days)s days",
}
KINDS_EN = {
    "litter_bin": {"name": "Litter bin", "color": "#2b83ba", "geom": "point"},
    "hydrant": {"name": "Hydrant", "color": "red", "geom": "point"},
    "tactile_paving": {"name": "Tactile paving", "color": "#fdae61", "geom": "line"},
    "car_park": {"name": "Car park", "color": "#999999", "geom": "polygon"},
}
STATUSES_EN = {
    "reported": {"name": "Reported", "color": "#d7191c"},
    "closed": {"name": "Closed", "color": "#1a9850"},
}


def render(data: dict[str, Any], **kwargs: Any) -> str:
    options = {"kinds": KINDS_EN, "assets": MapAssets(), "tiles": None, "statuses": STATUSES_EN} | kwargs
    return grid_map(**data, **options).get_root().render()


def ui_texts(page: str) -> list[str]:
    """Every text of the map's own making: layer names, legend, popup labels, panel, link and the
    texts computed per feature (status names, overdue marks, ages, hotspot classes)."""
    spec = map_spec(page)
    texts = [layer["name"] for layer in spec["layers"]]
    texts += re.sub(r"<[^>]*>", "\n", spec["legend"]).split("\n")
    texts += [a for layer in spec["layers"] for a in layer.get("popup", {}).get("aliases", [])]
    texts += [spec["negative"]["title"], spec.get("links", {}).get("label", "")]
    for layer in spec["layers"]:
        props = layer.get("data", {}).get("props", {})
        for column in ("status_name", "overdue_label", "age", "hotspot_name"):
            texts += [str(v) for v in props.get(column, []) if v is not None]
    return [t for t in texts if t.strip()]


def test_english_labels_reach_every_layer_name_legend_and_popup(leader: dict[str, Any]) -> None:  # noqa: F811
    links = MapLinks(problem="/problems/{id}/")
    page = render(leader, labels=ENGLISH, links=links)
    layers = layers_of(page)
    assert {k: v["name"] for k, v in layers.items() if not k.startswith("facility:")} == {
        "boundary": "EN boundary",
        "buildings": "EN buildings",
        "problems": "EN problems",
        "heat": "EN heat",
        "hotspots": "EN hotspots",
        "gaps:hydrant": "Hydrant: uncovered area",
        "uncovered:hydrant": "Hydrant: uncovered buildings",
        "negative_list": "EN negative_list",
        "place_labels": "EN place_labels",
    }
    en = merged_labels(ENGLISH)
    for key, layer in [("boundary", "boundary"), ("building", "buildings"), ("facility", "facility:hydrant"),
                       ("problem", "problems"), ("hotspot", "hotspots"), ("gap", "gaps:hydrant"),
                       ("uncovered", "uncovered:hydrant"), ("negative", "negative_list")]:  # fmt: skip
        popup = layers[layer]["popup"]
        assert popup["aliases"] == [fields(key, en)[c] for c in popup["fields"]], layer
    legend = legend_labels(page)
    assert "EN overdue" in legend and "EN class_01" in legend and "EN hot_99" in legend
    assert "0 households" in legend and "Hydrant: uncovered area" in legend
    for title in ("grid_section", "buildings_by_households", "facilities", "problem_status", "problem_class",
                  "hotspots_legend", "coverage_legend"):  # fmt: skip
        assert f"<h4>EN {title}</h4>" in map_spec(page)["legend"]
    problems = layers["problems"]["data"]["props"]
    assert problems["overdue_label"] == ["EN overdue", None, None, None]
    negative = map_spec(page)["negative"]
    assert negative["title"] == "EN negative_title"
    assert layers["negative_list"]["data"]["props"]["age"] == ["30 days", "2 days"]
    assert map_spec(page)["links"]["label"] == "EN problem_link"
    texts = ui_texts(page)
    assert texts and not [t for t in texts if CJK.search(t)]
    for key, default in DEFAULT_LABELS.items():  # no default text is left, whole or around a placeholder
        for part in re.split(r"%\(\w+\)s", default):
            if part.strip():
                assert not [t for t in texts if part.strip() in t], (key, part)


def test_every_label_key_is_used_by_a_popup_or_the_map(leader: dict[str, Any]) -> None:  # noqa: F811
    used = {k for keys in FIELD_KEYS.values() for k in keys.values()}
    assert used <= set(DEFAULT_LABELS)
    page = render(
        leader,
        labels=ENGLISH,
        links=MapLinks(problem="/p/{id}/"),
        tiles=TileSource(TILE_URL, "x"),
        negative_more=(99, "/problems/?open=1"),  # the map lists the oldest part of a longer list
    )
    shown = set(re.findall(r"EN (\w+)", page))
    missing = set(DEFAULT_LABELS) - shown - used - {k for k, v in ENGLISH.items() if not v.startswith("EN ")}
    # population shading and the classes absent from the data need other data; the tile layer's
    # name is kept by folium but left out of the page (the layer is not in the layer control)
    # and the streets layer needs streets (tests/layers/maps/test_place_labels.py gives them)
    # and the finished problems' layer needs statuses marked "open": False; the inspection points
    # need points (tests/layers/maps/test_inspection_points.py gives them), the positive list sites
    assert missing == {"positive_sites", "streets", "problems_closed", "inspection_points", "buildings_by_population", "class_04", "class_05", "class_06", "hot_95", "hot_90",
                       "cold_95", "cold_99", "base_map"}, missing  # fmt: skip


def test_labels_left_out_keep_their_chinese_default(leader: dict[str, Any]) -> None:  # noqa: F811
    page = render(leader, labels={"boundary": "Grid boundary", "field_grid_code": "Grid code"})
    layers = layers_of(page)
    assert layers["boundary"]["name"] == "Grid boundary" and layers["problems"]["name"] == "问题"
    assert layers["boundary"]["popup"]["aliases"][0] == "Grid code"
    assert layers["boundary"]["popup"]["aliases"][1] == DEFAULT_LABELS["field_grid_name"]
    assert "已超期" in legend_labels(page) and map_spec(page)["negative"]["title"] == "负面清单"


def test_a_link_label_given_with_the_links_wins_over_the_labels(leader: dict[str, Any]) -> None:  # noqa: F811
    page = render(leader, labels=ENGLISH, links=MapLinks(problem="/p/{id}/", label="Details"))
    assert map_spec(page)["links"]["label"] == "Details"
    assert map_spec(render(leader, links=MapLinks(problem="/p/{id}/")))["links"]["label"] == "查看问题详情"


def test_a_label_is_escaped_where_the_page_reads_html(leader: dict[str, Any]) -> None:  # noqa: F811
    page = render(leader, labels={"problems": "<b>x</b>", "overdue": "<i>late</i>"})
    assert layers_of(page)["problems"]["name"] == "&lt;b&gt;x&lt;/b&gt;"
    assert (
        "<i>late</i>" not in map_spec(page)["legend"]
        and "&lt;i&gt;late&lt;/i&gt;" in map_spec(page)["legend"]
    )


@pytest.mark.parametrize(("key", "values", "text"), [("days_value", {"days": 3}, "3 天"),
                                                       ("coverage_gaps", {"kind": "消火栓"}, "消火栓：未覆盖区域")])  # fmt: skip
def test_placeholders_are_filled(key: str, values: dict[str, Any], text: str) -> None:
    assert label(DEFAULT_LABELS, key, **values) == text
