"""Map layers drawn from vector tiles (Mapbox Vector Tiles) with the vendored Leaflet.VectorGrid.

A layer too large to embed in a page (a city's buildings, a community's problems) is a
:class:`VectorSource`: a tile URL template of the site (``/tiles/vt/<layer>/{z}/{x}/{y}.pbf``, scoped
to the user there) and how to style, name and describe its features, the same styles as the
embedded layers. Each feature's style is chosen in the page from its tile properties by a
:class:`StyleRule`: one style, a style per value of some properties (``parts``: a property, or its
first n characters, or its truth), or graduated ``breaks`` of a number. Point styles may name a
canvas symbol (``shape``) and a ``ring``, drawn as :mod:`layers.maps.symbols` draws them.

Registry: ``gridmap.layers[key]`` is the VectorGrid layer; ``gridmap.vt[key]`` counts tiles
``requested``, ``loaded`` and ``failed`` (a tile dropped before it came counts in none but the
first) and features ``drawn`` (each time a tile draws one); ``gridmap.vtIdle()`` is true when no
tile of a layer on the map is loading. Popups show the properties as text
(``gridmap.detail``, ``gridmap.popup``), never as HTML. No network beyond the site: the plugin is
vendored (:data:`layers.maps.assets.PLUGINS` ``"vectorgrid"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from folium.template import Template

from layers.maps.elements import OverlayLayer, RawElement, html_text, script_json


@dataclass(frozen=True)
class StyleRule:
    """How a feature picks its style (an index into the source's ``styles``).

    ``parts``: (property, how) pairs; how is ``""`` (the value as text), a number n (its first n
    characters) or ``"bool"`` (``1`` when true, else ``0``); the parts joined by a tab are looked
    up in ``index`` (missing: style 0). ``breaks`` with ``prop``: style 0 for a value ≤ 0, else 1 +
    the first class whose upper bound holds it. Neither: style 0.
    """

    parts: tuple[tuple[str, str | int], ...] = ()
    index: Mapping[str, int] = field(default_factory=dict)
    prop: str | None = None
    breaks: tuple[float, ...] = ()

    def spec(self) -> dict[str, Any]:
        if self.prop is not None:
            return {"prop": self.prop, "breaks": [float(b) for b in self.breaks]}
        if self.parts:
            return {
                "parts": [list(p) for p in self.parts],
                "index": {str(k): int(v) for k, v in self.index.items()},
            }
        return {}


@dataclass(frozen=True)
class VectorSource:
    """One tiled layer: ``url`` has ``{z}/{x}/{y}``; ``layer`` names the MVT layer in the tiles;
    ``fields`` (property -> label) fill the popup, ``derived`` adds properties looked up from
    others (``{"status_name": ("status", {"reported": "已上报"})}``); ``problem``: the popup links to
    the problem page (``MapLinks``); ``min_zoom``: no tile is asked for below it; ``detail_zoom``:
    tiles below it lack the popup's properties, so a click there reads the feature from its tile
    at that zoom (0: every tile has them)."""

    key: str
    name: str
    url: str
    layer: str
    styles: Sequence[Mapping[str, Any]]
    rule: StyleRule = StyleRule()
    fields: Mapping[str, str] = field(default_factory=dict)
    derived: Mapping[str, tuple[str, Mapping[str, str]]] = field(default_factory=dict)
    tooltip: str | None = None
    show: bool = True
    problem: bool = False
    min_zoom: int = 0
    detail_zoom: int = 0

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "name": html_text(self.name),
            "show": bool(self.show),
            "tiles": self.url,
            "layer": self.layer,
            "styles": [dict(s) for s in self.styles],
            "rule": self.rule.spec(),
            "minZoom": int(self.min_zoom),
            "detailZoom": int(self.detail_zoom),
            "derived": {
                k: [src, {str(a): str(b) for a, b in m.items()}] for k, (src, m) in self.derived.items()
            },
        }
        if self.fields:
            out["popup"] = {
                "fields": list(self.fields),
                "aliases": list(self.fields.values()),
                "problem": self.problem,
            }
        if self.tooltip:
            out["tooltip"] = self.tooltip
        return out


# Needs the registry (layers.maps.page.REGISTRY_JS), gridmap.Glyph (layers.maps.symbols) for
# point symbols, gridmap.popup (layers.maps.leader) for problem popups, and Leaflet.VectorGrid.
VECTOR_JS = """
if (L.DomEvent && !L.DomEvent.fakeStop) {  // VectorGrid 1.3 calls it; Leaflet 1.8 dropped it
    L.DomEvent.fakeStop = function (e) { if (e) { e._stopped = true; } };
}
if (L.Canvas.Tile && gridmap.Glyph && !L.Canvas.Tile.prototype._gridmapGlyphs) {
    L.Canvas.Tile.prototype._gridmapGlyphs = true;
    var plainCircle = L.Canvas.Tile.prototype._updateCircle;
    L.Canvas.Tile.prototype._updateCircle = function (layer) {  // point symbols as the inline layers draw them
        if (layer.options.shape || layer.options.ring) { return gridmap.Glyph.prototype._updatePath.call(layer); }
        return plainCircle.call(this, layer);
    };
}
gridmap.vt = gridmap.vt || {};
gridmap.vtIdle = function () {  // no tile of a layer on the map is still loading
    return Object.keys(gridmap.vt).every(function (k) {
        var layer = gridmap.layers[k];
        return !layer || !layer._map || !layer.isLoading();
    });
};
gridmap.vectorStyle = function (s) {
    var rule = s.rule, styles = s.styles, state = gridmap.vt[s.key];
    function pick(p) {
        if (rule.prop) {
            var v = Number(p[rule.prop]) || 0;
            if (v <= 0) { return 0; }
            for (var i = 0; i < rule.breaks.length; i++) { if (v <= rule.breaks[i]) { return i + 1; } }
            return rule.breaks.length;
        }
        if (rule.parts) {
            var key = rule.parts.map(function (part) {
                var v = p[part[0]];
                if (part[1] === 'bool') { return v === true || v === 1 || v === 'true' ? '1' : '0'; }
                v = v === undefined || v === null ? '' : String(v);
                return part[1] ? v.slice(0, part[1]) : v;
            }).join('\\t');
            return rule.index[key] || 0;
        }
        return 0;
    }
    return function (p) {
        state.drawn += 1;
        return styles[pick(p)] || styles[0];
    };
};
gridmap.vtDerive = function (s, p) {
    var derived = s.derived || {}, out = Object.assign({}, p);
    Object.keys(derived).forEach(function (k) { out[k] = derived[k][1][String(p[derived[k][0]])]; });
    return out;
};
gridmap.vectorLayer = function (map, s, links) {
    var state = gridmap.vt[s.key] = {requested: 0, loaded: 0, failed: 0, drawn: 0};
    var styles = {};
    styles[s.layer] = gridmap.vectorStyle(s);
    if (!map.getPane('gridmapVector')) {  // above the background, below the embedded layers
        map.createPane('gridmapVector').style.zIndex = 350;
    }
    var layer = L.vectorGrid.protobuf(s.tiles, {
        rendererFactory: L.canvas.tile, vectorTileLayerStyles: styles, interactive: true, pane: 'gridmapVector',
        getFeatureId: function (f) { return f.properties.id; },  // keeps each tile's features for clicks
        minZoom: s.minZoom || 0, maxNativeZoom: 22, fetchOptions: {credentials: 'same-origin'}
    });
    layer.on('tileloadstart', function () { state.requested += 1; });
    layer.on('tileload', function () { state.loaded += 1; });
    layer.on('tileerror', function () { state.failed += 1; });
    if (s.popup) { gridmap.vtClicks(map).unshift({s: s, layer: layer, links: links}); }
    return layer;
};
gridmap.vtHit = function (map, layer, latlng) {  // the feature drawn at latlng in its loaded tile
    var z = layer._tileZoom, size = layer.getTileSize();
    if (z === undefined) { return null; }
    var pt = map.project(latlng, z), c = pt.unscaleBy(size).floor();
    c.z = z;
    var tile = (layer._vectorTiles || {})[layer._tileCoordsToKey(c)], hit = null;
    if (!tile) { return null; }
    var p = pt.subtract(c.scaleBy(size));
    for (var id in tile._layers) {
        var l = tile._layers[id];
        if (l._containsPoint && (l._pxBounds || l._point) && l._containsPoint(p)) { hit = l; }
    }
    return hit;
};
// One click handler per map. The embedded canvas layers lie above the tiles and take the DOM
// events, and a layer's popup stops the click, so the tiles' features are matched on the map's
// ``preclick``; the popup opens once the click is done: an embedded point or line hit by the same
// click keeps its own popup, an area (a grid boundary) gives way to the tiled feature.
gridmap.vtClicks = function (map) {
    if (map._gridmapVt) { return map._gridmapVt; }
    var list = map._gridmapVt = [], opened = null;
    map.on('popupopen', function (e) { opened = e.popup; });
    map.on('preclick', function (e) {
        opened = null;
        for (var i = 0; i < list.length; i++) {
            var v = list[i];
            if (!map.hasLayer(v.layer)) { continue; }
            var hit = gridmap.vtHit(map, v.layer, e.latlng);
            if (hit) {
                return setTimeout(function () {
                    var src = opened && opened._source;
                    if (src && !(src instanceof L.Polygon) && (src instanceof L.Path || src instanceof L.Marker)) { return; }
                    gridmap.vtPopup(map, v, hit.properties || {}, e.latlng);
                }, 0);
            }
        }
    });
    return list;
};
gridmap.vtPopup = function (map, v, props, latlng) {
    var s = v.s, dz = s.detailZoom;
    var content = s.popup.problem ? gridmap.popup(s.popup, v.links) : gridmap.detail(s.popup.fields, s.popup.aliases, true);
    function show(p) {
        L.popup(gridmap.popupOptions()).setLatLng(latlng)
            .setContent(content({feature: {properties: gridmap.vtDerive(s, p)}})).openOn(map);
    }
    if (!dz || map.getZoom() >= dz || props.id === undefined) { return show(props); }
    // a tile further out carries the styles only: the feature's own tile at dz has the rest
    var t = map.project(latlng, dz).divideBy(256).floor();
    v.layer._getVectorTilePromise({x: t.x, y: t.y, z: dz}).then(function (tile) {
        var found = ((tile.layers[s.layer] || {}).features || []).filter(function (f) {
            return f.properties.id === props.id;
        })[0];
        show(found ? found.properties : props);
    }, function () { show(props); });
};
"""


class VectorGridLayer(OverlayLayer):
    """One :class:`VectorSource` as a folium overlay (in folium's layer control, as the bbox
    layers are); the page's scripts must hold :data:`VECTOR_JS`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = gridmap.vectorLayer({{ this._parent.get_name() }}, {{ this.spec_json }},
                                                        {{ this.links_json }});
        gridmap.layers[{{ this.key|tojson }}] = {{ this.get_name() }};
        {% endmacro %}
        """
    )

    def __init__(self, source: VectorSource, *, links: Mapping[str, Any] | None = None) -> None:
        super().__init__(name=html_text(source.name), overlay=True, show=source.show)
        self._name = "VectorGridLayer"
        self.key = source.key
        self.spec_json = script_json(source.spec())
        self.links_json = script_json(dict(links) if links else None)


def add_vector_layers(m: Any, sources: Sequence[VectorSource]) -> None:
    """Add the script once and one :class:`VectorGridLayer` per source to folium map ``m``."""
    if not sources:
        return
    m.get_root().script.add_child(RawElement(VECTOR_JS), name="gridmap_vector_js")
    for source in sources:
        VectorGridLayer(source).add_to(m)
