"""Map layers loaded by bounding box: what is too large to embed in a city-wide page.

A city holds ~100k buildings, tens of thousands of facilities and problems: embedding them would
make a page of tens of megabytes. :class:`BboxGeoJson` layers start empty; :class:`BboxLoader`
fills each one that is on the map, on every ``moveend`` at or above a zoom threshold, with the
GeoJSON of a list URL (``?bbox=minlon,minlat,maxlon,maxlat&page_size=N``, following the OGC API
``next`` links) and empties them below it. The list URL is expected to scope the rows to the user
(the site's ``/api/v1/`` lists do), so the page never holds more than one view's worth of rows.

Registry (next to the one of :mod:`layers.maps.grid`): ``gridmap.layers[key]`` is the Leaflet layer, so
``gridmap.count(key)`` is what is loaded; ``gridmap.bbox[key]`` is its state
``{bbox, matched, loaded, complete, loading, error}`` (``bbox``: the box text sent, ``matched``: the
list's ``numberMatched``); ``gridmap.viewBbox()`` is the box text of the current view and
``gridmap.bboxIdle()`` is true when no load is running; ``gridmap.bboxMinZoom`` is the threshold. Event ``gridmap:bbox`` on ``document``
follows every finished load. Property values are shown as text (``gridmap.detail``), never HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from branca.element import MacroElement
from folium.template import Template

from layers.maps.elements import STYLED_LAYER_JS, OverlayLayer, html_text, render_once

DEFAULT_MIN_ZOOM = 16
DEFAULT_PAGE_SIZE = 1000  # the API's largest page
DEFAULT_MAX_FEATURES = 5000  # per layer and view; more asks the user to zoom in


# WGS84 -> GCJ-02 in the page, the formula of layers.chinacoords (a browser test holds them equal):
# over GCJ-02 tiles the bbox-loaded features are moved for display, and the view's box is moved
# back to WGS84 (fixed-point iteration) before it is sent.
GCJ02_JS = """
gridmap.gcj02 = (function () {
    var A = 6378245.0, EE = 0.00669342162296594323, R = Math.PI / 180;
    function inside(lon, lat) { return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271; }
    function offset(lon, lat) {
        var x = lon - 105.0, y = lat - 35.0, xpi = x * Math.PI, ypi = y * Math.PI;
        var common = 20.0 * Math.sin(6.0 * xpi) + 20.0 * Math.sin(2.0 * xpi);
        var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
            + (common + 20.0 * Math.sin(ypi) + 40.0 * Math.sin(ypi / 3.0)
               + 160.0 * Math.sin(ypi / 12.0) + 320.0 * Math.sin(ypi / 30.0)) * 2.0 / 3.0;
        var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
            + (common + 20.0 * Math.sin(xpi) + 40.0 * Math.sin(xpi / 3.0)
               + 150.0 * Math.sin(xpi / 12.0) + 300.0 * Math.sin(xpi / 30.0)) * 2.0 / 3.0;
        var s = Math.sin(lat * R), magic = 1.0 - EE * s * s;
        var latM = A * (1.0 - EE) / (magic * Math.sqrt(magic)) * R, lonM = A * Math.cos(lat * R) / Math.sqrt(magic) * R;
        return [dlon / lonM, dlat / latM];
    }
    function forward(lon, lat) {
        if (!inside(lon, lat)) { return [lon, lat]; }
        var d = offset(lon, lat);
        return [lon + d[0], lat + d[1]];
    }
    function inverse(lon, lat) {
        if (!inside(lon, lat)) { return [lon, lat]; }
        var w = [lon, lat];
        for (var i = 0; i < 30; i++) {
            var d = offset(w[0], w[1]), n = [lon - d[0], lat - d[1]];
            var step = Math.max(Math.abs(n[0] - w[0]), Math.abs(n[1] - w[1]));
            w = n;
            if (step <= 1e-12) { break; }
        }
        return w;
    }
    function coords(c) {
        return typeof c[0] === 'number' ? forward(c[0], c[1]).concat(c.slice(2)) : c.map(coords);
    }
    function geometry(g) {
        if (!g) { return; }
        if (g.type === 'GeometryCollection') { g.geometries.forEach(geometry); } else { g.coordinates = coords(g.coordinates); }
    }
    return {
        forward: forward, inverse: inverse,
        features: function (fc) { (fc.features || []).forEach(function (f) { geometry(f.geometry); }); return fc; }
    };
})();
"""


@dataclass(frozen=True)
class BboxSource:
    """One bbox-loaded layer.

    Parameters
    ----------
    key
        Registry key (``gridmap.layers[key]``).
    name
        Name in the layer control (plain text).
    url
        List URL, same origin, with any fixed query (``/api/v1/problems/?status=closed``);
        ``bbox`` and ``page_size`` are appended.
    style, style_key, styles
        A feature is styled ``styles[properties[style_key]]``, else ``style``; points are circle
        markers (give the style a ``radius``). Colours must already be checked.
    fields
        Property -> label shown in the popup (as text).
    show
        On the map at first (else switched on in the layer control, and loaded then).
    """

    key: str
    name: str
    url: str
    style: Mapping[str, Any]
    style_key: str | None = None
    styles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    show: bool = True


class BboxGeoJson(OverlayLayer):
    """An empty GeoJSON layer in the layer control, filled by :class:`BboxLoader`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}"""
        + STYLED_LAYER_JS
        + """
        {% if this.fields %}{{ this.get_name() }}.bindPopup(gridmap.detail(
            {{ this.fields|tojson }}, {{ this.aliases|tojson }}, true), gridmap.popupOptions({maxHeight: 320}));
        {% endif %}gridmap.layers[{{ this.key|tojson }}] = {{ this.get_name() }};
        (gridmap.bboxSources = gridmap.bboxSources || []).push(
            {key: {{ this.key|tojson }}, url: {{ this.url|tojson }}, layer: {{ this.get_name() }}});
        {% endmacro %}
        """
    )

    def __init__(self, source: BboxSource) -> None:
        super().__init__(name=html_text(source.name), overlay=True, show=source.show)
        self._name = "BboxGeoJson"
        self.key = source.key
        self.url = source.url
        self.default_style = dict(source.style)
        self.style_key = source.style_key
        self.styles = {str(k): dict(v) for k, v in source.styles.items()}
        self.fields = list(source.fields)
        self.aliases = list(source.fields.values())


class BboxLoader(MacroElement):
    """Loads every :class:`BboxGeoJson` of the map on ``moveend`` and when it is switched on.

    ``messages``: ``zoom_in`` (below the threshold), ``truncated`` (``{name}``, ``{shown}`` and
    ``{matched}`` are filled in) and ``failed`` (``{name}``, ``{error}``), shown in a small
    control, as text. ``gcj02``: the map is drawn over GCJ-02 tiles (:data:`GCJ02_JS`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, cfg) {
            var state = gridmap.bbox = {}, sources = gridmap.bboxSources || [], serial = {};
            gridmap.bboxMinZoom = cfg.minZoom;
            {% if this.gcj02 %}{{ this.gcj02_js }}{% endif %}
            var note = L.control({position: 'topright'});
            note.onAdd = function () { return L.DomUtil.create('div', 'gridmap-legend gridmap-bbox-note'); };
            note.addTo(map);
            function round(v) { return v.toFixed(6); }
            gridmap.viewBbox = function () {
                var b = map.getBounds(), w = b.getWest(), s = b.getSouth(), e = b.getEast(), n = b.getNorth();
                if (gridmap.gcj02) {  // the view is drawn in GCJ-02: its corners back to WGS84
                    var c = [[w, s], [w, n], [e, s], [e, n]].map(function (p) { return gridmap.gcj02.inverse(p[0], p[1]); });
                    var xs = c.map(function (p) { return p[0]; }), ys = c.map(function (p) { return p[1]; });
                    w = Math.min.apply(null, xs); e = Math.max.apply(null, xs);
                    s = Math.min.apply(null, ys); n = Math.max.apply(null, ys);
                }
                return [Math.max(w, -180), Math.max(s, -90), Math.min(e, 180), Math.min(n, 90)].map(round).join(',');
            };
            gridmap.bboxIdle = function () {
                return sources.every(function (s) { return !state[s.key].loading; });
            };
            function say() {
                var lines = [];
                if (map.getZoom() < cfg.minZoom) { lines.push(cfg.messages.zoom_in); }
                sources.forEach(function (s) {
                    var st = state[s.key];
                    if (st.complete === false && !st.loading && st.matched > st.loaded) {
                        lines.push(cfg.messages.truncated.replace('{name}', s.name)
                            .replace('{shown}', st.loaded).replace('{matched}', st.matched));
                    }
                    if (st.error && !st.loading) {
                        lines.push(cfg.messages.failed.replace('{name}', s.name).replace('{error}', st.error));
                    }
                });
                note.getContainer().textContent = lines.join(' ');
                note.getContainer().style.display = lines.length ? '' : 'none';
            }
            function done(s) {
                say();
                document.dispatchEvent(new CustomEvent('gridmap:bbox', {detail: s.key}));
            }
            function relative(href) { var u = new URL(href, location.href); return u.pathname + u.search; }
            function load(s) {
                var st = state[s.key];
                if (!map.hasLayer(s.layer)) { return; }
                if (map.getZoom() < cfg.minZoom) {
                    if (st.abort) { st.abort.abort(); }
                    serial[s.key] = (serial[s.key] || 0) + 1;
                    s.layer.clearLayers();
                    Object.assign(st, {bbox: null, matched: null, loaded: 0, complete: null, loading: false});
                    return done(s);
                }
                var box = gridmap.viewBbox();
                if (st.bbox === box && (st.loading || st.complete !== null)) { return; }
                if (st.abort) { st.abort.abort(); }
                var mine = serial[s.key] = (serial[s.key] || 0) + 1, ctl = new AbortController(), got = [];
                Object.assign(st, {bbox: box, loading: true, complete: null, error: null, abort: ctl});
                function page(url) {
                    return fetch(url, {credentials: 'same-origin', signal: ctl.signal,
                                       headers: {'Accept': 'application/geo+json, application/json'}})
                        .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); })
                        .then(function (fc) {
                            if (mine !== serial[s.key]) { return; }
                            got.push.apply(got, fc.features);
                            var next = (fc.links || []).filter(function (l) { return l.rel === 'next'; })[0];
                            if (next && got.length < cfg.maxFeatures) { return page(relative(next.href)); }
                            s.layer.clearLayers();
                            s.layer.addData(gridmap.gcj02 ? gridmap.gcj02.features({features: got}).features : got);
                            Object.assign(st, {matched: fc.numberMatched, loaded: got.length,
                                               complete: !next, loading: false});
                            done(s);
                        });
                }
                var url = s.url + (s.url.indexOf('?') < 0 ? '?' : '&') + 'bbox=' + box + '&page_size=' + cfg.pageSize;
                page(url).catch(function (e) {
                    if (mine !== serial[s.key]) { return; }
                    Object.assign(st, {loading: false, error: String(e)});
                    done(s);
                });
            }
            var names = {{ this.names|tojson }};
            sources.forEach(function (s) {
                s.name = names[s.key] || s.key;
                state[s.key] = {bbox: null, matched: null, loaded: 0, complete: null, loading: false, error: null};
            });
            function loadAll() { sources.forEach(load); say(); }
            map.on('moveend', loadAll);
            map.on('overlayadd', function (e) {
                sources.forEach(function (s) { if (s.layer === e.layer) { load(s); } });
            });
            map.on('overlayremove', function (e) {
                sources.forEach(function (s) {
                    if (s.layer === e.layer) {
                        if (state[s.key].abort) { state[s.key].abort.abort(); }
                        serial[s.key] = (serial[s.key] || 0) + 1;
                        s.layer.clearLayers();
                        Object.assign(state[s.key], {bbox: null, matched: null, loaded: 0, complete: null,
                                                     loading: false});
                        say();
                    }
                });
            });
            loadAll();
        })({{ this._parent.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        sources: Sequence[BboxSource],
        *,
        messages: Mapping[str, str],
        min_zoom: int = DEFAULT_MIN_ZOOM,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_features: int = DEFAULT_MAX_FEATURES,
        gcj02: bool = False,
    ) -> None:
        super().__init__()
        self._name = "BboxLoader"
        self.gcj02 = gcj02
        self.gcj02_js = GCJ02_JS
        self.names = {s.key: s.name for s in sources}
        self.config = {
            "minZoom": int(min_zoom),
            "pageSize": int(page_size),
            "maxFeatures": int(max_features),
            "messages": {k: str(messages[k]) for k in ("zoom_in", "truncated", "failed")},
        }

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
        render_once(self, **kwargs)


def add_bbox_layers(
    m: Any,
    sources: Sequence[BboxSource],
    *,
    messages: Mapping[str, str],
    min_zoom: int = DEFAULT_MIN_ZOOM,
    max_features: int = DEFAULT_MAX_FEATURES,
    gcj02: bool = False,
) -> None:
    """Add one :class:`BboxGeoJson` per source and the loader (after them) to folium map ``m``."""
    for source in sources:
        BboxGeoJson(source).add_to(m)
    BboxLoader(sources, messages=messages, min_zoom=min_zoom, max_features=max_features, gcj02=gcj02).add_to(
        m
    )
