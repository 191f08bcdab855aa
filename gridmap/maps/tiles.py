"""The configured background tiles (settings.GRIDMAP["TILES"]); "none" draws on a plain background."""

from __future__ import annotations

from django.conf import settings

from layers.map_assets import TileSource

TIANDITU = "http://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=%s"


def tile_source() -> TileSource | None:
    """``none`` (default), ``tianditu:KEY`` or an XYZ template of a self-hosted tile server."""
    raw = (settings.GRIDMAP.get("TILES") or "none").strip()
    if raw.lower() == "none":
        return None
    if raw.startswith("tianditu:"):
        return TileSource(TIANDITU % raw.split(":", 1)[1], "天地图", max_zoom=18, subdomains="01234567")
    return TileSource(raw, settings.GRIDMAP.get("TILES_ATTRIBUTION", ""), max_zoom=19)
