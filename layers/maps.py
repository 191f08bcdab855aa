"""Folium maps of one grid: boundary, buildings, facilities and problems.

A map is a handful of Leaflet GeoJSON layers, each with its data embedded once in a packed form
(coordinates in millionths of a degree, about 0.1 m, delta-encoded; see
:func:`layers.map_elements.pack_features`) and drawn on a canvas, never one folium object per
feature: a grid of thousands of objects costs about 100 bytes and a few microseconds per object. Nothing comes from a CDN: Leaflet is linked from our static files or inlined
(:class:`~layers.map_assets.MapAssets`), and tiles are optional (:class:`~layers.map_assets.TileSource`).

User text (problem descriptions, names) reaches the page only as JSON data and is shown with
``textContent``; see :mod:`layers.map_elements` for why folium's own popups and render pass are not
used for it.

The page keeps a registry for scripts and browser tests: ``window.gridmap.map`` is the Leaflet map,
``window.gridmap.layers[key]`` each GeoJSON layer (keys ``"boundary"``, ``"buildings"``,
``"problems"`` and ``"facility:<kind code>"``), ``window.gridmap.count(key)`` its number of
features; ``window.gridmap.ready`` turns true (event ``gridmap:ready`` on ``document``) once every
layer is built, and ``window.gridmap.scriptMs`` says how long that took.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure

from layers.map_assets import MapAssets, TileSource
from layers.map_elements import (
    PAGE_CSS,
    REGISTRY_JS,
    GridGeoJson,
    Legend,
    MapReady,
    RawElement,
    SafeGeoJsonPopup,
    SafeGeoJsonTooltip,
    pack_features,
    script_json,
)

DEFAULT_MAX_ZOOM = 20
FALLBACK_COLOR = "#7f7f7f"
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
BOUNDARY_STYLE: dict[str, Any] = {"color": "#c2185b", "weight": 3, "fill": False, "dashArray": "6 4"}
BUILDING_STYLE: dict[str, Any] = {"color": "#8d8170", "weight": 1, "fillColor": "#d9d0c1", "fillOpacity": 0.6}
# column -> label shown in the popup; columns a frame lacks are skipped
BOUNDARY_FIELDS = {"code": "网格编码", "name": "网格名称"}
BUILDING_FIELDS = {"name": "名称", "address": "地址", "use": "用途", "floors": "层数", "population": "人口"}
FACILITY_FIELDS = {"name": "名称", "condition": "状况"}
PROBLEM_FIELDS = {
    "id": "编号",
    "category_name": "类别",
    "status_name": "状态",
    "reported_at": "上报时间",
    "description": "描述",
}
_CSS_COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$")


def grid_map(
    *,
    boundary: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    problems: gpd.GeoDataFrame,
    kinds: Mapping[str, Mapping[str, str]],
    assets: MapAssets,
    tiles: TileSource | None,
    statuses: Mapping[str, Mapping[str, str]] | None = None,
) -> folium.Map:
    """Build the map of one grid.

    Parameters
    ----------
    boundary
        Grid polygon(s); the map fits them. Optional columns ``code``, ``name`` go in a popup.
    buildings
        Footprints, drawn as one layer. Optional columns ``name``, ``address``, ``use``,
        ``floors``, ``population`` go in a popup.
    facilities
        Columns ``kind`` (a key of ``kinds``), ``name``, ``condition``; one layer per kind present.
        A kind missing from ``kinds`` still gets a (grey) layer named by its code.
    problems
        Columns ``id``, ``category``, ``category_name``, ``status``, ``reported_at``,
        ``description``; drawn as one layer of circles coloured by status. ``reported_at`` is shown
        as ``YYYY-MM-DD HH:MM`` in the timezone it carries.
    kinds
        Facility kind code -> ``{"name": str, "color": CSS colour, "geom": "point"|"line"|"polygon"}``.
    assets
        Where the page loads Leaflet from; folium's CDN defaults are dropped.
    tiles
        Background tiles, or None for no tile layer at all (plain background, no tile requests).
    statuses
        Problem status code -> ``{"name": str, "color": str}``; defaults to :data:`DEFAULT_STATUSES`.
        Unknown statuses are grey and labelled by their code.

    Returns
    -------
    folium.Map
        Render with ``m.get_root().render()``. Geometries in any CRS are drawn in WGS84
        (EPSG:4326); rows with a missing or empty geometry are left out.
    """
    boundary, buildings, facilities, problems = (
        _clean(g) for g in (boundary, buildings, facilities, problems)
    )
    bounds = _bounds(boundary) or _bounds(pd.concat([buildings, facilities, problems]))
    m = _base_map(bounds, assets, tiles)
    legend: list[tuple[str, str, str]] = [
        ("网格边界", BOUNDARY_STYLE["color"], "line"),
        ("建筑物", BUILDING_STYLE["fillColor"], "polygon"),
    ]
    _add_layer(m, boundary, key="boundary", name="网格边界", fields=BOUNDARY_FIELDS, style=BOUNDARY_STYLE)
    _add_layer(m, buildings, key="buildings", name="建筑物", fields=BUILDING_FIELDS, style=BUILDING_STYLE)
    legend += _add_facilities(m, facilities, kinds)
    legend += _add_problems(m, problems, DEFAULT_STATUSES if statuses is None else statuses)
    Legend(legend).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    MapReady().add_to(m)  # last: its script runs once every layer is built
    return m


def _base_map(bounds: list[list[float]] | None, assets: MapAssets, tiles: TileSource | None) -> folium.Map:
    """An empty canvas-rendered map with our assets, the registry script and the optional tiles.

    The view is fitted to ``bounds`` before any layer or tile is added, so nothing is drawn or
    fetched twice.
    """
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2] if bounds else None
    m = folium.Map(location=center, zoom_start=16, tiles=None, prefer_canvas=True, control_scale=True)
    if bounds:
        m.fit_bounds(bounds)
    m.options["max_zoom"] = tiles.max_zoom if tiles else DEFAULT_MAX_ZOOM
    _use_assets(m, assets)
    figure = _figure(m)
    figure.header.add_child(RawElement(PAGE_CSS), name="gridmap_css")
    figure.script.add_child(RawElement(REGISTRY_JS), name="gridmap_registry")
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles.url_template,
            attr=tiles.attribution or " ",  # folium refuses an empty attribution
            max_zoom=tiles.max_zoom,
            subdomains=tiles.subdomains,
            name="底图",
            control=False,
        ).add_to(m)
    return m


def _add_facilities(
    m: folium.Map, facilities: gpd.GeoDataFrame, kinds: Mapping[str, Mapping[str, str]]
) -> list[tuple[str, str, str]]:
    """One layer per facility kind present; returns their legend entries."""
    legend: list[tuple[str, str, str]] = []
    if facilities.empty:
        return legend
    for code, kind in _facility_kinds(facilities, kinds).items():
        style = _kind_style(kind)
        legend.append((kind["name"], style.get("fillColor", style["color"]), kind["geom"]))
        _add_layer(
            m,
            facilities[facilities["kind"] == code],
            key=f"facility:{code}",
            name=kind["name"],
            fields=FACILITY_FIELDS,
            style=style,
            tooltip="name",
        )
    return legend


def _add_problems(
    m: folium.Map, problems: gpd.GeoDataFrame, statuses: Mapping[str, Mapping[str, str]]
) -> list[tuple[str, str, str]]:
    """One layer of problems coloured by status; returns the legend entries of the statuses present."""
    if problems.empty and "status" not in problems.columns:
        problems = problems.assign(status=pd.Series(dtype=object))
    present = list(dict.fromkeys(problems["status"]))
    colors = {s: statuses[s]["color"] if s in statuses else FALLBACK_COLOR for s in present}
    names = {s: statuses[s]["name"] if s in statuses else str(s) for s in present}
    _add_layer(
        m,
        problems.assign(status_name=problems["status"].map(names)),
        key="problems",
        name="问题",
        fields=PROBLEM_FIELDS,
        style=_point_style(FALLBACK_COLOR, radius=6),
        style_key="status",
        styles={s: _point_style(c, radius=6) for s, c in colors.items()},
        extra=("category", "status"),
        tooltip="category_name",
    )
    ordered = [s for s in statuses if s in colors] + [s for s in present if s not in statuses]
    return [(f"问题：{names[s]}", colors[s], "point") for s in ordered]


def _add_layer(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    key: str,
    name: str,
    fields: Mapping[str, str],
    style: Mapping[str, Any],
    style_key: str | None = None,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
    extra: Sequence[str] = (),
    tooltip: str | None = None,
) -> None:
    """Add ``gdf`` as one registered GeoJSON layer with a popup of ``fields`` (those it has)."""
    shown = {c: label for c, label in fields.items() if c in gdf.columns}
    columns = list(dict.fromkeys([*shown, *(c for c in extra if c in gdf.columns)]))
    layer = GridGeoJson(
        _packed(gdf, columns),
        name=name,
        registry_key=key,
        default_style=style,
        style_key=style_key,
        styles=styles,
    )
    if shown:
        layer.add_child(
            SafeGeoJsonPopup(
                fields=list(shown),
                aliases=list(shown.values()),
                localize=False,
                max_width=360,
                max_height=320,
            )
        )
        if tooltip in shown:
            layer.add_child(SafeGeoJsonTooltip(fields=[tooltip], labels=False, sticky=False))
    layer.add_to(m)


def _packed(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> str:
    """The layer data as JSON text for the page (see :func:`layers.map_elements.pack_features`)."""
    props = {}
    for column in columns:
        values = gdf[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.strftime("%Y-%m-%d %H:%M")
        elif pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
            values = values.astype("Int64")  # an integer column with gaps: show 6, not 6.0
        props[column] = values.astype(object).where(values.notna(), None).tolist()
    return script_json(pack_features(np.asarray(gdf.geometry.values), props))


def _clean(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows with a geometry, in WGS84 (a frame without a CRS is taken as WGS84)."""
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    geoms = np.asarray(gdf.geometry.values)
    return gdf[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]


def _bounds(gdf: gpd.GeoDataFrame) -> list[list[float]] | None:
    if gdf.empty:
        return None
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in gdf.total_bounds)
    return [[min_lat, min_lon], [max_lat, max_lon]]


def _facility_kinds(
    facilities: gpd.GeoDataFrame, kinds: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str]]:
    """Kinds present in ``facilities``, in the order of ``kinds``, then unknown codes as grey points."""
    present = set(facilities["kind"])
    out = {code: dict(kind) for code, kind in kinds.items() if code in present}
    for code in sorted(present - set(kinds), key=str):
        out[str(code)] = {"name": str(code), "color": FALLBACK_COLOR, "geom": "point"}
    return out


def _kind_style(kind: Mapping[str, str]) -> dict[str, Any]:
    color = _css_color(kind.get("color", FALLBACK_COLOR))
    if kind.get("geom") == "line":
        return {"color": color, "weight": 4, "opacity": 0.9}
    if kind.get("geom") == "polygon":
        return {"color": color, "weight": 2, "fillColor": color, "fillOpacity": 0.35}
    return _point_style(color, radius=5)


def _point_style(color: str, *, radius: int) -> dict[str, Any]:
    return {
        "radius": radius,
        "color": "#ffffff",
        "weight": 1,
        "fillColor": _css_color(color),
        "fillOpacity": 0.9,
    }


def _css_color(value: str) -> str:
    """``value`` if it looks like a hex or named CSS colour, else grey (it lands in inline CSS)."""
    return value if isinstance(value, str) and _CSS_COLOR.match(value) else FALLBACK_COLOR


def _figure(m: folium.Map) -> Figure:
    figure = m.get_root()
    assert isinstance(figure, Figure), "folium.Map always sits in a Figure"
    return figure


def _use_assets(m: folium.Map, assets: MapAssets) -> None:
    """Replace folium's CDN scripts and styles (jQuery, Bootstrap, awesome-markers) with Leaflet alone."""
    if not assets.inline:
        m.default_js = assets.js_urls()
        m.default_css = assets.css_urls()
        return
    m.default_js = []
    m.default_css = []
    header = _figure(m).header
    header.add_child(
        RawElement("<style>" + assets.inline_css().replace("</style", "<\\/style") + "</style>"),
        name="leaflet_css",
    )
    header.add_child(
        RawElement("<script>" + assets.inline_js().replace("</script", "<\\/script") + "</script>"),
        name="leaflet",
    )
