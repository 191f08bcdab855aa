"""The leader map's layers, each turned into a spec entry (:mod:`layers.maps.leader`) and legend lines:
here the places (boundary, buildings, facilities, inspection points, the positive list) and what
every layer kind shares; the problem layers in :mod:`layers.maps.leader_problems`, the analysis
layers in :mod:`layers.maps.leader_analysis`.

Each ``*_layers`` function takes a cleaned EPSG:4326 frame and returns the spec entries it makes
and its legend section (a title and ``(swatch SVG, escaped label)`` lines). Colours that reach the
page are checked (:func:`css_color`); labels are escaped. Every text comes from ``labels`` (keys of
:data:`layers.maps.labels.DEFAULT_LABELS`, the Chinese defaults).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.maps.classes import count_breaks
from layers.maps.elements import html_text
from layers.maps.labels import DEFAULT_LABELS, fields, label
from layers.maps.leader import Columns, layer_spec
from layers.maps.symbols import box_swatch, kind_shapes, line_swatch, swatch

FALLBACK_COLOR = "#7f7f7f"
POSITIVE_STYLE: dict[str, Any] = {"radius": 8, "shape": "star", "color": "#ffffff", "weight": 1,
                                  "fillColor": "#2e7d32", "fillOpacity": 0.95}  # fmt: skip
_CSS_COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$")
Section = tuple[str, list[tuple[str, str]]]

BOUNDARY_STYLE: dict[str, Any] = {"color": "#c2185b", "weight": 3, "fill": False, "dashArray": "6 4"}
BUILDING_STYLE: dict[str, Any] = {"color": "#8d8170", "weight": 1, "fillColor": "#d9d0c1", "fillOpacity": 0.6}
SHADES = ["#e8e4dc", "#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]  # none, then 5 classes
LINE_DASHES = {"fire_lane": "8 4"}
Labels = Mapping[str, str]

# popup fields (column -> label) with the default labels; the layers build theirs from ``labels``
BOUNDARY_FIELDS = fields("boundary")
BUILDING_FIELDS = fields("building")
FACILITY_FIELDS = fields("facility")
PROBLEM_FIELDS = fields("problem")
HOTSPOT_FIELDS = fields("hotspot")
GAP_FIELDS = fields("gap")
UNCOVERED_FIELDS = fields("uncovered")
NEGATIVE_FIELDS = fields("negative")


def css_color(value: object) -> str:
    """``value`` if it looks like a hex or named CSS colour, else grey (it lands in inline CSS)."""
    return value if isinstance(value, str) and _CSS_COLOR.match(value) else FALLBACK_COLOR


def styled(columns: Columns, index: np.ndarray, rows: np.ndarray | None = None) -> dict[str, Any]:
    """The packed rows (all, or ``rows``) with each one's style number from ``index``."""
    return columns.packed(rows, _s=index.tolist() if rows is None else index[rows].tolist())


def plain_layer(gdf: gpd.GeoDataFrame, *, key: str, name: str, fields: Mapping[str, str],
                style: Mapping[str, Any], show: bool = True) -> dict[str, Any]:  # fmt: skip
    return layer_spec(Columns(gdf, list(fields)).packed(), key=key, name=name, styles=[style],
                      fields=fields, show=show)  # fmt: skip


def building_layers(
    buildings: gpd.GeoDataFrame, labels: Labels = DEFAULT_LABELS
) -> tuple[list[dict[str, Any]], Section]:
    """Buildings shaded by households (else population) in up to five graduated classes."""
    field_labels, name = fields("building", labels), labels["buildings"]
    columns = Columns(buildings, list(field_labels))
    by = next(
        (c for c in ("households", "population") if c in buildings and buildings[c].fillna(0).sum() > 0), None
    )
    if by is None:
        spec = layer_spec(columns.packed(), key="buildings", name=name, styles=[BUILDING_STYLE],
                          fields=field_labels)  # fmt: skip
        return [spec], (name, [(box_swatch(BUILDING_STYLE["fillColor"]), html_text(name))])
    values = pd.to_numeric(buildings[by], errors="coerce").fillna(0).to_numpy(dtype=float)
    breaks = graduated_breaks(values)
    index = np.where(values > 0, np.searchsorted(breaks, values, side="left") + 1, 0)
    styles = [BUILDING_STYLE | {"fillColor": c, "fillOpacity": 0.75} for c in SHADES[: len(breaks) + 1]]
    spec = layer_spec(styled(columns, index), key="buildings", name=name, styles=styles,
                      fields=field_labels)  # fmt: skip
    counts, low = ["0"], 1
    for b in breaks:
        counts.append(f"{low:g}–{b:g}" if low < b else f"{b:g}")
        low = b + 1
    value = "households_value" if by == "households" else "population_value"
    texts = [label(labels, value, count=c) for c in counts]
    title = labels["buildings_by_households" if by == "households" else "buildings_by_population"]
    return [spec], (
        title,
        [(box_swatch(s["fillColor"]), html_text(t)) for s, t in zip(styles, texts, strict=True)],
    )


def graduated_breaks(values: np.ndarray, classes: int = 5) -> list[float]:
    """Upper bounds of up to ``classes`` classes of the positive values: natural breaks in whole
    numbers (:func:`layers.maps.classes.count_breaks`)."""
    return count_breaks(values, classes)


def facility_layers(
    facilities: gpd.GeoDataFrame, kinds: Mapping[str, Mapping[str, str]], labels: Labels = DEFAULT_LABELS
) -> tuple[list, Section]:
    """One layer per kind present, in the order of ``kinds``; a distinct symbol per point kind."""
    if facilities.empty or "kind" not in facilities:
        return [], (labels["facilities"], [])
    codes = facilities["kind"].astype(str).to_numpy()
    present = set(codes)
    order = [c for c in kinds if c in present] + sorted(present - set(kinds))
    shapes = kind_shapes(order)
    field_labels = fields("facility", labels)
    columns = Columns(facilities, list(field_labels))
    specs, lines = [], []
    for code in order:
        kind = kinds.get(code, {"name": code, "color": FALLBACK_COLOR, "geom": "point"})
        color, geom = css_color(kind.get("color")), kind.get("geom", "point")
        if geom == "line":
            style: dict[str, Any] = {"color": color, "weight": 4, "opacity": 0.9}
            if code in LINE_DASHES:
                style["dashArray"] = LINE_DASHES[code]
            mark = line_swatch(color, dash=LINE_DASHES.get(code))
        elif geom == "polygon":
            style = {"color": color, "weight": 2, "fillColor": color, "fillOpacity": 0.35}
            mark = box_swatch(color, opacity=0.35)
        else:
            style = {"radius": 6, "shape": shapes[code], "color": "#333333", "weight": 1,
                     "fillColor": color, "fillOpacity": 0.95}  # fmt: skip
            mark = swatch(shapes[code], color, stroke="#333333")
        rows = np.flatnonzero(codes == code)
        specs.append(layer_spec(columns.packed(rows), key=f"facility:{code}", name=str(kind["name"]),
                                styles=[style], fields=field_labels, tooltip="name"))  # fmt: skip
        lines.append((mark, html_text(kind["name"])))
    return specs, (labels["facilities"], lines)


def inspection_point_layers(
    points: gpd.GeoDataFrame | None,
    types: Mapping[str, Mapping[str, str]],
    labels: Labels = DEFAULT_LABELS,
    clean: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame] = lambda g: g,
) -> tuple[list, Section]:
    """The campaign's inspection points (points or areas), one layer, coloured by ``type``
    (code -> ``{"name", "color"}``); on at first on a wide screen, off on a phone (``phoneOff``).
    None or no rows: no layer."""
    if points is None or points.empty or "type" not in points:
        return [], (labels["inspection_points"], [])
    points = clean(points)
    codes = points["type"].astype(str).to_numpy()
    order = [c for c in types if c in set(codes)] + sorted(set(codes) - set(types))
    index = np.array([order.index(c) for c in codes])
    styles, lines = [], []
    for code in order:
        color = css_color(types.get(code, {}).get("color"))
        styles.append({"radius": 7, "shape": "square", "color": "#222222", "weight": 2, "fillColor": color,
                       "fillOpacity": 0.5})  # fmt: skip
        lines.append(
            (swatch("square", color, stroke="#222222"), html_text(types.get(code, {}).get("name", code)))
        )
    field_labels = fields("inspection_point", labels)
    spec = layer_spec(styled(Columns(points, list(field_labels)), index), key="inspection_points",
                      name=labels["inspection_points"], styles=styles, fields=field_labels, tooltip="name")  # fmt: skip
    spec["phoneOff"] = True
    return [spec], (labels["inspection_points"], lines)


def positive_layers(sites: gpd.GeoDataFrame | None, labels: Labels = DEFAULT_LABELS) -> tuple[list, Section]:
    """The positive list (正面清单): exemplary sites as green stars, off at first (none: no layer)."""
    name = labels["positive_sites"]
    if sites is None or sites.empty:
        return [], (name, [])
    field_labels = fields("positive", labels)
    spec = layer_spec(Columns(sites, list(field_labels)).packed(), key="positive_sites", name=name,
                      styles=[POSITIVE_STYLE], fields=field_labels, show=False)  # fmt: skip
    mark = swatch(POSITIVE_STYLE["shape"], POSITIVE_STYLE["fillColor"], stroke=POSITIVE_STYLE["color"])
    return [spec], (name, [(mark, html_text(name))])


def legend_html(sections: Sequence[Section]) -> str:
    """Sections of ``(swatch, escaped label)`` lines; titles are escaped here."""
    parts = []
    for title, lines in sections:
        if lines:
            parts.append(
                f"<h4>{html_text(title)}</h4>" + "<br>".join(f"{mark}{label}" for mark, label in lines)
            )
    return "".join(parts)
