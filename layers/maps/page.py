"""What every map page starts from (the grid map, the planner's map, the route map).

- the page's first script, :data:`REGISTRY_JS`: ``window.gridmap``, the registry of layers that
  scripts and browser tests read (``gridmap.layers[key]``, ``gridmap.count(key)``), the
  ``gridmap.unpack`` of :mod:`layers.maps.packing`, and the shared popup, legend and label
  helpers; and its stylesheet, :data:`PAGE_CSS`;
- :func:`base_map`: an empty canvas-rendered map over our own Leaflet assets (no CDN), fitted to
  its bounds, with the registry, a metric scale and the optional tiles;
- :func:`add_layer`: a frame as one registered GeoJSON layer with a popup; :func:`clean` (rows
  with a geometry, in WGS84) and :func:`frame_bounds` for the frames a page is drawn from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure
from folium.map import FitBounds

from layers.maps.assets import MapAssets, TileSource
from layers.maps.elements import (
    GridGeoJson,
    MetricScale,
    RawElement,
    SafeGeoJsonPopup,
    SafeGeoJsonTooltip,
    script_json,
)
from layers.maps.labels import DEFAULT_LABELS
from layers.maps.packing import pack_features

DEFAULT_MAX_ZOOM = 20
BACKGROUND_COLOR = "#f2efe9"

# First script of the page: the layer registry and the popup/tooltip body shared by every layer.
REGISTRY_JS = """
window.gridmap = {
    layers: {}, ready: false, t0: performance.now(),
    count: function (key) {  // features of a layer; points of a heat layer
        var l = this.layers[key];
        return !l ? null : l.getLayers ? l.getLayers().length : l._latlngs ? l._latlngs.length : null;
    },
    unpack: function (packed) {  // see layers.maps.packing.pack_features
        var features = new Array(packed.n), names = Object.keys(packed.props);
        packed.parts.forEach(function (part) {
            var items = part.geometries;
            if (!items) {
                var xy = part.xy, x = 0, y = 0;
                items = new Array(xy.length / 2);
                for (var i = 0; i < items.length; i++) {
                    x += xy[2 * i]; y += xy[2 * i + 1];
                    items[i] = [x / 1e6, y / 1e6];
                }
                part.offsets.forEach(function (offsets) {
                    var nested = new Array(offsets.length - 1);
                    for (var j = 0; j < nested.length; j++) {
                        nested[j] = items.slice(offsets[j], offsets[j + 1]);
                    }
                    items = nested;
                });
                items = items.map(function (coords) { return {type: part.type, coordinates: coords}; });
            }
            items.forEach(function (geometry, j) {
                var row = part.index ? part.index[j] : j, properties = {};
                names.forEach(function (name) { properties[name] = packed.props[name][row]; });
                features[row] = {type: 'Feature', geometry: geometry, properties: properties};
            });
        });
        return {type: 'FeatureCollection', features: features};
    },
    small: function () {  // a phone: controls start folded (the same width as SMALL_SCREEN_PX)
        return window.matchMedia ? window.matchMedia('(max-width: 600px)').matches : window.innerWidth <= 600;
    },
    popupOptions: function (extra) {  // readable popups: never narrower than 200 px, never off a phone
        var w = Math.max(window.innerWidth || 0, 260);
        return L.extend({minWidth: Math.min(240, w - 40), maxWidth: Math.min(360, w - 40), maxHeight: 360,
                         autoPanPadding: [8, 8]}, extra || {});
    },
    legend: function (map, html, title, position) {  // a legend behind a button (folded on a phone)
        var control = L.control({position: position || 'bottomleft'});
        control.onAdd = function () {
            var box = L.DomUtil.create('div', 'gridmap-legend-box');
            var button = L.DomUtil.create('button', 'gridmap-legend-toggle', box);
            var body = L.DomUtil.create('div', 'gridmap-legend', box);
            button.type = 'button';
            button.textContent = title;
            body.innerHTML = html;  // built and escaped on the server
            control.body = body;
            control.open = function (on) {
                body.hidden = !on;
                button.setAttribute('aria-expanded', String(on));
                L.DomUtil[on ? 'addClass' : 'removeClass'](box, 'open');
            };
            control.open(!gridmap.small());
            L.DomEvent.on(button, 'click', function () { control.open(body.hidden); });
            L.DomEvent.disableClickPropagation(box);
            L.DomEvent.disableScrollPropagation(box);
            return box;
        };
        control.addTo(map);
        gridmap.legends.push(control);
        return control;
    },
    legends: [],
    declutter: function (tips) {  // hides each label that would overlap one shown before it
        var placed = [];
        tips.forEach(function (t) {
            var el = t.getElement ? t.getElement() : null;
            if (!el) { return; }
            el.style.visibility = '';
            var r = el.getBoundingClientRect();
            var hit = placed.some(function (p) {
                return r.left < p.right + 2 && r.right > p.left - 2 && r.top < p.bottom + 2 && r.bottom > p.top - 2;
            });
            if (hit) { el.style.visibility = 'hidden'; } else { placed.push(r); }
        });
    },
    labelLayer: function (map, items) {  // layers.maps.place_labels: text on the map, by zoom
        var group = L.layerGroup(), tips = items.map(function (it) {
            var span = document.createElement('span');
            span.textContent = it.text;  // names are data, never markup
            var t = L.tooltip({permanent: true, direction: 'center', interactive: false,
                               className: 'gridmap-label ' + (it.cls || '')});
            t.setLatLng(L.latLng(it.at[0], it.at[1])).setContent(span);
            t.minZoom = it.min_zoom || 0;
            return t;
        });
        function refresh() {
            if (!map.hasLayer(group)) { return; }
            var z = map.getZoom(), view = map.getBounds().pad(0.1), keep = [];
            tips.forEach(function (t) { if (z >= t.minZoom && view.contains(t.getLatLng())) { keep.push(t); } });
            group.eachLayer(function (t) { if (keep.indexOf(t) < 0) { group.removeLayer(t); } });
            keep.forEach(function (t) { if (!group.hasLayer(t)) { group.addLayer(t); } });
            gridmap.declutter(keep);
        }
        group.on('add', refresh);
        map.on('zoomend moveend', refresh);
        group.refresh = refresh;
        group.shown = function () {
            return group.getLayers().filter(function (t) {
                var el = t.getElement(); return el && el.style.visibility !== 'hidden';
            }).map(function (t) { return t.getElement().textContent; });
        };
        return group;
    },
    detail: function (fields, aliases, labels) {
        return function (layer) {
            var div = L.DomUtil.create('div', 'gridmap-detail');
            var table = L.DomUtil.create('table', '', div);
            fields.forEach(function (field, i) {
                var value = layer.feature.properties[field];
                if (value === null || value === undefined || value === '') { return; }
                var row = L.DomUtil.create('tr', '', table);
                if (labels) { L.DomUtil.create('th', '', row).textContent = aliases[i]; }
                L.DomUtil.create('td', '', row).textContent =
                    typeof value === 'object' ? JSON.stringify(value) : String(value);
            });
            return div;
        };
    }
};
"""

PAGE_CSS = f"""<style>
.gridmap-detail table {{ border-collapse: collapse; width: 100%; }}
.gridmap-detail th, .gridmap-detail td {{ vertical-align: top; padding: 2px 0; border-bottom: 1px solid #eee; }}
.gridmap-detail td {{ white-space: pre-line; overflow-wrap: anywhere; }}
.leaflet-tooltip .gridmap-detail td {{ white-space: nowrap; }}
.gridmap-detail th {{ text-align: left; padding-right: 10px; white-space: nowrap; color: #555;
    font-weight: normal; width: 1%; }}
.gridmap-legend-box {{ background: rgba(255,255,255,.92); border-radius: 4px;
    box-shadow: 0 1px 4px rgba(0,0,0,.3); }}
.gridmap-legend-toggle {{ display: block; min-height: 36px; min-width: 44px; padding: 4px 10px; border: 0;
    background: none; font: bold 13px sans-serif; cursor: pointer; }}
.gridmap-legend-box.open .gridmap-legend-toggle {{ padding-bottom: 0; min-height: 28px; }}
.leaflet-container .gridmap-legend-box .gridmap-legend {{ background: none; box-shadow: none; }}
.leaflet-tooltip.gridmap-label {{ background: transparent; border: 0; box-shadow: none; padding: 0; color: #333;
    font: 12px/1.1 sans-serif; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; white-space: nowrap; }}
.leaflet-tooltip.gridmap-label::before {{ display: none; }}
.leaflet-tooltip.gridmap-label.grid-code {{ color: #880e4f; font-weight: bold; }}
@media (max-width: 600px) {{
  .gridmap-legend {{ max-height: 28vh; max-width: 60vw; }}
  .gridmap-negative {{ max-width: 60vw; max-height: 28vh; }}
}}
.folium-map.leaflet-container {{ background: {BACKGROUND_COLOR}; }}
.gridmap-legend {{ background: rgba(255,255,255,.92); padding: 6px 8px; border-radius: 4px;
    box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12px; line-height: 18px; max-height: 50vh;
    overflow-y: auto; }}
/* on a wider screen too a legend stays narrow: long names (English ones) wrap */
@media (min-width: 601px) {{ .gridmap-legend {{ max-width: 220px; }} }}
.gridmap-legend i {{ display: inline-block; width: 12px; height: 12px; margin-right: 6px;
    vertical-align: -2px; }}
.gridmap-legend i.point {{ border-radius: 50%; }}
.gridmap-legend i.line {{ height: 3px; vertical-align: 3px; }}
.gridmap-legend i.polygon {{ opacity: .75; }}
</style>"""


def base_map(
    bounds: list[list[float]] | None,
    assets: MapAssets,
    tiles: TileSource | None,
    plugins: Sequence[str] = (),
    base_name: str = DEFAULT_LABELS["base_map"],
) -> folium.Map:
    """An empty canvas-rendered map with our assets, the registry script and the optional tiles.

    ``plugins`` names vendored Leaflet plugins the page loads after Leaflet (``"heat"``);
    ``base_name`` names the tile layer.
    The view is fitted to ``bounds`` before any layer or tile is added, so nothing is drawn or
    fetched twice.
    """
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2] if bounds else None
    m = folium.Map(location=center, zoom_start=16, tiles=None, prefer_canvas=True)
    if bounds:
        m.fit_bounds(bounds)
        for child in m._children.values():  # fit at once: a zoom animation still running when
            if isinstance(child, FitBounds):  # the page is ready would undo a view set right then
                child.options["animate"] = False
    m.options["max_zoom"] = tiles.max_zoom if tiles else DEFAULT_MAX_ZOOM
    _use_assets(m, assets, plugins)
    figure = figure_of(m)
    figure.header.add_child(RawElement(PAGE_CSS), name="gridmap_css")
    figure.script.add_child(RawElement(REGISTRY_JS), name="gridmap_registry")
    MetricScale().add_to(m)  # metres only
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles.url_template,
            attr=tiles.attribution or " ",  # folium refuses an empty attribution
            max_zoom=tiles.max_zoom,
            subdomains=tiles.subdomains,
            name=base_name,
            control=False,
        ).add_to(m)
    return m


def add_layer(
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
                min_width=220,  # label/value rows stay readable (the page's popups use gridmap.popupOptions)
                max_width=360,
                max_height=320,
            )
        )
        if tooltip in shown:
            layer.add_child(SafeGeoJsonTooltip(fields=[tooltip], labels=False, sticky=False))
    layer.add_to(m)


def _packed(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> str:
    """The layer data as JSON text for the page (see :func:`layers.maps.packing.pack_features`)."""
    props = {}
    for column in columns:
        values = gdf[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.strftime("%Y-%m-%d %H:%M")
        elif pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
            values = values.astype("Int64")  # an integer column with gaps: show 6, not 6.0
        props[column] = values.astype(object).where(values.notna(), None).tolist()
    return script_json(pack_features(np.asarray(gdf.geometry.values), props))


def clean(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows with a geometry, in WGS84 (a frame without a CRS is taken as WGS84)."""
    if gdf.crs is not None and gdf.crs.srs.upper() != "EPSG:4326" and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    geoms = np.asarray(gdf.geometry.values)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return gdf if keep.all() else gdf[keep]


def frame_bounds(gdf: gpd.GeoDataFrame) -> list[list[float]] | None:
    """``[[min lat, min lon], [max lat, max lon]]`` of a WGS84 frame (Leaflet's order), None if empty."""
    if gdf.empty:
        return None
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in gdf.total_bounds)
    return [[min_lat, min_lon], [max_lat, max_lon]]


def figure_of(m: folium.Map) -> Figure:
    """The page (branca ``Figure``) a map sits in: its header and script take our elements."""
    figure = m.get_root()
    assert isinstance(figure, Figure), "folium.Map always sits in a Figure"
    return figure


def _use_assets(m: folium.Map, assets: MapAssets, plugins: Sequence[str] = ()) -> None:
    """Replace folium's CDN scripts and styles (jQuery, Bootstrap, awesome-markers) with Leaflet
    (and the named plugins) alone."""
    if not assets.inline:
        m.default_js = assets.js_urls() + assets.plugin_js_urls(plugins)
        m.default_css = assets.css_urls()
        return
    m.default_js = []
    m.default_css = []
    header = figure_of(m).header
    header.add_child(
        RawElement("<style>" + assets.inline_css().replace("</style", "<\\/style") + "</style>"),
        name="leaflet_css",
    )
    header.add_child(
        RawElement("<script>" + assets.inline_js().replace("</script", "<\\/script") + "</script>"),
        name="leaflet",
    )
    for name in plugins:
        script = assets.inline_plugin_js(name).replace("</script", "<\\/script")
        header.add_child(RawElement("<script>" + script + "</script>"), name=f"leaflet_{name}")
