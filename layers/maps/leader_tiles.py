"""The leader map's large layers drawn from vector tiles instead of embedded data.

:func:`tile_specs` turns spec entries of :mod:`layers.maps.leader_layers` (``buildings``,
``problems``, ``facility:<kind>``) into tiled entries (:class:`layers.maps.vector_tiles.VectorSource`
specs) for the keys the caller names: same name, styles, legend and popup fields, no data. The
style of each feature is chosen in the page from its tile properties by the same rule the
embedded layer used (the households classes of the buildings; the status × category class ×
overdue combinations of the problems), so both look alike. Popups lose what the tiles do not
carry (problem photos: the popup's link leads to the problem page that has them) and tooltips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.maps.labels import DEFAULT_LABELS
from layers.maps.leader_layers import graduated_breaks
from layers.maps.vector_tiles import StyleRule, VectorSource

Labels = Mapping[str, str]


def building_rule(buildings: gpd.GeoDataFrame) -> StyleRule:
    """The households (else population) classes of :func:`~layers.maps.leader_layers.building_layers`."""
    by = next(
        (c for c in ("households", "population") if c in buildings and buildings[c].fillna(0).sum() > 0), None
    )
    if by is None:
        return StyleRule()
    values = pd.to_numeric(buildings[by], errors="coerce").fillna(0).to_numpy(dtype=float)
    return StyleRule(prop=by, breaks=tuple(graduated_breaks(values)))


def problem_rule(problems: gpd.GeoDataFrame) -> StyleRule:
    """The (status, category class, overdue) combinations of
    :func:`~layers.maps.leader_problems.problem_layers`, in the same order (so the same style index)."""
    n = len(problems)
    status = problems["status"].astype(str).to_numpy() if n and "status" in problems else np.full(n, "")
    classes = (
        problems["category"].astype(str).str[:2].to_numpy() if "category" in problems else np.full(n, "")
    )
    overdue = (
        problems["overdue"].fillna(False).astype(bool).to_numpy()
        if "overdue" in problems
        else np.zeros(n, bool)
    )
    combos = pd.Series(
        [f"{s}\t{c}\t{int(o)}" for s, c, o in zip(status, classes, overdue, strict=True)], dtype=object
    )
    _, uniques = pd.factorize(combos)
    return StyleRule(
        parts=(("status", ""), ("category", 2), ("overdue", "bool")),
        index={combo: i for i, combo in enumerate(uniques)},
    )


def tile_specs(
    specs: Sequence[dict[str, Any]],
    urls: Mapping[str, str],
    *,
    buildings: gpd.GeoDataFrame,
    problems: gpd.GeoDataFrame,
    statuses: Mapping[str, Mapping[str, str]],
    labels: Labels = DEFAULT_LABELS,
    zooms: Mapping[str, tuple[int, int]] | None = None,
    choices: Mapping[str, Mapping[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """``specs`` with the entries of ``urls``' keys (``buildings``, ``problems``, ``facilities``)
    drawn from those tile URL templates (``{z}/{x}/{y}``; facilities get ``kind=<code>`` added);
    ``zooms``: per key, the tiles' smallest zoom and the first with the popup's properties;
    ``choices``: coded properties (``use``, ``condition``) shown as their texts in the popups."""
    zooms = dict(zooms or {})
    out = []
    for spec in specs:
        key = spec.get("key", "")
        family = "facilities" if key.startswith("facility:") else key
        if family not in urls or "data" not in spec:
            out.append(spec)
            continue
        url = urls[family]
        rule, layer = StyleRule(), family
        shown = set(spec.get("popup", {}).get("fields", []))
        derived: dict[str, tuple[str, Mapping[str, str]]] = {
            c: (c, m) for c, m in (choices or {}).items() if c in shown
        }
        if family == "buildings":
            rule = building_rule(buildings)
        elif family == "problems":
            rule = problem_rule(problems)
            derived |= {"status_name": ("status", {s: v.get("name", s) for s, v in statuses.items()}),
                       "overdue_label": ("overdue", {"true": labels["overdue"]})}  # fmt: skip
        else:
            url += ("&" if "?" in url else "?") + "kind=" + key.split(":", 1)[1]
        popup = spec.get("popup", {})
        source = VectorSource(
            key=key, name="", url=url, layer=layer, styles=spec["styles"], rule=rule,
            fields=dict(zip(popup.get("fields", []), popup.get("aliases", []), strict=True)),
            derived=derived, show=spec.get("show", True), problem=bool(popup.get("problem")),
            min_zoom=zooms.get(family, (0, 0))[0], detail_zoom=zooms.get(family, (0, 0))[1],
        )  # fmt: skip
        out.append(source.spec() | {"name": spec["name"]})  # the name is escaped already
    return out
