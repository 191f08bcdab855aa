"""The folium elements the map pages (:mod:`layers.maps.grid`, planner, route) are built from.

Two folium behaviours make plain folium unsafe for text typed by users, so every element here
avoids them:

- folium's ``MacroElement.render`` wraps each rendered script in ``Element(text)``, which compiles
  the text as a Jinja template a second time: a problem description holding ``{{ 7*7 }}`` prints
  ``49`` (server-side template injection) and ``{% x`` makes the whole map fail to render. Our
  elements render once, through :func:`render_once`.
- ``GeoJsonPopup``/``GeoJsonTooltip`` put property values into ``innerHTML``; ours set them with
  ``textContent`` (``gridmap.detail`` in :data:`layers.maps.page.REGISTRY_JS`). Names that
  Leaflet's layer control shows with ``innerHTML`` are escaped by :func:`html_text`.

Layer data is embedded packed (:mod:`layers.maps.packing`) as JSON safe inside a script
(:func:`script_json`); every layer registers itself in ``window.gridmap`` (the registry of
:mod:`layers.maps.page`), so scripts and browser tests can ask Leaflet what each layer holds.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from branca.element import Element, Figure, MacroElement
from folium.elements import ElementAddToElement
from folium.features import GeoJsonPopup, GeoJsonTooltip
from folium.map import Layer
from folium.template import Template


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
