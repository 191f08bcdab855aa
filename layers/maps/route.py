"""Folium map of an inspection route: numbered stops in walking order, the path, a locate button.

Built from the helpers of :mod:`layers.maps.page` (packed layer data, canvas drawing, the
``window.gridmap`` registry, local assets only). Layers (registry keys):

- ``"stops"``: one circle per stop, coloured by its task (overdue, open, look-back) or grey when
  ticked off as visited, numbered in walking order. Numbers are Leaflet tooltips bound only to
  the stops in view, and only while at most :data:`MAX_LABELS` are in view, so a route of a
  thousand stops stays cheap; a number that would overlap one of an earlier stop is hidden
  (``gridmap.declutter``), so 75 stops along one street never print over each other.
- ``"path"``: the walk, street runs drawn solid and legs with no street path drawn as straight
  dashed lines (property ``kind`` = ``"street"`` or ``"straight"``).
- ``"start"``: where the walk begins, when it has a fixed start.
- ``"position"``: made in the browser by the locate button (position and accuracy circle).

User text (descriptions, category names) reaches the page only as JSON data and is shown with
``textContent``; the problem link is the stop's ``url`` property, used only when it is a
site-relative path. ``window.gridmap.route`` offers ``focus(seq)`` (highlight a stop, open its
popup, mark the list entry), ``still()`` (no pan or zoom under way: what is on the map stays put),
``labels()`` (numbers shown) and ``locate()``; page elements with
``data-route-seq`` focus their stop when clicked, and the entry ``#<item_prefix><seq>`` gets the
class ``active`` while its stop is focused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from folium.template import Template
from shapely.geometry import Point

from layers.chinacoords import gcj02_for_display, wgs84_to_gcj02
from layers.maps.assets import MapAssets, TileSource
from layers.maps.elements import Legend, MapReady, RawElement, render_once, script_json
from layers.maps.page import add_layer, base_map, clean, frame_bounds

__all__ = ["DEFAULT_LABELS", "MAX_LABELS", "PATH_STYLES", "TASK_COLORS", "route_map"]

MAX_LABELS = 150  # stop numbers shown at once; more in view and only the circles are drawn
WORLD_BOUNDS = [[-60.0, -170.0], [75.0, 170.0]]
TASK_COLORS = {"overdue": "#d7191c", "open": "#f28e2b", "lookback": "#1a9850"}
VISITED_COLOR = "#9e9e9e"
STOP_RADIUS = 12  # px: a finger-sized target that still holds a three-digit number
PATH_COLOR = "#1f5fbf"
PATH_STYLES: dict[str, dict[str, Any]] = {
    "street": {"color": PATH_COLOR, "weight": 5, "opacity": 0.8},
    "straight": {"color": PATH_COLOR, "weight": 3, "opacity": 0.8, "dashArray": "8 8"},
}
START_STYLE = {"radius": 9, "color": "#222222", "weight": 3, "fillColor": "#ffffff", "fillOpacity": 1}
STOP_COLUMNS = ("seq", "id", "task", "state", "category", "status", "deadline", "description", "url")
DEFAULT_LABELS: dict[str, str] = {
    "stops": "巡查点",
    "path": "路线",
    "street": "沿街道步行",
    "straight": "直线（无街道路径）",
    "start": "起点",
    "overdue": "已超期",
    "open": "待处理",
    "lookback": "待回访",
    "category": "类别",
    "status": "状态",
    "deadline": "处置时限",
    "description": "描述",
    "open_problem": "打开问题页面",
    "locate": "定位我的位置",
    "locating": "正在定位…",
    "accuracy": "精度 ± %(m)s 米",
    "replan": "从这里重新规划",
    "locate_failed": "无法定位",
    "no_geolocation": "此浏览器不能定位",
    "position": "我的位置",
    "visited": "已巡查",
    "visit": "标记为已巡查",
    "unvisit": "取消已巡查",
    "legend": "图例",
    "replan_rest": "从这里规划剩余路线",
}

ROUTE_CSS = f"""<style>
.leaflet-tooltip.route-num {{ background: transparent; border: 0; box-shadow: none; padding: 0;
    color: #fff; font: bold 11px/1 sans-serif; text-shadow: 0 0 2px #000; }}
.leaflet-tooltip.route-num::before {{ display: none; }}
.route-locate > .leaflet-bar {{ display: inline-block; }}
.route-locate-button {{ width: 44px; height: 44px; font-size: 24px; line-height: 44px; padding: 0;
    border: 0; background: #fff; cursor: pointer; display: block; }}
.route-locate-note {{ background: #fff; padding: 6px 8px; margin-top: 6px; max-width: 14rem;
    font-size: 13px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); }}
.leaflet-container .route-locate-note a {{ display: block; margin-top: 6px; padding: 12px 8px; min-height: 44px; background: {PATH_COLOR};
    color: #fff; text-align: center; border-radius: 4px; text-decoration: none; }}
.route-popup h3 {{ margin: 0 0 4px; font-size: 14px; }}
.route-popup p {{ margin: 2px 0; white-space: pre-wrap; word-break: break-word; }}
.leaflet-container .route-popup a {{ display: inline-block; margin-top: 6px; padding: 8px 10px; }}
.route-popup .route-tick {{ display: block; width: 100%; min-height: 44px; margin-top: 6px; border: 1px solid #1a9850;
    background: #fff; color: #1a9850; border-radius: 4px; font: bold 14px sans-serif; cursor: pointer; }}
</style>"""


class RouteScript(MacroElement):
    """The route's script (:data:`ROUTE_JS`): numbers, popups, focus and the list entries, and
    the locate button. Add it after the layers and before :class:`MapReady`."""

    _template = Template(
        "{% macro script(this, kwargs) %}(function (map, cfg) {{ '{' }}{{ this.js }}"
        "{{ '}' }})({{ this._parent.get_name() }}, {{ this.config }});{% endmacro %}"
    )

    def __init__(
        self,
        labels: Mapping[str, str],
        item_prefix: str,
        datum: str = "wgs84",
        styles: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self._name = "RouteScript"
        self.js = ROUTE_JS
        self.config = script_json({
            "labels": dict(labels), "itemPrefix": item_prefix, "maxLabels": MAX_LABELS, "datum": datum,
            "styles": {k: dict(v) for k, v in (styles or {}).items()},
        })  # fmt: skip

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
        render_once(self, **kwargs)


def route_map(
    *,
    stops: gpd.GeoDataFrame,
    path: gpd.GeoDataFrame,
    start: tuple[float, float] | None,
    assets: MapAssets,
    tiles: TileSource | None,
    labels: Mapping[str, str] | None = None,
    fallback_bounds: list[list[float]] | None = None,
    item_prefix: str = "route-stop-",
) -> folium.Map:
    """Build the map of a planned route.

    Parameters
    ----------
    stops
        Points in walking order with the columns of :data:`STOP_COLUMNS`: ``seq`` (1, 2, ...),
        ``id``, ``task`` (``overdue``, ``open`` or ``lookback``: the circle's colour),
        ``category``, ``status``, ``deadline`` (text), ``description`` and ``url`` (the problem
        page, site-relative). Missing columns are left out of the popup.
    path
        LineStrings in walking order with ``kind``: ``street`` or ``straight``.
    start
        (lon, lat) where the walk begins, or None.
    assets, tiles
        As for :func:`layers.maps.grid.grid_map`.
    labels
        Texts shown on the map (defaults: :data:`DEFAULT_LABELS`, Chinese); ``accuracy`` holds
        ``%(m)s`` for the metres.
    fallback_bounds
        ``[[south, west], [north, east]]`` to show when the route has nothing to draw.
    item_prefix
        Id prefix of the page's list entries (``<item_prefix><seq>``).
    """
    texts = {**DEFAULT_LABELS, **(labels or {})}
    stops = clean(stops)
    task = stops["task"] if "task" in stops else pd.Series("open", index=stops.index)
    if "visited" in stops:  # a stop ticked off as visited is drawn grey
        task = task.where(~stops["visited"].fillna(False).astype(bool), "visited")
    stops = stops.assign(state=task)
    path = clean(path)
    datum = tiles.datum if tiles is not None else "wgs84"
    if datum == "gcj02":  # drawn where GCJ-02 tiles show the place; the data stay WGS84
        stops, path = gcj02_for_display(stops), gcj02_for_display(path)
        if start:
            lon, lat = wgs84_to_gcj02(start[0], start[1])
            start = (float(lon), float(lat))
    start_frame = gpd.GeoDataFrame(
        {"name": [texts["start"]] if start else []},
        geometry=[Point(start)] if start else [],
        crs=4326,
    )
    bounds = frame_bounds(pd.concat([stops[["geometry"]], path[["geometry"]], start_frame[["geometry"]]]))
    m = base_map(bounds or fallback_bounds or WORLD_BOUNDS, assets, tiles)
    m.get_root().header.add_child(RawElement(ROUTE_CSS), name="route_css")
    add_layer(
        m, path, key="path", name=texts["path"], fields={}, style=PATH_STYLES["street"],
        style_key="kind", styles=PATH_STYLES, extra=("kind",),
    )  # fmt: skip
    if start:
        add_layer(
            m, start_frame, key="start", name=texts["start"], fields={}, style=START_STYLE, extra=("name",)
        )
    styles = {task: _stop_style(color) for task, color in TASK_COLORS.items()}
    styles["visited"] = _stop_style(VISITED_COLOR) | {"fillOpacity": 0.6}
    add_layer(
        m, stops, key="stops", name=texts["stops"], fields={}, style=styles["open"],
        style_key="state", styles=styles, extra=STOP_COLUMNS,
    )  # fmt: skip
    legend = [(texts[task], color, "point") for task, color in TASK_COLORS.items()]
    legend.append((texts["visited"], VISITED_COLOR, "point"))
    legend += [(texts["street"], PATH_COLOR, "line"), (texts["straight"], PATH_COLOR, "line")]
    if start:
        legend.append((texts["start"], START_STYLE["color"], "point"))
    Legend(legend, title=texts["legend"]).add_to(m)
    RouteScript(texts, item_prefix, datum, styles).add_to(m)
    MapReady().add_to(m)  # last: its script runs once every layer is built
    return m


def _stop_style(color: str) -> dict[str, Any]:
    return {"radius": STOP_RADIUS, "color": "#ffffff", "weight": 2, "fillColor": color, "fillOpacity": 0.95}


ROUTE_JS = r"""
var labels = cfg.labels, stops = gridmap.layers.stops, bySeq = {}, active = null, shown = [];
function text(parent, tag, value) {
    var el = L.DomUtil.create(tag, '', parent); el.textContent = value; return el;
}
function popup(layer) {
    var p = layer.feature.properties, div = L.DomUtil.create('div', 'route-popup gridmap-detail');
    text(div, 'h3', p.seq + '. ' + (p.category || ''));
    var table = L.DomUtil.create('table', '', div);
    [['status', p.status], ['deadline', p.deadline], ['description', p.description]].forEach(function (row) {
        if (row[1] !== null && row[1] !== undefined && row[1] !== '') {
            var tr = L.DomUtil.create('tr', '', table);
            text(tr, 'th', labels[row[0]]);
            text(tr, 'td', row[1]);
        }
    });
    if (p.state === 'visited') { text(div, 'p', '\u2713 ' + labels.visited); }
    var li = item(p.seq), form = li && li.querySelector('form.stop-visit');
    if (form && form.requestSubmit) {  // the page's tick for this stop (gridmap/static/gridmap/route.js)
        var tick = text(div, 'button', p.state === 'visited' ? labels.unvisit : labels.visit);
        tick.type = 'button';
        tick.className = 'route-tick';
        L.DomEvent.on(tick, 'click', function () { form.requestSubmit(); map.closePopup(); });
    }
    if (typeof p.url === 'string' && /^\/[^\/\\]/.test(p.url)) {
        var a = text(div, 'a', labels.open_problem); a.href = p.url;
    }
    return div;
}
function item(seq) { return document.getElementById(cfg.itemPrefix + seq); }
function number(layer) {
    if (!layer.getTooltip()) {
        layer.bindTooltip(String(layer.feature.properties.seq),
            {permanent: true, direction: 'center', className: 'route-num', interactive: false});
    }
}
function refreshNumbers() {
    var view = map.getBounds().pad(0.2), inView = [];
    stops.eachLayer(function (l) { if (view.contains(l.getLatLng())) { inView.push(l); } });
    var keep = inView.length <= cfg.maxLabels ? inView : (active ? [active] : []);
    shown.forEach(function (l) { if (keep.indexOf(l) < 0) { l.unbindTooltip(); } });
    keep.forEach(number);
    shown = keep;
    // the focused stop first, then walking order: a number over an earlier one is hidden
    var order = keep.slice().sort(function (a, b) {
        return (b === active) - (a === active) || a.feature.properties.seq - b.feature.properties.seq;
    });
    gridmap.declutter(order.map(function (l) { return l.getTooltip(); }));
}
function setVisited(id, on) {  // the page's tick (gridmap/static/gridmap/route.js) restyles the stop
    var hit = null;
    stops.eachLayer(function (l) {
        var p = l.feature.properties;
        if (Number(p.id) === Number(id)) {
            p.state = on ? 'visited' : p.task;
            l.setStyle(cfg.styles[p.state] || {});
            hit = l;
        }
    });
    return hit !== null;
}
function mark(layer) {
    if (active) {
        stops.resetStyle(active);
        var old = item(active.feature.properties.seq);
        if (old) { old.classList.remove('active'); }
    }
    active = layer;
    layer.setStyle({radius: 17, color: '#000000', weight: 3});
    layer.bringToFront();
    var li = item(layer.feature.properties.seq);
    if (li) { li.classList.add('active'); }
    return li;
}
function focus(seq) {
    var layer = bySeq[seq];
    if (!layer) { return false; }
    mark(layer);
    map.setView(layer.getLatLng(), Math.max(map.getZoom(), 17));
    number(layer);
    layer.openPopup();
    return true;
}
stops.eachLayer(function (l) {
    bySeq[l.feature.properties.seq] = l;
    l.bindPopup(popup, gridmap.popupOptions({maxWidth: Math.min(300, (window.innerWidth || 320) - 40)}));
    l.on('click', function () {
        var li = mark(l);
        if (li && li.scrollIntoView) { li.scrollIntoView({block: 'nearest'}); }
    });
});
map.on('moveend', refreshNumbers);
refreshNumbers();
// whether the map is still: a pan or zoom (focus's, a popup's auto-pan) starts and ends with these
// events, so what lies on the map (a popup's button) is where it will stay
var moving = false;
map.on('movestart zoomstart', function () { moving = true; });
map.on('moveend', function () { moving = false; });
document.querySelectorAll('[data-route-seq]').forEach(function (el) {
    el.addEventListener('click', function (event) {
        if (focus(Number(el.getAttribute('data-route-seq')))) {
            event.preventDefault();
            var box = map.getContainer().getBoundingClientRect();
            if (box.top < 0 || box.bottom > window.innerHeight) { map.getContainer().scrollIntoView(); }
        }
    });
});

var note = null, button = null;
function say(message) { note.hidden = false; note.textContent = message; return note; }
function located(pos) {
    var lat = pos.coords.latitude, lon = pos.coords.longitude, acc = pos.coords.accuracy || 0;
    // over GCJ-02 tiles the position is drawn moved like the layers (gridmap/static/gridmap/picker.js)
    var shown = cfg.datum === 'gcj02' && window.gridmapChinaCoords ? window.gridmapChinaCoords.toGcj(lon, lat) : [lon, lat];
    var here = L.latLng(shown[1], shown[0]);
    if (gridmap.layers.position) { map.removeLayer(gridmap.layers.position); }
    var group = L.featureGroup([
        L.circle(here, {radius: acc, color: '#1e88e5', weight: 1, fillOpacity: 0.12, interactive: false}),
        L.circleMarker(here, {radius: 8, color: '#ffffff', weight: 2, fillColor: '#1e88e5', fillOpacity: 1})
    ]).addTo(map);
    group.bindTooltip(labels.position);
    gridmap.layers.position = group;
    gridmap.position = {lon: lon, lat: lat, accuracy: acc};
    map.fitBounds(group.getBounds(), {maxZoom: Math.max(map.getZoom(), 17)});
    say(labels.accuracy.replace('%(m)s', String(Math.round(acc))));
    var url = new URL(window.location.href);
    url.searchParams.set('start', lon.toFixed(6) + ',' + lat.toFixed(6));
    url.searchParams.set('remaining', '1');  // the rest of the walk: the stops not yet visited
    var link = text(note, 'a', labels.replan_rest);
    link.href = url.pathname + url.search;
    link.className = 'route-replan';
    button.disabled = false;
    document.dispatchEvent(new CustomEvent('gridmap:located'));
}
function locate() {
    if (!navigator.geolocation) { say(labels.no_geolocation); return; }
    button.disabled = true;
    say(labels.locating);
    navigator.geolocation.getCurrentPosition(located, function (error) {
        button.disabled = false;
        say(labels.locate_failed + (error && error.message ? ': ' + error.message : ''));
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 30000});
}
var Locate = L.Control.extend({
    options: {position: 'topleft'},
    onAdd: function () {
        var box = L.DomUtil.create('div', 'route-locate');
        var bar = L.DomUtil.create('div', 'leaflet-bar', box);
        button = L.DomUtil.create('button', 'route-locate-button', bar);
        button.type = 'button';
        button.title = labels.locate;
        button.setAttribute('aria-label', labels.locate);
        button.textContent = '\u25CE';
        note = L.DomUtil.create('div', 'route-locate-note', box);
        note.hidden = true;
        note.setAttribute('role', 'status');
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.on(button, 'click', locate);
        return box;
    }
});
new Locate().addTo(map);
gridmap.route = {
    focus: focus, locate: locate, setVisited: setVisited,
    still: function () { return !moving; },
    labels: function () { return shown.length; },
    visibleLabels: function () {  // the numbers shown and not hidden as overlapping
        return shown.filter(function (l) {
            var el = l.getTooltip() && l.getTooltip().getElement();
            return el && el.style.visibility !== 'hidden';
        }).map(function (l) { return l.feature.properties.seq; });
    }
};
"""
