"""Drawing over the configured background tiles (:mod:`gridmap.core.basemap`): layers moved to
the tiles' datum, the tiles' overlays, and a position picked on such a map back to WGS84."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from layers.maps import TileSource


def display_frames(frames: Mapping[str, Any], tiles: TileSource | None) -> dict[str, Any]:
    """``frames`` ready to draw over ``tiles``: every GeoDataFrame moved to GCJ-02 when the tiles are.

    Other values pass unchanged, so callers need not know which keys a selector returns.
    """
    if tiles is None or tiles.datum != "gcj02":
        return dict(frames)
    import geopandas as gpd

    from layers.chinacoords import gcj02_for_display

    return {k: gcj02_for_display(v) if isinstance(v, gpd.GeoDataFrame) else v for k, v in frames.items()}


def add_overlays(m: Any, tiles: TileSource | None) -> Any:
    """Draw ``tiles.overlays`` (e.g. Tianditu's labels) over the base tiles of folium map ``m``."""
    import folium

    for url in tiles.overlays if tiles is not None else ():
        folium.TileLayer(
            tiles=url, attr=" ", max_zoom=tiles.max_zoom, subdomains=tiles.subdomains,
            overlay=True, control=False, name="注记",
        ).add_to(m)  # fmt: skip
    return m


def to_wgs84(lon: float, lat: float, tiles: TileSource | None) -> tuple[float, float]:
    """A position picked on a map drawn over ``tiles`` as WGS84 (unchanged unless GCJ-02)."""
    if tiles is None or tiles.datum != "gcj02":
        return lon, lat
    from layers.chinacoords import gcj02_to_wgs84

    wlon, wlat = gcj02_to_wgs84(np.array([lon]), np.array([lat]))
    return float(wlon[0]), float(wlat[0])
