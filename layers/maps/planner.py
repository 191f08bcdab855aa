"""The planner's city-wide map: per-grid choropleths, coverage gaps, siting on request.

What the page embeds grows with the number of grids only: the grid polygons once (the coverage
choropleth; the problem-rate choropleth is built in the browser from the same features), the
uncovered area of the chosen facility kind, and small controls. Buildings, facilities and problems
are bbox-loaded from the site's API when the user zooms in (:mod:`layers.maps.bbox`); siting
suggestions are computed when asked for, for one community (``sites_url``).

Classes are natural breaks of the grids' values (:func:`natural_breaks`, Fisher-Jenks: the
cuts with the least squared deviation within classes; a value goes to the first class whose upper
bound it does not exceed). Quantiles were tried first and fail on coverage shares, where most
grids sit at 100%: every quantile bound is 1.0 and a grid at 60% lands in the same class.
Grids without a value (no buildings the kind serves, no residents) are a grey "no data" class.

Registry keys (see :mod:`layers.maps.page`): ``"coverage"``, ``"problem-rate"`` (one feature per grid),
``"gaps"``, ``"sites"`` and those of the bbox layers. ``gridmap.sites`` holds the state of the last
siting request ``{loading, community, count, error}``; event ``gridmap:sites`` follows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
from folium.utilities import JsCode

from layers.chinacoords import gcj02_for_display
from layers.maps.assets import MapAssets, TileSource
from layers.maps.bbox import DEFAULT_MIN_ZOOM, BboxSource, add_bbox_layers
from layers.maps.classes import natural_breaks
from layers.maps.elements import Legend, MapReady, RawElement
from layers.maps.page import add_layer, base_map, clean, frame_bounds
from layers.maps.planner_elements import ChoroplethLegend, DerivedGeoJson, GridPopup, SitesControl
from layers.maps.vector_tiles import VectorSource, add_vector_layers

COVERAGE_COLORS = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")  # low share is bad: red
RATE_COLORS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")  # many problems: dark red
NO_DATA_COLOR = "#bdbdbd"
GAP_STYLE: dict[str, Any] = {
    "color": "#7b3294",
    "weight": 1,
    "fillColor": "#7b3294",
    "fillOpacity": 0.35,
    "interactive": False,  # the grid under it answers clicks
}
SITE_STYLE: dict[str, Any] = {
    "radius": 8,
    "color": "#000000",
    "weight": 2,
    "fillColor": "#ffeb3b",
    "fillOpacity": 1,
}
LABELS: dict[str, str] = {
    "legend": "Legend",
    "classes_legend": "Classes",
    "coverage": "Coverage share",
    "problem_rate": "Problem rate",
    "gaps": "Uncovered area",
    "gaps_legend": "Uncovered area",
    "sites": "Suggested sites",
    "no_data": "no data",
    "code": "Code",
    "name": "Name",
    "community": "Community",
    "coverage_text": "Coverage share",
    "rate_text": "Problem rate",
    "gap_text": "Uncovered area share",
    "open_grid": "Open the grid page",
    "site": "Site",
    "street_name": "Street",
    "buildings": "Buildings newly covered",
    "households": "Households",
    "max_distance_m": "Farthest building (m)",
    "suggest": "Suggest sites",
    "sites_done": "{sites} sites cover {buildings} more buildings.",
    "zoom_in": "Zoom in to load buildings, facilities and problems.",
    "truncated": "{name}: {shown} of {matched} shown; zoom in.",
    "failed": "{name} could not be loaded ({error}).",
}
# long labels wrap instead of squeezing the values to one character per line
PLANNER_CSS = """<style>
.leaflet-container .leaflet-popup-content { font-size: 13px; }
.gridmap-detail th { white-space: normal; min-width: 5em; max-width: 9em; vertical-align: top; }
</style>"""
GRID_FIELDS = ("name", "code", "community", "coverage_text", "rate_text", "gap_text")
SITE_FIELDS = ("site", "street_name", "buildings", "households", "max_distance_m")


def classify(values: Sequence[float] | np.ndarray, breaks: Sequence[float]) -> np.ndarray:
    """Class of each value: the first bound it does not exceed; -1 for a missing value."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, -1, dtype=int)
    ok = np.isfinite(v)
    if breaks:
        out[ok] = np.minimum(np.searchsorted(np.asarray(breaks), v[ok], side="left"), len(breaks) - 1)
    return out


def palette(colors: Sequence[str], n: int) -> list[str]:
    """``n`` colours spread over ``colors`` (its ends kept)."""
    if n <= 0:
        return []
    if n == 1:
        return [colors[-1]]
    return [colors[round(i * (len(colors) - 1) / (n - 1))] for i in range(n)]


def class_legend(
    values: Sequence[float] | np.ndarray,
    breaks: Sequence[float],
    colors: Sequence[str],
    fmt: Any,
    no_data: str,
) -> list[tuple[str, str]]:
    """(label, colour) per class: ``lowest – highest`` of its values (one value alone), then
    "no data" when a value is missing."""
    v = np.asarray(values, dtype=float)
    ok = v[np.isfinite(v)]
    cls = classify(ok, breaks)
    out = []
    for i, color in enumerate(colors):
        members = ok[cls == i]
        if members.size == 0:
            continue
        lo, hi = float(members.min()), float(members.max())
        out.append((fmt(hi) if lo == hi else f"{fmt(lo)} – {fmt(hi)}", color))
    if ok.size < v.size:
        out.append((no_data, NO_DATA_COLOR))
    return out


def _fill(color: str) -> dict[str, Any]:
    return {"color": "#555555", "weight": 1, "fillColor": color, "fillOpacity": 0.7}


def _percent(x: float) -> str:
    return f"{100 * x:.1f}%"


def _rate(x: float) -> str:
    return f"{x:.1f}"


def planner_map(
    *,
    grids: gpd.GeoDataFrame,
    gaps: gpd.GeoDataFrame,
    coverage_title: str,
    rate_title: str,
    grid_url: str,
    bbox_sources: Sequence[BboxSource],
    assets: MapAssets,
    vector_sources: Sequence[VectorSource] = (),
    tiles: TileSource | None,
    legend: Sequence[tuple[str, str, str]] = (),
    sites_url: str | None = None,
    communities: Sequence[tuple[str, str]] = (),
    labels: Mapping[str, str] | None = None,
    classes: int = 5,
    min_zoom: int = DEFAULT_MIN_ZOOM,
) -> folium.Map:
    """Build the planner's map.

    Parameters
    ----------
    grids
        One row per grid in scope: ``code``, ``name``, ``community`` (its name), ``coverage``
        (share 0..1, NaN for no data), ``coverage_text``, ``rate`` (NaN for no data),
        ``rate_text``, ``gap_text`` (texts shown in the popup as they are).
    gaps
        Uncovered area polygons (any columns; drawn, not clickable).
    coverage_title, rate_title
        Legend headings that state each definition (plain text).
    grid_url
        The grid page URL with ``{code}`` where the grid code goes; the popup links to it
        (``target=_top``: the map is usually in a frame).
    bbox_sources
        Layers loaded by bounding box at zoom ``min_zoom`` and above.
    vector_sources
        Layers drawn from vector tiles (:mod:`layers.maps.vector_tiles`), after the bbox ones.
    legend
        More (label, CSS colour, shape) entries for the bbox layers; colours must be checked.
    sites_url
        Siting suggestions URL answering ``?community=<code>`` (a GeoJSON FeatureCollection of
        points with ``summary``); None leaves the siting control out.
    communities
        (code, name) the siting control offers.
    labels
        Texts of the page (:data:`LABELS` keys); missing ones are English.
    tiles
        Background tiles or None. Over GCJ-02 tiles (``tiles.datum``) the grids and gaps are moved
        to GCJ-02 here and the bbox-loaded features and sites in the page (display only).
    """
    text = {**LABELS, **(labels or {})}
    grids, gaps = clean(grids), clean(gaps)
    gcj02 = tiles is not None and tiles.datum == "gcj02"
    if gcj02:  # drawn over GCJ-02 tiles: moved for display only (bbox layers move in the page)
        grids, gaps = gcj02_for_display(grids), gcj02_for_display(gaps)
    m = base_map(frame_bounds(grids), assets, tiles, plugins=("vectorgrid",) if vector_sources else ())
    m.get_root().header.add_child(RawElement(PLANNER_CSS), name="gridmap_planner_css")
    sections = []
    for key, column, colors, fmt, title in (
        ("coverage", "coverage", COVERAGE_COLORS, _percent, coverage_title),
        ("problem-rate", "rate", RATE_COLORS, _rate, rate_title),
    ):
        values = grids[column].to_numpy(dtype=float) if column in grids else np.full(len(grids), np.nan)
        breaks = natural_breaks(values, classes)
        fills = palette(colors, len(breaks))
        grids = grids.assign(**{f"{column}_class": classify(values, breaks)})
        styles = {str(i): _fill(c) for i, c in enumerate(fills)}
        sections.append((key, title, class_legend(values, breaks, fills, fmt, text["no_data"]), styles))
    fields = {c: text[c] for c in GRID_FIELDS if c in grids.columns}
    add_layer(
        m,
        grids,
        key="coverage",
        name=text["coverage"],
        fields={},
        style=_fill(NO_DATA_COLOR),
        style_key="coverage_class",
        styles=sections[0][3],
        extra=(*fields, "coverage_class", "rate_class"),
    )
    DerivedGeoJson(
        "coverage", key="problem-rate", name=text["problem_rate"], default_style=_fill(NO_DATA_COLOR),
        style_key="rate_class", styles=sections[1][3],
    ).add_to(m)  # fmt: skip
    GridPopup(["coverage", "problem-rate"], fields, grid_url, text["open_grid"]).add_to(m)
    add_layer(m, gaps, key="gaps", name=text["gaps"], fields={}, style=GAP_STYLE)
    add_bbox_layers(m, bbox_sources, messages=text, min_zoom=min_zoom, gcj02=gcj02)
    add_vector_layers(m, vector_sources)
    if sites_url is not None:
        empty = gpd.GeoDataFrame({c: [] for c in SITE_FIELDS}, geometry=[], crs=4326)
        site_fields = {c: text[c] for c in SITE_FIELDS}
        add_layer(m, empty, key="sites", name=text["sites"], fields=site_fields, style=SITE_STYLE)
        SitesControl(sites_url, communities, text).add_to(m)
    Legend(
        [(text["gaps_legend"], GAP_STYLE["fillColor"], "polygon"), *legend]
        + ([(text["sites"], SITE_STYLE["fillColor"], "point")] if sites_url is not None else []),
        title=text["legend"],
    ).add_to(m)
    folium.LayerControl(collapsed=JsCode("gridmap.small()")).add_to(m)  # folded on a phone only
    ChoroplethLegend(
        [(key, title, entries) for key, title, entries, _ in sections], text["classes_legend"]
    ).add_to(m)
    MapReady().add_to(m)  # last: its script runs once every layer is built
    return m
