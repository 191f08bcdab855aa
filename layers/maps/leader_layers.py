"""The leader map's layers, each turned into a spec entry (:mod:`layers.maps.leader`) and legend lines.

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
from layers.maps.labels import DEFAULT_LABELS, HOTSPOT_KEYS, class_name, fields, label
from layers.maps.leader import Columns, display_values, heat_spec, layer_spec
from layers.maps.symbols import box_swatch, class_shape, kind_shapes, line_swatch, swatch

FALLBACK_COLOR = "#7f7f7f"
RING_COLOR = "#111111"
NEGATIVE_COLOR = "#6a3d9a"
POSITIVE_STYLE: dict[str, Any] = {"radius": 8, "shape": "star", "color": "#ffffff", "weight": 1,
                                  "fillColor": "#2e7d32", "fillOpacity": 0.95}  # fmt: skip
_CSS_COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$")
Section = tuple[str, list[tuple[str, str]]]

BOUNDARY_STYLE: dict[str, Any] = {"color": "#c2185b", "weight": 3, "fill": False, "dashArray": "6 4"}
BUILDING_STYLE: dict[str, Any] = {"color": "#8d8170", "weight": 1, "fillColor": "#d9d0c1", "fillOpacity": 0.6}
SHADES = ["#e8e4dc", "#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]  # none, then 5 classes
HOTSPOT_COLORS: dict[str, str] = {  # Gi* class -> colour (names: layers.maps.labels.HOTSPOT_KEYS)
    "hot_99": "#b2182b",
    "hot_95": "#ef8a62",
    "hot_90": "#fddbc7",
    "none": "#ffffff",
    "cold_90": "#d1e5f0",
    "cold_95": "#67a9cf",
    "cold_99": "#2166ac",
}
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


def _styled(columns: Columns, index: np.ndarray, rows: np.ndarray | None = None) -> dict[str, Any]:
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
    spec = layer_spec(_styled(columns, index), key="buildings", name=name, styles=styles,
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
    spec = layer_spec(_styled(Columns(points, list(field_labels)), index), key="inspection_points",
                      name=labels["inspection_points"], styles=styles, fields=field_labels, tooltip="name")  # fmt: skip
    spec["phoneOff"] = True
    return [spec], (labels["inspection_points"], lines)


def problem_layers(
    problems: gpd.GeoDataFrame,
    statuses: Mapping[str, Mapping[str, Any]],
    labels: Labels = DEFAULT_LABELS,
    *,
    split: bool = True,
) -> tuple[list, list[Section]]:
    """Problems coloured by status, shaped by category class, ringed when overdue. With ``split``
    and statuses marked ``"open": False``, problems of those statuses go in a second layer,
    ``problems_closed`` (off at first), so a map opens on the open work."""
    status = (
        problems["status"].astype(str).to_numpy()
        if len(problems) and "status" in problems
        else np.array([], dtype=object)
    )
    classes = (
        problems["category"].astype(str).str[:2].to_numpy()
        if "category" in problems
        else np.full(len(problems), "")
    )
    overdue = (
        problems["overdue"].fillna(False).astype(bool).to_numpy()
        if "overdue" in problems
        else np.zeros(len(problems), bool)
    )
    combos = pd.Series(
        [f"{s}\t{c}\t{int(o)}" for s, c, o in zip(status, classes, overdue, strict=True)], dtype=object
    )
    index, uniques = pd.factorize(combos)
    styles = []
    for combo in uniques:
        s, c, o = combo.split("\t")
        styles.append({"radius": 6, "shape": class_shape(c), "color": "#ffffff", "weight": 1,
                       "fillColor": css_color(statuses.get(s, {}).get("color", FALLBACK_COLOR)),
                       "fillOpacity": 0.95, "ring": RING_COLOR if o == "1" else None})  # fmt: skip
    field_labels = fields("problem", labels)
    columns = Columns(
        problems,
        [*field_labels, "category", "status", "photos", "overdue"],
        problem_labels(problems, statuses, labels),
    )
    index = np.asarray(index)
    kept = {s for s, v in statuses.items() if v.get("open") is False}  # closed, rejected, duplicate
    done = np.isin(status, list(kept)) if kept and split else np.zeros(len(status), bool)
    common = {"styles": styles or [{"radius": 6}], "fields": field_labels, "tooltip": "category_name",
              "problem": True}  # fmt: skip
    if not done.any():
        specs = [layer_spec(_styled(columns, index), key="problems", name=labels["problems"], **common)]
    else:  # open problems on, the finished ones in a layer of their own (off at first)
        specs = [
            layer_spec(_styled(columns, index, np.flatnonzero(~done)), key="problems", name=labels["problems"],
                       **common),
            layer_spec(_styled(columns, index, np.flatnonzero(done)), key="problems_closed",
                       name=labels["problems_closed"], show=False, **common),
        ]  # fmt: skip
    present = list(dict.fromkeys(status.tolist()))
    ordered = [s for s in statuses if s in present] + [s for s in present if s not in statuses]
    by_status = [(swatch("circle", css_color(statuses.get(s, {}).get("color", FALLBACK_COLOR))),
                  html_text(statuses.get(s, {}).get("name", s))) for s in ordered]  # fmt: skip
    by_class = [(swatch(class_shape(c), "#9e9e9e"), html_text(class_name(c, labels)))
                for c in sorted(set(classes.tolist()))]  # fmt: skip
    if overdue.any():
        by_class.append((swatch("circle", "#9e9e9e", ring=RING_COLOR), html_text(labels["overdue"])))
    return specs, [(labels["problem_status"], by_status), (labels["problem_class"], by_class)]


def problem_labels(
    problems: gpd.GeoDataFrame, statuses: Mapping[str, Mapping[str, str]], labels: Labels = DEFAULT_LABELS
) -> dict[str, list]:
    """``status_name`` (and ``overdue_label`` when there is an ``overdue`` column) per row, for popups."""
    names = {s: v.get("name", s) for s, v in statuses.items()}
    status = problems["status"].tolist() if "status" in problems else [None] * len(problems)
    out = {"status_name": [names.get(v, None if v is None else str(v)) for v in status]}
    if "overdue" in problems:
        out["overdue_label"] = [
            labels["overdue"] if v is True or v == 1 else None for v in problems["overdue"].tolist()
        ]
    return out


def heat_layers(heat: gpd.GeoDataFrame, labels: Labels = DEFAULT_LABELS) -> list[dict[str, Any]]:
    points = (
        np.column_stack([heat.geometry.y.to_numpy(), heat.geometry.x.to_numpy()])
        if len(heat)
        else np.empty((0, 2))
    )
    return [heat_spec(points, key="heat", name=labels["heat"], show=False,
                      options={"radius": 22, "blur": 18, "minOpacity": 0.3})]  # fmt: skip


def hotspot_layers(hotspots: gpd.GeoDataFrame, labels: Labels = DEFAULT_LABELS) -> tuple[list, Section]:
    classes = (
        hotspots["hotspot"].astype(str).to_numpy()
        if "hotspot" in hotspots
        else np.full(len(hotspots), "none")
    )
    order = [h for h in HOTSPOT_COLORS if h in set(classes)] + sorted(set(classes) - set(HOTSPOT_COLORS))
    index = np.array([order.index(h) for h in classes], dtype=np.int64)
    names = {h: labels[k] for h, k in HOTSPOT_KEYS.items()}
    styles = []
    for h in order:
        color = HOTSPOT_COLORS.get(h, FALLBACK_COLOR)
        styles.append({"color": "#666666", "weight": 0.5, "fillColor": color,
                       "fillOpacity": 0.0 if h == "none" else 0.55})  # fmt: skip
    computed: dict[str, Any] = {"hotspot_name": [names.get(h, h) for h in classes]}
    for c in ("z", "p_value"):
        if c in hotspots:
            computed[c] = display_values(hotspots[c].astype(float).round(3))
    field_labels = fields("hotspot", labels)
    columns = Columns(hotspots, list(field_labels), computed)
    spec = layer_spec(_styled(columns, index), key="hotspots", name=labels["hotspots"], styles=styles or [{}],
                      fields=field_labels, show=False)  # fmt: skip
    lines = [(box_swatch(HOTSPOT_COLORS[h], stroke="#666666"), html_text(names[h]))
             for h in HOTSPOT_COLORS if h in order]  # fmt: skip
    return [spec], (labels["hotspots_legend"], lines)


def coverage_layers(
    gaps: gpd.GeoDataFrame | None,
    uncovered: gpd.GeoDataFrame | None,
    kinds: Mapping[str, Mapping[str, str]],
    labels: Labels = DEFAULT_LABELS,
) -> tuple[list, Section]:
    """Per kind: the uncovered area (``gaps:<kind>``) and the uncovered buildings (``uncovered:<kind>``)."""
    specs: list[dict[str, Any]] = []
    lines: list[tuple[str, str]] = []
    codes: list[str] = []
    for frame in (gaps, uncovered):
        if frame is not None and "kind" in frame:
            codes += [c for c in dict.fromkeys(frame["kind"].astype(str)) if c not in codes]
    gap_cols = unc_cols = None
    gap_fields, unc_fields = fields("gap", labels), fields("uncovered", labels)
    if gaps is not None and "kind" in gaps:
        pct = (gaps["uncovered_share"] * 100).round(1).tolist() if "uncovered_share" in gaps else None
        gap_cols = (
            gaps["kind"].astype(str).to_numpy(),
            Columns(gaps, list(gap_fields), {"uncovered_pct": pct} if pct else None),
        )
    if uncovered is not None and "kind" in uncovered:
        dist = uncovered["distance_m"].replace(np.inf, np.nan).round(0) if "distance_m" in uncovered else None
        unc_cols = (
            uncovered["kind"].astype(str).to_numpy(),
            Columns(
                uncovered,
                list(unc_fields),
                {"distance_m": display_values(dist)} if dist is not None else None,
            ),
        )
    for code in [c for c in kinds if c in codes] + [c for c in codes if c not in kinds]:
        kind = kinds.get(code, {"name": code, "color": FALLBACK_COLOR})
        color, name = css_color(kind.get("color")), str(kind["name"])
        gap_name, unc_name = (label(labels, k, kind=name) for k in ("coverage_gaps", "uncovered_buildings"))
        if gap_cols is not None:
            rows = np.flatnonzero(gap_cols[0] == code)
            style = {
                "color": color,
                "weight": 1.5,
                "dashArray": "4 3",
                "fillColor": color,
                "fillOpacity": 0.25,
            }
            specs.append(layer_spec(gap_cols[1].packed(rows, kind_name=[name] * len(rows)), key=f"gaps:{code}",
                                    name=gap_name, styles=[style], fields=gap_fields, show=False))  # fmt: skip
            lines.append((box_swatch(color, opacity=0.25), html_text(gap_name)))
        if unc_cols is not None:
            rows = np.flatnonzero(unc_cols[0] == code)
            style = {"color": "#b2182b", "weight": 2, "fillColor": color, "fillOpacity": 0.7}
            specs.append(layer_spec(unc_cols[1].packed(rows, kind_name=[name] * len(rows)), key=f"uncovered:{code}",
                                    name=unc_name, styles=[style], fields=unc_fields, show=False))  # fmt: skip
            lines.append((box_swatch(color, stroke="#b2182b", opacity=0.7), html_text(unc_name)))
    return specs, (labels["coverage_legend"], lines)


def negative_layers(
    negative: gpd.GeoDataFrame,
    statuses: Mapping[str, Mapping[str, str]],
    labels: Labels = DEFAULT_LABELS,
    more: tuple[int, str] | None = None,
) -> tuple[list, dict]:
    """The negative list: open items ringed on the map and listed in a panel (oldest first).
    ``more``: ``negative`` is the oldest part of a longer list, (its whole length, the URL of
    the whole list), said and linked under the panel's title."""
    computed: dict[str, Any] = problem_labels(negative, statuses, labels)
    if "id" in negative:
        computed["label"] = ["#" + str(i) for i in negative["id"].tolist()]
    if "days_open" in negative:
        computed["age"] = [
            label(labels, "days_value", days=int(d)) if pd.notna(d) else None
            for d in negative["days_open"].tolist()
        ]
    style = {"radius": 11, "shape": "circle", "fill": False, "color": NEGATIVE_COLOR, "weight": 2.5}
    field_labels = fields("negative", labels)
    columns = Columns(negative, [*field_labels, "overdue", "photos"], computed)
    spec = layer_spec(columns.packed(), key="negative_list", name=labels["negative_list"], styles=[style],
                      fields=field_labels, show=False, problem=True)  # fmt: skip
    panel = {
        "key": "negative_list",
        "title": labels["negative_title"],
        "fields": ["label", "category_name", "age", "overdue_label"],
    }
    if more is not None:
        total, url = more
        panel["more"] = {"url": url, "text": label(labels, "negative_more", shown=len(negative), total=total)}
    return [spec], panel


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
