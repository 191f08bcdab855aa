"""The leader map's problem layers: the problems by status and category class, their heat, and
the negative list (spec entries of :mod:`layers.maps.leader`, legend lines as
:mod:`layers.maps.leader_layers` describes them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.maps.elements import html_text
from layers.maps.labels import DEFAULT_LABELS, class_name, fields, label
from layers.maps.leader import Columns, heat_spec, layer_spec
from layers.maps.leader_layers import FALLBACK_COLOR, Labels, Section, css_color, styled
from layers.maps.symbols import class_shape, swatch

RING_COLOR = "#111111"
NEGATIVE_COLOR = "#6a3d9a"


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
        specs = [layer_spec(styled(columns, index), key="problems", name=labels["problems"], **common)]
    else:  # open problems on, the finished ones in a layer of their own (off at first)
        specs = [
            layer_spec(styled(columns, index, np.flatnonzero(~done)), key="problems", name=labels["problems"],
                       **common),
            layer_spec(styled(columns, index, np.flatnonzero(done)), key="problems_closed",
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
