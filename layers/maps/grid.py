"""Folium maps of one grid (or a community's grids): the grid leader's map.

A map is a handful of Leaflet layers, each with its data embedded once in a packed form
(coordinates in millionths of a degree, about 0.1 m, delta-encoded; see
:func:`layers.maps.packing.pack_features`) and drawn on a canvas, never one folium object per
feature. The leader map goes further: all its layers are one JSON spec built in the page by one
script (:mod:`layers.maps.leader`), so a map of 25 layers costs one folium element, not 50. Nothing
comes from a CDN: Leaflet and leaflet.heat are linked from our static files or inlined
(:class:`~layers.maps.assets.MapAssets`), and tiles are optional (:class:`~layers.maps.assets.TileSource`).

User text (problem descriptions, names) reaches the page only as JSON data and is shown with
``textContent``; see :mod:`layers.maps.elements` for why folium's own popups and render pass are not
used for it. The map's own texts (layer names, legend, popup labels) come from a ``labels`` mapping
over :data:`layers.maps.labels.DEFAULT_LABELS` (Chinese), so a caller can translate them.

The page keeps a registry for scripts and browser tests: ``window.gridmap.map`` is the Leaflet map,
``window.gridmap.layers[key]`` each layer, ``window.gridmap.count(key)`` its number of features
(points for the heat layer); ``window.gridmap.ready`` turns true (event ``gridmap:ready`` on
``document``) once every layer is built, and ``window.gridmap.scriptMs`` says how long that took.
Keys of :func:`grid_map` (hidden ones are off until ticked in the layer control):

- ``"boundary"``, ``"buildings"`` (shaded by households), ``"facility:<kind code>"``,
  ``"problems"`` (colour = status, symbol = category class, ring = overdue);
- hidden: ``"heat"`` (leaflet.heat of the open problems), ``"hotspots"`` (Gi* cells, coloured by
  90/95/99 % confidence, hot and cold), ``"gaps:<kind code>"`` (uncovered area) and
  ``"uncovered:<kind code>"`` (uncovered buildings) per kind with a service radius, and
  ``"negative_list"`` (the open items, ringed, and a panel listing them oldest first).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from layers.maps.assets import MapAssets, TileSource
from layers.maps.elements import MapReady, RawElement, html_text
from layers.maps.labels import DEFAULT_LABELS, fields, merged_labels
from layers.maps.leader import BUILD_JS, LEADER_CSS, LeaderLayers, MapLinks
from layers.maps.leader_analysis import coverage_layers, hotspot_layers
from layers.maps.leader_layers import (
    BOUNDARY_STYLE,
    Section,
    building_layers,
    facility_layers,
    inspection_point_layers,
    legend_html,
    plain_layer,
    positive_layers,
)
from layers.maps.leader_problems import heat_layers, negative_layers, problem_layers
from layers.maps.leader_tiles import tile_specs
from layers.maps.page import base_map, clean, figure_of, frame_bounds
from layers.maps.place_labels import grid_labels, street_labels
from layers.maps.symbols import glyph_js, line_swatch
from layers.maps.vector_tiles import VECTOR_JS

__all__ = ["DEFAULT_LABELS", "DEFAULT_STATUSES", "MapLinks", "grid_map"]

# More layers than this and the layer list opens folded: unfolded, a dozen names cover a third of
# a 1366×768 desktop's map (the legend stays open and scrolls)
FOLD_AFTER_LAYERS = 6
STREET_STYLE: dict[str, Any] = {"color": "#b0aaa0", "weight": 3, "opacity": 0.9, "interactive": False}
# Closed-loop states (GB/T 30428: 上报 → 立案 → 派遣 → 处置 → 核查 → 结案, 返工 on a failed check).
DEFAULT_STATUSES: dict[str, dict[str, str]] = {
    "reported": {"name": "已上报", "color": "#d7191c"},
    "filed": {"name": "已立案", "color": "#f46d43"},
    "dispatched": {"name": "已派遣", "color": "#fdae61"},
    "in_progress": {"name": "处置中", "color": "#e6c229"},
    "fixed": {"name": "待核查", "color": "#66bd63"},
    "rework": {"name": "返工", "color": "#9e0142"},
    "closed": {"name": "已结案", "color": "#1a9850"},
    "rejected": {"name": "不予立案", "color": "#878787"},
}


def grid_map(
    *,
    boundary: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    problems: gpd.GeoDataFrame,
    kinds: Mapping[str, Mapping[str, str]],
    assets: MapAssets,
    tiles: TileSource | None,
    statuses: Mapping[str, Mapping[str, Any]] | None = None,
    heat: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    coverage_gaps: gpd.GeoDataFrame | None = None,
    uncovered_buildings: gpd.GeoDataFrame | None = None,
    negative_list: gpd.GeoDataFrame | None = None,
    positive_sites: gpd.GeoDataFrame | None = None,
    negative_more: tuple[int, str] | None = None,
    links: MapLinks | None = None,
    labels: Mapping[str, str] | None = None,
    tiled: Mapping[str, str] | None = None,
    tiled_zooms: Mapping[str, tuple[int, int]] | None = None,
    streets: gpd.GeoDataFrame | None = None,
    shown: Collection[str] | None = None,
    choices: Mapping[str, Mapping[str, str]] | None = None,
    inspection_points: gpd.GeoDataFrame | None = None,
    point_types: Mapping[str, Mapping[str, str]] | None = None,
) -> folium.Map:
    """Build the map of one grid (or of a community's grids).

    Parameters
    ----------
    boundary
        Grid polygon(s); the map fits them. Optional columns ``code``, ``name`` go in a popup.
    buildings
        Footprints, one layer, shaded by ``households`` (else ``population``) in graduated
        classes with a legend. Optional popup columns ``name``, ``address``, ``use``, ``floors``.
    facilities
        Columns ``kind`` (a key of ``kinds``), ``name``, ``condition``; one layer per kind present,
        points drawn as a distinct canvas symbol per kind (:mod:`layers.maps.symbols`). A kind
        missing from ``kinds`` still gets a (grey) layer named by its code.
    problems
        Columns ``id``, ``category`` (code; its first two digits choose the symbol),
        ``category_name``, ``status`` (the colour), ``reported_at``, ``description``; optional
        ``deadline``, ``overdue`` (ringed) and ``photos`` (comma-separated photo ids, shown as
        thumbnails with ``links``). Times are shown as ``YYYY-MM-DD HH:MM``.
    kinds
        Facility kind code -> ``{"name": str, "color": CSS colour, "geom": "point"|"line"|"polygon"}``.
    assets
        Where the page loads Leaflet (and leaflet.heat) from; folium's CDN defaults are dropped.
    tiles
        Background tiles, or None for no tile layer at all (plain background, no tile requests).
    statuses
        Problem status code -> ``{"name": str, "color": str}`` and optionally ``"open": bool``
        (problems of statuses marked not open are drawn in a layer of their own, ``problems_closed``,
        off at first, unless problems come from tiles); defaults to :data:`DEFAULT_STATUSES`.
        Unknown statuses are grey and labelled by their code.
    heat
        Points (open problems) for a heat layer (leaflet.heat), hidden at first; None: no layer.
    hotspots
        Gi* cells: ``hotspot`` (hot_99 … cold_99, none), ``count``, ``z``, ``p_value``; hidden at first.
    coverage_gaps
        Uncovered area polygons: ``kind``, ``radius_m``, ``uncovered_m2``, ``uncovered_share``.
    uncovered_buildings
        Buildings out of reach: ``kind``, ``address``, ``households``, ``distance_m``.
    negative_list
        Open items, oldest first: the problem columns plus ``days_open``; ringed on the map and
        listed in a panel while the layer is on.
    positive_sites
        The positive list (正面清单): exemplary sites (``name``, ``description``), a layer of its
        own, off at first; None or empty: no layer.
    negative_more
        ``negative_list`` is the oldest part of a longer list: (the whole list's length, its URL),
        said and linked in the panel.
    links
        Problem page and photo URL templates for the popups (None: no links, no thumbnails).
    tiled
        Layers drawn from vector tiles instead of embedded data (:mod:`layers.maps.leader_tiles`):
        ``"buildings"``, ``"problems"``, ``"facilities"`` -> a tile URL template (``{z}/{x}/{y}``)
        whose tiles hold the same rows; their frames still give the legend and the style rule.
        ``tiled_zooms``: per layer, the smallest zoom its tiles have and the first whose tiles
        carry the popup's properties.
    streets
        Street centrelines with ``name`` (give them when there are no tiles): drawn as thin grey
        lines under everything (``"streets"``) and named by labels (``"place_labels"``, with the
        grid codes; :mod:`layers.maps.place_labels`). Without them only the grid codes are labels.
    choices
        Column -> {stored value: the text shown} for coded columns of the buildings and facilities
        (``use``, ``condition``): popups show the text (a value missing from it stays as it is).
    shown
        The keys of the layers switched on at first (the rest are in the layer control, off);
        None: every layer but the analysis ones (heat, hotspots, gaps, uncovered, negative list).
    inspection_points
        The campaign's inspection points (points or areas): ``type`` (a key of ``point_types``:
        code -> ``{"name", "color"}``), ``name``, ``type_name``, ``department``; one layer, on at
        first on a wide screen and off on a phone. None: no layer.
    labels
        The map's texts by key, over :data:`~layers.maps.labels.DEFAULT_LABELS` (the Chinese
        defaults); keys left out keep their default. Texts with ``%(name)s`` placeholders keep them.

    Returns
    -------
    folium.Map
        Render with ``m.get_root().render()``. Geometries in any CRS are drawn in WGS84
        (EPSG:4326); rows with a missing or empty geometry are left out.
    """
    statuses = DEFAULT_STATUSES if statuses is None else statuses
    text = merged_labels(labels)
    boundary, buildings, facilities, problems = (
        clean(g) for g in (boundary, buildings, facilities, problems)
    )
    buildings, facilities = (_named_choices(g, choices or {}) for g in (buildings, facilities))
    bounds = frame_bounds(boundary) or frame_bounds(pd.concat([buildings, facilities, problems]))
    plugins = ("heat",) * (heat is not None) + ("vectorgrid",) * bool(tiled)
    m = base_map(bounds, assets, tiles, plugins=plugins, base_name=text["base_map"])
    figure = figure_of(m)
    figure.header.add_child(RawElement(LEADER_CSS), name="gridmap_leader_css")
    figure.script.add_child(RawElement(glyph_js() + BUILD_JS), name="gridmap_leader_js")
    boundary_fields = fields("boundary", text)
    specs = []
    if streets is not None:
        streets = clean(streets)
        specs.append(plain_layer(streets, key="streets", name=text["streets"], fields={}, style=STREET_STYLE))
    specs.append(
        plain_layer(
            boundary, key="boundary", name=text["boundary"], fields=boundary_fields, style=BOUNDARY_STYLE
        )
    )
    boundary_line = (line_swatch(BOUNDARY_STYLE["color"], dash="4 2"), html_text(text["boundary"]))
    sections: list[Section] = [(text["grid_section"], [boundary_line])]
    for part, section in (building_layers(buildings, text), facility_layers(facilities, kinds, text)):
        specs += part
        sections.append(section)
    part, section = inspection_point_layers(inspection_points, point_types or {}, text, clean=clean)
    specs += part
    sections += [section] if part else []
    part, problem_sections = problem_layers(problems, statuses, text, split="problems" not in (tiled or {}))
    specs += part
    sections += problem_sections
    if heat is not None:
        specs += heat_layers(clean(heat), text)
    if hotspots is not None:
        part, section = hotspot_layers(clean(hotspots), text)
        specs += part
        sections.append(section)
    if coverage_gaps is not None or uncovered_buildings is not None:
        part, section = coverage_layers(
            None if coverage_gaps is None else clean(coverage_gaps),
            None if uncovered_buildings is None else clean(uncovered_buildings),
            kinds,
            text,
        )
        specs += part
        sections.append(section)
    part, section = positive_layers(None if positive_sites is None else clean(positive_sites), text)
    specs += part
    sections.append(section)
    place = street_labels(streets) if streets is not None else []
    specs.append({"key": "place_labels", "name": html_text(text["place_labels"]), "show": True,
                  "labels": place + grid_labels(boundary)})  # fmt: skip
    if shown is not None:
        for s in specs:
            s["show"] = s["key"] in shown
    spec: dict[str, Any] = {"layers": specs, "legend": legend_html(sections), "legend_title": text["legend"]}
    if negative_list is not None:
        part, spec["negative"] = negative_layers(clean(negative_list), statuses, text, negative_more)
        specs += part
    if links is not None:
        label = text["problem_link"] if links.label is None else links.label
        spec["links"] = {"problem": links.problem, "photo": links.photo, "label": label}
    if tiled:
        spec["layers"] = tile_specs(specs, tiled, buildings=buildings, problems=problems, statuses=statuses,
                                    labels=text, zooms=tiled_zooms, choices=choices)  # fmt: skip
        figure.script.add_child(RawElement(VECTOR_JS), name="gridmap_vector_js")
    # the layer list folded behind its button once it is long (on a phone it always is)
    spec["collapsed"] = len(spec["layers"]) > FOLD_AFTER_LAYERS
    LeaderLayers(spec).add_to(m)
    MapReady().add_to(m)  # last: its script runs once every layer is built
    return m


def _named_choices(gdf: gpd.GeoDataFrame, choices: Mapping[str, Mapping[str, str]]) -> gpd.GeoDataFrame:
    """``gdf`` with each coded column of ``choices`` shown as its text (unknown codes kept)."""
    named = {c: m for c, m in choices.items() if c in gdf.columns}
    if not named:
        return gdf
    gdf = gdf.copy()
    for column, texts in named.items():
        gdf[column] = [None if v is None or v != v else texts.get(str(v), v) for v in gdf[column].tolist()]
    return gdf
