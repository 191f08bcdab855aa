"""The leader map's layers as one data spec, built in the page by one script (``gridmap.build``).

folium adds one element, one Jinja template and one script block per layer and per popup; for a
map of 20-odd layers that fixed cost outweighs the data. Here every layer is one entry of a JSON
spec: its packed features (:func:`layers.maps.packing.pack_features`), a short list of styles
and, per feature, the index of its style (property ``_s``), its popup fields; ``gridmap.build``
(:data:`BUILD_JS`) makes the Leaflet layers, the layer control, the legend and the negative-list
panel from it. Point features are canvas symbols (:mod:`layers.maps.symbols`).

User text never becomes markup: popups, tooltips and the negative list set it with
``textContent``; layer names (which Leaflet's layer control shows with ``innerHTML``) are escaped
with :func:`~layers.maps.elements.html_text`; the spec is JSON made safe for ``<script>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.template import Template

from layers.maps.elements import html_text, render_once, script_json
from layers.maps.packing import pack_features


@dataclass(frozen=True)
class MapLinks:
    """Where a problem popup links to: URL templates with ``{id}`` (problem) and ``{photo}``.

    ``problem`` e.g. ``"/problems/{id}/"``; ``photo`` e.g. ``"/problems/{id}/photos/{photo}/"``
    (thumbnails of the ids in the problem's ``photos`` column). None leaves them out (an offline
    file has no server to ask). ``label`` is the link's text; None: the map's ``problem_link`` label
    (:data:`layers.maps.labels.DEFAULT_LABELS`).
    """

    problem: str | None = None
    photo: str | None = None
    label: str | None = None


class Columns:
    """A frame's geometries and display values as arrays, so subsets cost no pandas work."""

    def __init__(self, gdf: Any, columns: Sequence[str], computed: Mapping[str, Any] | None = None) -> None:
        """``columns`` of ``gdf`` (those it has) plus ``computed`` columns (one value per row)."""
        self.geoms = np.asarray(gdf.geometry.values, dtype=object)
        computed = dict(computed or {})
        self.values = {
            c: _object_array(computed[c], len(self.geoms)) if c in computed else display_values(gdf[c])
            for c in dict.fromkeys([*columns, *computed])
            if c in computed or c in gdf.columns
        }

    def __len__(self) -> int:
        return len(self.geoms)

    def packed(self, rows: np.ndarray | None = None, **extra: Sequence[Any]) -> dict[str, Any]:
        """:func:`pack_features` of ``rows`` (all by default) with ``extra`` columns (per row given)."""
        if rows is None:
            props = {c: v.tolist() for c, v in self.values.items()}
            geoms = self.geoms
        else:
            props = {c: v[rows].tolist() for c, v in self.values.items()}
            geoms = self.geoms[rows]
        props |= {c: list(v) for c, v in extra.items()}
        return pack_features(geoms, props)


def _object_array(values: Any, n: int) -> np.ndarray:
    if np.isscalar(values) or values is None:
        return np.full(n, values, dtype=object)
    return np.array(list(values), dtype=object)


def display_values(values: pd.Series) -> np.ndarray:
    """A column as JSON-ready objects: times as ``YYYY-MM-DD HH:MM``, whole floats as ints, gaps None."""
    if pd.api.types.is_datetime64_any_dtype(values):
        values = values.dt.strftime("%Y-%m-%d %H:%M")
    elif pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")
    elif pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=object)
    out = np.array(values.to_numpy(dtype=object), dtype=object)  # a copy: pandas may share a read-only view
    out[pd.isna(values).to_numpy()] = None
    if out.dtype == object and len(out) and isinstance(out[0], np.generic):
        out = np.array([v.item() if isinstance(v, np.generic) else v for v in out], dtype=object)
    return out


def layer_spec(
    packed: Mapping[str, Any],
    *,
    key: str,
    name: str,
    styles: Sequence[Mapping[str, Any]],
    fields: Mapping[str, str] | None = None,
    show: bool = True,
    tooltip: str | None = None,
    problem: bool = False,
) -> dict[str, Any]:
    """One GeoJSON layer of the spec; ``packed`` carries ``_s`` (a style index) when styles > 1."""
    spec: dict[str, Any] = {
        "key": key,
        "name": html_text(name),
        "show": bool(show),
        "data": packed,
        "styles": [dict(s) for s in styles],
    }
    present = packed.get("props", {})
    if fields:
        shown = {c: label for c, label in fields.items() if c in present}
        if shown:
            spec["popup"] = {"fields": list(shown), "aliases": list(shown.values()), "problem": problem}
    if tooltip and tooltip in present:
        spec["tooltip"] = tooltip
    return spec


def heat_spec(latlngs: np.ndarray, *, key: str, name: str, show: bool, options: Mapping[str, Any]) -> dict:
    """A leaflet.heat layer of ``latlngs`` ([[lat, lon], ...] in degrees)."""
    points = np.round(np.asarray(latlngs, dtype=float).reshape(-1, 2), 6).tolist()
    return {"key": key, "name": html_text(name), "show": bool(show), "heat": points, "options": dict(options)}


class LeaderLayers(MacroElement):
    """Builds every layer of the spec on its parent map (``gridmap.build``)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "gridmap.build({{ this._parent.get_name() }}, {{ this.spec_json }});"
        "{% endmacro %}"
    )

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__()
        self._name = "LeaderLayers"
        self.spec_json = script_json(spec)

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
        render_once(self, **kwargs)


LEADER_CSS = """<style>
.gridmap-detail .gridmap-photos img { max-width: 96px; max-height: 72px; margin: 4px 4px 0 0;
    border-radius: 3px; }
.gridmap-detail a.gridmap-link { display: inline-block; margin-top: 4px; }
.gridmap-legend { max-height: 40vh; }  /* leaves the top left to the negative list */
@media (max-width: 600px) { .gridmap-legend { max-height: 28vh; } }
.gridmap-legend h4 { margin: 4px 0 2px; font-size: 12px; }
.gridmap-legend svg { vertical-align: -3px; margin-right: 6px; }
.gridmap-negative { background: rgba(255,255,255,.95); padding: 6px 8px; border-radius: 4px;
    box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12px; max-height: 34vh; max-width: 260px;
    overflow-y: auto; }
.gridmap-negative ol { margin: 4px 0 0; padding-left: 20px; }
.gridmap-negative li { cursor: pointer; margin: 2px 0; }
.gridmap-negative li.overdue { color: #b2182b; font-weight: bold; }
</style>"""

# Needs the registry (layers.maps.page.REGISTRY_JS), gridmap.Glyph (layers.maps.symbols) and,
# for a heat layer, leaflet.heat.
BUILD_JS = """
gridmap.popup = function (p, links) {
    var base = gridmap.detail(p.fields, p.aliases, true);
    return function (layer) {
        var div = base(layer), props = layer.feature.properties, id = Number(props.id);
        if (!p.problem || !links || !(id > 0)) { return div; }
        if (links.photo && props.photos) {
            var box = L.DomUtil.create('div', 'gridmap-photos', div);
            String(props.photos).split(',').forEach(function (ph) {
                var n = Number(ph);
                if (!(n > 0)) { return; }
                var a = L.DomUtil.create('a', '', box), img = L.DomUtil.create('img', '', a);
                a.href = links.photo.replace('{id}', id).replace('{photo}', n);
                a.target = '_blank';
                img.loading = 'lazy'; img.alt = ''; img.src = a.href;
            });
        }
        if (links.problem) {
            var link = L.DomUtil.create('a', 'gridmap-link', div);
            link.href = links.problem.replace('{id}', id);
            link.target = '_top';
            link.textContent = links.label;
        }
        return div;
    };
};
gridmap.build = function (map, spec) {
    var control = L.control.layers(null, null, {collapsed: !!spec.collapsed || gridmap.small()});
    spec.layers.forEach(function (s) {
        var layer;
        if (s.labels) {  // layers.maps.place_labels
            layer = gridmap.labelLayer(map, s.labels);
        } else if (s.heat) {
            layer = L.heatLayer(s.heat, s.options);
        } else if (s.tiles) {  // layers.maps.vector_tiles
            layer = gridmap.vectorLayer(map, s, spec.links);
        } else {
            var styles = s.styles;
            layer = L.geoJson(gridmap.unpack(s.data), {
                pointToLayer: function (feature, latlng) { return new gridmap.Glyph(latlng); },
                style: function (feature) { return styles[feature.properties._s || 0]; }
            });
            if (s.popup) {
                layer.bindPopup(gridmap.popup(s.popup, spec.links), gridmap.popupOptions());
            }
            if (s.tooltip) { layer.bindTooltip(gridmap.detail([s.tooltip], [''], false), {sticky: false}); }
        }
        gridmap.layers[s.key] = layer;
        control.addOverlay(layer, s.name);
        if (s.show && !(s.phoneOff && gridmap.small())) { layer.addTo(map); }  // phoneOff: on wide screens only
    });
    control.addTo(map);
    gridmap.control = control;
    if (spec.legend) {  // built and escaped by legend_html
        gridmap.legend(map, spec.legend, spec.legend_title || '');
    }
    if (spec.negative && gridmap.layers[spec.negative.key]) { gridmap.negativePanel(map, spec.negative); }
};
gridmap.negativePanel = function (map, n) {
    var items = gridmap.layers[n.key], panel = L.control({position: 'topleft'});
    panel.onAdd = function () {
        var div = L.DomUtil.create('div', 'gridmap-negative');
        L.DomUtil.create('strong', '', div).textContent = n.title + ' (' + items.getLayers().length + ')';
        if (n.more) {  // the oldest part of a longer list: say so and link the whole list
            var more = L.DomUtil.create('a', 'gridmap-link', L.DomUtil.create('div', '', div));
            more.href = n.more.url;
            more.textContent = n.more.text;
        }
        var list = L.DomUtil.create('ol', '', div);
        items.eachLayer(function (l) {
            var p = l.feature.properties;
            var li = L.DomUtil.create('li', p.overdue ? 'overdue' : '', list);
            li.textContent = n.fields.map(function (f) { return p[f]; })
                .filter(function (v) { return v !== null && v !== undefined && v !== ''; }).join(' · ');
            L.DomEvent.on(li, 'click', function () {
                map.setView(l.getLatLng(), Math.max(map.getZoom(), 18));
                l.fire('click', {latlng: l.getLatLng()}, true);  // the group's popup, for this item
            });
        });
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
    };
    map.on('overlayadd', function (e) { if (e.layer === items) { panel.addTo(map); } });
    map.on('overlayremove', function (e) { if (e.layer === items) { panel.remove(); } });
    if (map.hasLayer(items)) { panel.addTo(map); }
};
"""
