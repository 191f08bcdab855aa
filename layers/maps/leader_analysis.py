"""The leader map's analysis layers: Gi* hotspot cells and, per facility kind, the uncovered area
and the uncovered buildings (spec entries of :mod:`layers.maps.leader`, legend lines as
:mod:`layers.maps.leader_layers` describes them); all off at first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np

from layers.maps.elements import html_text
from layers.maps.labels import DEFAULT_LABELS, HOTSPOT_KEYS, fields, label
from layers.maps.leader import Columns, display_values, layer_spec
from layers.maps.leader_layers import FALLBACK_COLOR, Labels, Section, css_color, styled
from layers.maps.symbols import box_swatch

HOTSPOT_COLORS: dict[str, str] = {  # Gi* class -> colour (names: layers.maps.labels.HOTSPOT_KEYS)
    "hot_99": "#b2182b",
    "hot_95": "#ef8a62",
    "hot_90": "#fddbc7",
    "none": "#ffffff",
    "cold_90": "#d1e5f0",
    "cold_95": "#67a9cf",
    "cold_99": "#2166ac",
}


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
    spec = layer_spec(styled(columns, index), key="hotspots", name=labels["hotspots"], styles=styles or [{}],
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
