"""The folium elements that :mod:`layers.maps.grid` builds a page from.

Two folium behaviours make plain folium unsafe for text typed by users, so every element here
avoids them:

- folium's ``MacroElement.render`` wraps each rendered script in ``Element(text)``, which compiles
  the text as a Jinja template a second time: a problem description holding ``{{ 7*7 }}`` prints
  ``49`` (server-side template injection) and ``{% x`` makes the whole map fail to render. Our
  elements render once, through :func:`render_once`.
- ``GeoJsonPopup``/``GeoJsonTooltip`` put property values into ``innerHTML``; ours set them with
  ``textContent`` (:data:`REGISTRY_JS` ``gridmap.detail``). Names that Leaflet's layer control
  shows with ``innerHTML`` are escaped by :func:`html_text`.

Layer data is embedded in a packed form (:func:`pack_features`), about a third of the size of
GeoJSON text, that ``gridmap.unpack`` turns back into GeoJSON features in the browser; every layer
registers itself in ``window.gridmap`` (see :data:`REGISTRY_JS`), so scripts and browser tests can
ask Leaflet what each layer holds.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from folium.elements import ElementAddToElement
from folium.features import GeoJsonPopup, GeoJsonTooltip
from folium.map import Layer
from folium.template import Template

from layers.io import right_hand

BACKGROUND_COLOR = "#f2efe9"
COORD_DECIMALS = 6  # about 0.1 m; packed coordinates are integers in millionths of a degree
_SCALE = 10**COORD_DECIMALS
_GEOJSON_TYPES = {
    0: "Point",
    1: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
}

# First script of the page: the layer registry and the popup/tooltip body shared by every layer.
REGISTRY_JS = """
window.gridmap = {
    layers: {}, ready: false, t0: performance.now(),
    count: function (key) {  // features of a layer; points of a heat layer
        var l = this.layers[key];
        return !l ? null : l.getLayers ? l.getLayers().length : l._latlngs ? l._latlngs.length : null;
    },
    unpack: function (packed) {  // see layers.maps.elements.pack_features
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


class RawElement(Element):
    """Text put into the page as it is: never compiled as a template (unlike ``Element(text)``)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawElement"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


def render_once(element: MacroElement, **kwargs: Any) -> None:
    """``MacroElement.render`` with the macros' output added as :class:`RawElement`."""
    figure = element.get_root()
    assert isinstance(figure, Figure), "You cannot render this Element if it is not in a Figure."
    module = element._template.module.__dict__
    for part in ("header", "html", "script"):
        if (macro := module.get(part)) is not None:
            getattr(figure, part).add_child(RawElement(macro(element, kwargs)), name=element.get_name())
    for child in element._children.values():
        child.render(**kwargs)


def html_text(text: str) -> str:
    """``text`` escaped for ``innerHTML``, braces included (folium re-reads its output as Jinja)."""
    return html.escape(str(text)).replace("{", "&#123;").replace("}", "&#125;")


def pack_features(geoms: np.ndarray, props: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """Features in the packed form that ``gridmap.unpack`` (and :func:`unpack_features`) read.

    ``{"n": rows, "props": {column: [value per row]}, "parts": [...]}``; each part holds the rows
    of one geometry type (``index``: their row numbers, left out when the part holds every row in
    order) as GeoArrow-style ragged arrays: ``xy`` is the flat list of coordinates in millionths of
    a degree, each one the difference from the previous one (the first from 0, 0), and ``offsets``
    the ring, part and geometry boundaries, innermost first. Types without a ragged form
    (GeometryCollection) go in a part with plain GeoJSON ``geometries``.

    Parameters
    ----------
    geoms
        Shapely geometries in WGS84 lon/lat (EPSG:4326), none missing or empty.
    props
        Column name -> one JSON-serialisable value per geometry.
    """
    geoms = right_hand(np.asarray(geoms, dtype=object))  # RFC 7946 winding, as every output
    type_ids = shapely.get_type_id(geoms)
    parts = []
    for type_id in dict.fromkeys(type_ids.tolist()):
        rows = np.flatnonzero(type_ids == type_id)
        part: dict[str, Any] = {} if len(rows) == len(geoms) else {"index": rows.tolist()}
        if type_id in _GEOJSON_TYPES:
            # 2D only: a Z or M value (SpatiaLite can hand back XYM) is not drawn
            _, coords, offsets = shapely.to_ragged_array(geoms[rows], include_z=False, include_m=False)
            xy = np.rint(coords[:, :2] * _SCALE).astype(np.int64)
            part |= {
                "type": _GEOJSON_TYPES[type_id],
                "xy": np.diff(xy, axis=0, prepend=np.zeros((1, 2), np.int64)).ravel().tolist(),
                "offsets": [o.tolist() for o in offsets],
            }
        else:
            rounded = shapely.transform(geoms[rows], lambda c: np.round(c, COORD_DECIMALS))
            part["geometries"] = [json.loads(g) for g in shapely.to_geojson(rounded)]
        parts.append(part)
    return {"n": len(geoms), "props": {k: list(v) for k, v in props.items()}, "parts": parts}


def unpack_features(packed: Mapping[str, Any]) -> list[dict[str, Any]]:
    """GeoJSON features from :func:`pack_features` output (what ``gridmap.unpack`` does in the page)."""
    features: list[dict[str, Any]] = [{} for _ in range(packed["n"])]
    for part in packed["parts"]:
        items = part.get("geometries")
        if items is None:
            xy = np.cumsum(np.asarray(part["xy"], dtype=np.int64).reshape(-1, 2), axis=0) / _SCALE
            nested: list[Any] = xy.tolist()
            for offsets in part["offsets"]:
                nested = [nested[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
            items = [{"type": part["type"], "coordinates": c} for c in nested]
        for j, geometry in enumerate(items):
            row = part["index"][j] if "index" in part else j
            properties = {k: v[row] for k, v in packed["props"].items()}
            features[row] = {"type": "Feature", "geometry": geometry, "properties": properties}
    return features


def script_json(value: Any) -> str:
    """Compact JSON (UTF-8, not \\u-escaped) that cannot close a ``<script>`` element."""
    return script_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


def script_safe(json_text: str) -> str:
    """JSON text made safe to place inside ``<script>``: no ``<``, ``>``, ``&`` or JS line breaks."""
    return (
        json_text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class OverlayLayer(Layer):
    """A folium overlay layer whose script is written once however often the page is rendered,
    and which is added to the map only when shown (the layer control adds it later otherwise)."""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
        if self.show:
            assert self._parent is not None
            self.add_child(
                ElementAddToElement(
                    element_name=self.get_name(), element_parent_name=self._parent.get_name()
                ),
                name=self.get_name() + "_add",
            )
        render_once(self, **kwargs)


# An empty GeoJSON layer styled by one lookup table in the page (``styles[properties[style_key]]``,
# else ``default_style``; points as circle markers), the start of every layer kind drawn here.
# Its element must have ``styles``, ``default_style`` and ``style_key``.
STYLED_LAYER_JS = """
        var {{ this.get_name() }} = L.geoJson(null, {
            pointToLayer: function (feature, latlng) { return L.circleMarker(latlng); },
            style: (function (styles, fallback, key) {
                return function (feature) { return (key && styles[feature.properties[key]]) || fallback; };
            })({{ this.styles|tojson }}, {{ this.default_style|tojson }}, {{ this.style_key|tojson }})
        });"""


class GridGeoJson(OverlayLayer):
    """A GeoJSON layer registered as ``window.gridmap.layers[registry_key]``.

    Parameters
    ----------
    data_json
        :func:`pack_features` output as JSON text, already safe for a script (:func:`script_json`).
    name
        Name in the layer control (plain text).
    registry_key
        Key in ``window.gridmap.layers``.
    default_style, style_key, styles
        A feature is styled ``styles[properties[style_key]]``, else ``default_style``: one lookup
        table in the page instead of folium's per-feature style map. Points are circle markers
        (give the style a ``radius``).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}"""
        + STYLED_LAYER_JS
        + """
        gridmap.layers[{{ this.registry_key|tojson }}] =
            {{ this.get_name() }}.addData(gridmap.unpack({{ this.data_json }}));
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data_json: str,
        *,
        name: str,
        registry_key: str,
        default_style: Mapping[str, Any],
        style_key: str | None = None,
        styles: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(name=html_text(name), overlay=True)
        self._name = "GeoJson"
        self.data_json = data_json
        self.registry_key = registry_key
        self.default_style = dict(default_style)
        self.style_key = style_key
        self.styles = {k: dict(v) for k, v in (styles or {}).items()}


class SafeGeoJsonPopup(GeoJsonPopup):
    """folium's GeoJsonPopup with values set as text (``gridmap.detail``), not HTML."""

    _template = Template(
        "{% macro script(this, kwargs) %}{{ this._parent.get_name() }}.bindPopup(gridmap.detail("
        "{{ this.fields|tojson }}, {{ this.aliases|tojson }}, {{ this.labels|tojson }}),"
        " {{ this.popup_options|tojavascript }});{% endmacro %}"
    )

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
        render_once(self, **kwargs)  # no per-popup <style>: PAGE_CSS styles .gridmap-detail


class SafeGeoJsonTooltip(GeoJsonTooltip):
    """folium's GeoJsonTooltip with values set as text (``gridmap.detail``), not HTML."""

    _template = Template(
        "{% macro script(this, kwargs) %}{{ this._parent.get_name() }}.bindTooltip(gridmap.detail("
        "{{ this.fields|tojson }}, {{ this.aliases|tojson }}, {{ this.labels|tojson }}),"
        " {{ this.tooltip_options|tojavascript }});{% endmacro %}"
    )

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
        render_once(self, **kwargs)


class Legend(MacroElement):
    """A legend control behind a button named ``title`` (folded at first on a phone, see
    ``gridmap.legend``); ``entries`` are (label, CSS colour, shape: point, line or polygon).

    Colours must already be checked (they go into inline CSS); labels are escaped here.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        gridmap.legend({{ this._parent.get_name() }}, {{ this.html|tojson }}, {{ this.title|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, entries: Sequence[tuple[str, str, str]], title: str = "图例") -> None:
        super().__init__()
        self._name = "Legend"
        self.title = str(title)
        self.html = "<br>".join(
            f'<i class="{html.escape(shape)}" style="background:{html.escape(color)}"></i>{html_text(label)}'
            for label, color, shape in entries
        )

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
        render_once(self, **kwargs)


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres only (folium's ``control_scale`` adds feet and miles too)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
        render_once(self, **kwargs)


class MapReady(MacroElement):
    """The page's last script: publishes the map in the registry and marks it ready."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        gridmap.map = {{ this._parent.get_name() }};
        gridmap.scriptMs = performance.now() - gridmap.t0;
        gridmap.ready = true;
        document.dispatchEvent(new CustomEvent('gridmap:ready'));
        {% endmacro %}
        """
    )

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
        render_once(self, **kwargs)
