"""The folium elements of the planner's map (:mod:`layers.maps.planner`).

Every element renders once (:func:`layers.maps.elements.render_once`, never a second Jinja pass
over user text); texts reach the page as JSON data and are shown with ``textContent``, or escaped
with :func:`layers.maps.elements.html_text` where Leaflet uses ``innerHTML`` (layer names, legend).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from branca.element import MacroElement
from folium.template import Template

from layers.maps.elements import OverlayLayer, html_text, render_once


class DerivedGeoJson(OverlayLayer):
    """A second GeoJSON layer of the features of registered layer ``source`` (no data embedded
    twice), styled by its own lookup table."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson({type: 'FeatureCollection', features:
            gridmap.layers[{{ this.source|tojson }}].getLayers().map(function (l) { return l.feature; })}, {
            style: (function (styles, fallback, key) {
                return function (feature) { return (key && styles[feature.properties[key]]) || fallback; };
            })({{ this.styles|tojson }}, {{ this.default_style|tojson }}, {{ this.style_key|tojson }})
        });
        gridmap.layers[{{ this.key|tojson }}] = {{ this.get_name() }};
        {% endmacro %}
        """
    )

    def __init__(
        self,
        source: str,
        *,
        key: str,
        name: str,
        default_style: Mapping[str, Any],
        style_key: str,
        styles: Mapping[str, Mapping[str, Any]],
    ) -> None:
        super().__init__(name=html_text(name), overlay=True)
        self._name = "DerivedGeoJson"
        self.source, self.key, self.style_key = source, key, style_key
        self.default_style = dict(default_style)
        self.styles = {k: dict(v) for k, v in styles.items()}


class _Script(MacroElement):
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
        render_once(self, **kwargs)


class GridPopup(_Script):
    """Popups of the grid layers: the fields as text and a link to the grid's page."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (fields, aliases, url, linkText) {
            var body = gridmap.detail(fields, aliases, true);
            function popup(layer) {
                var div = body(layer);
                var a = L.DomUtil.create('a', 'gridmap-grid-link', L.DomUtil.create('p', '', div));
                a.href = url.replace('{code}', encodeURIComponent(layer.feature.properties.code));
                a.target = '_top';
                a.textContent = linkText;
                return div;
            }
            {{ this.keys|tojson }}.forEach(function (key) {
                gridmap.layers[key].bindPopup(popup, gridmap.popupOptions({minWidth: Math.min(280, (window.innerWidth || 320) - 40)}));
            });
        })({{ this.fields|tojson }}, {{ this.aliases|tojson }}, {{ this.url|tojson }}, {{ this.link|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, keys: Sequence[str], fields: Mapping[str, str], url: str, link: str) -> None:
        super().__init__()
        self._name = "GridPopup"
        self.keys, self.fields, self.aliases = list(keys), list(fields), list(fields.values())
        self.url, self.link = url, link


class ChoroplethLegend(_Script):
    """One legend for the choropleth layers, showing the section of the one on the map; switching
    one on switches the others off (they share the grids)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, sections, title) {
            var control = gridmap.legend(map, '', title, 'bottomright'), div = control.body;
            function layer(s) { return gridmap.layers[s.key]; }
            function draw() {
                div.innerHTML = sections.filter(function (s) { return map.hasLayer(layer(s)); })
                    .map(function (s) { return s.html; }).join('<hr>');
                control.getContainer().style.display = div.innerHTML ? '' : 'none';
            }
            map.on('overlayadd', function (e) {
                var hit = sections.some(function (s) { return layer(s) === e.layer; });
                // after the layer control has handled its click (it re-adds what is still ticked)
                setTimeout(function () {
                    sections.forEach(function (s) {
                        if (hit && layer(s) !== e.layer && map.hasLayer(layer(s))) { map.removeLayer(layer(s)); }
                    });
                    draw();
                }, 0);
            });
            map.on('overlayremove', draw);
            sections.slice(1).forEach(function (s) { map.removeLayer(layer(s)); });
            draw();
        })({{ this._parent.get_name() }}, {{ this.sections|tojson }}, {{ this.title|tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self, sections: Sequence[tuple[str, str, Sequence[tuple[str, str]]]], title: str = "图例"
    ) -> None:
        super().__init__()
        self._name = "ChoroplethLegend"
        self.title = str(title)
        self.sections = [
            {
                "key": key,
                "html": f"<b>{html_text(title)}</b><br>"
                + "<br>".join(
                    f'<i class="polygon" style="background:{html.escape(color)}"></i>{html_text(label)}'
                    for label, color in entries
                ),
            }
            for key, title, entries in sections
        ]


class SitesControl(_Script):
    """A control to ask for siting suggestions in one community; they fill layer ``"sites"``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, url, communities, text) {
            var control = L.control({position: 'topleft'}), state = gridmap.sites = {loading: false};
            control.onAdd = function () {
                var div = L.DomUtil.create('div', 'gridmap-legend gridmap-sites');
                var select = L.DomUtil.create('select', '', div), button = L.DomUtil.create('button', '', div);
                var out = L.DomUtil.create('div', '', div);
                select.name = 'community';
                communities.forEach(function (c) {
                    var o = L.DomUtil.create('option', '', select); o.value = c[0]; o.textContent = c[1];
                });
                button.type = 'button'; button.textContent = text.suggest;
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.on(button, 'click', function () {
                    var layer = gridmap.layers.sites, t0 = performance.now();
                    Object.assign(state, {loading: true, community: select.value, count: null, error: null});
                    button.disabled = true; out.textContent = '…';
                    fetch(url + (url.indexOf('?') < 0 ? '?' : '&') + 'community=' + encodeURIComponent(select.value),
                          {credentials: 'same-origin', headers: {'Accept': 'application/geo+json, application/json'}})
                        .then(function (r) {
                            return r.json().then(function (body) {
                                if (!r.ok) { throw new Error(body.detail || body.error || ('HTTP ' + r.status)); }
                                return body;
                            });
                        })
                        .then(function (fc) {
                            layer.clearLayers(); layer.addData(gridmap.gcj02 ? gridmap.gcj02.features(fc) : fc);
                            var s = fc.summary || {};
                            state.count = fc.features.length; state.ms = performance.now() - t0;
                            out.textContent = text.sites_done.replace('{sites}', fc.features.length)
                                .replace('{buildings}', s.covered_buildings == null ? '?' : s.covered_buildings);
                        })
                        .catch(function (e) { state.error = String(e.message || e); out.textContent = state.error; })
                        .then(function () {
                            state.loading = false; button.disabled = false;
                            document.dispatchEvent(new CustomEvent('gridmap:sites'));
                        });
                });
                return div;
            };
            control.addTo(map);
        })({{ this._parent.get_name() }}, {{ this.url|tojson }}, {{ this.communities|tojson }},
           {{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, url: str, communities: Sequence[tuple[str, str]], text: Mapping[str, str]) -> None:
        super().__init__()
        self._name = "SitesControl"
        self.url = url
        self.communities = [[str(c), str(n)] for c, n in communities]
        self.text = {"suggest": text["suggest"], "sites_done": text["sites_done"]}
