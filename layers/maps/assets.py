"""Where a map page gets Leaflet from, and where its background tiles come from.

Pages run on government intranets with no internet, so nothing may come from a CDN: Leaflet is
vendored by ``scripts/vendor_assets.sh`` under ``gridmap/static/vendor/leaflet-<version>/`` and a
map either links it from the site's static URL or inlines it (a self-contained HTML file to hand
out offline). Tiles are optional: with no :class:`TileSource` the map draws its layers on a plain
background.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

LEAFLET_VERSION = "1.9.4"  # keep in step with scripts/vendor_assets.json
LEAFLET_DIR = f"leaflet-{LEAFLET_VERSION}"
LEAFLET_JS = f"{LEAFLET_DIR}/leaflet.js"
LEAFLET_CSS = f"{LEAFLET_DIR}/leaflet.css"
# Leaflet plugins a map may ask for by name (keep in step with scripts/vendor_assets.json)
PLUGINS = {
    "heat": "leaflet.heat-0.2.0/leaflet-heat.js",
    "vectorgrid": "leaflet.vectorgrid-1.3.0/Leaflet.VectorGrid.bundled.min.js",
}

# The vendor folder in a source checkout; Django serves it at STATIC_URL + "vendor/".
REPO_VENDOR_DIR = Path(__file__).resolve().parents[2] / "gridmap" / "static" / "vendor"

_CSS_URL = re.compile(r"url\((['\"]?)(images/[A-Za-z0-9_.-]+\.png)\1\)")


@dataclass(frozen=True)
class MapAssets:
    """How a map page loads Leaflet's script and stylesheet.

    Parameters
    ----------
    base_url
        URL of the vendor folder, ending in ``/`` (e.g. ``"/static/vendor/"``); the page links
        ``<base_url>leaflet-<version>/leaflet.js`` and ``.css``. Ignored when ``inline_from`` is set.
    inline_from
        A vendor folder on disk. When set, Leaflet's script and stylesheet are copied into the
        page (its images as ``data:`` URIs), so the HTML file works alone, e.g. opened from disk.
    """

    base_url: str = "/static/vendor/"
    inline_from: Path | None = None

    def __post_init__(self) -> None:
        if self.inline_from is None and not self.base_url.endswith("/"):
            raise ValueError(f"base_url must end with '/': {self.base_url!r}")

    @property
    def inline(self) -> bool:
        """True when the assets are copied into the page instead of linked."""
        return self.inline_from is not None

    def js_urls(self) -> list[tuple[str, str]]:
        """(name, URL) of the scripts a map page links, in load order."""
        return [("leaflet", self.base_url + LEAFLET_JS)]

    def plugin_js_urls(self, names: Sequence[str]) -> list[tuple[str, str]]:
        """(name, URL) of the scripts of the named plugins (:data:`PLUGINS`), after Leaflet's."""
        return [(f"leaflet_{n}", self.base_url + PLUGINS[n]) for n in names]

    def inline_plugin_js(self, name: str) -> str:
        """A plugin's script, read from ``inline_from``."""
        return self._read(PLUGINS[name])

    def css_urls(self) -> list[tuple[str, str]]:
        """(name, URL) of the stylesheets a map page links."""
        return [("leaflet_css", self.base_url + LEAFLET_CSS)]

    def inline_js(self) -> str:
        """Leaflet's script, read from ``inline_from``."""
        return self._read(LEAFLET_JS)

    def inline_css(self) -> str:
        """Leaflet's stylesheet with its ``images/*.png`` references turned into ``data:`` URIs."""
        css = self._read(LEAFLET_CSS)
        root = self._root() / LEAFLET_DIR

        def to_data_uri(match: re.Match[str]) -> str:
            png = (root / match.group(2)).read_bytes()
            return f"url(data:image/png;base64,{base64.b64encode(png).decode('ascii')})"

        return _CSS_URL.sub(to_data_uri, css)

    def _root(self) -> Path:
        if self.inline_from is None:
            raise ValueError("inline_from is not set")
        return Path(self.inline_from)

    def _read(self, relative: str) -> str:
        return (self._root() / relative).read_text(encoding="utf-8")


@dataclass(frozen=True)
class TileSource:
    """A raster tile service reachable from the users' network (e.g. an intranet tile server).

    Parameters
    ----------
    url_template
        Leaflet URL template, e.g. ``"http://tiles.intranet/{z}/{x}/{y}.png"``: Web Mercator tiles
        drawn in ``datum``. A BD-09 (Baidu) service is not supported (its tile grid differs too).
    attribution
        Attribution HTML shown in the map corner (trusted configuration, not user input).
    max_zoom
        Highest zoom level the service has tiles for.
    subdomains
        Values for ``{s}`` in ``url_template``.
    datum
        ``"wgs84"`` (OpenStreetMap, Tianditu, most intranet servers) or ``"gcj02"`` (AMap/Gaode,
        Tencent): such tiles sit hundreds of metres off WGS84, so layers drawn over them are moved
        to GCJ-02 first (:mod:`layers.chinacoords`; for display only).
    overlays
        Templates of tile layers drawn over the base one with the same zoom range and subdomains
        (e.g. Tianditu's label layer ``cva_w`` over its map ``vec_w``).
    """

    url_template: str
    attribution: str
    max_zoom: int = 18
    subdomains: str = "abc"
    datum: str = "wgs84"
    overlays: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.datum not in ("wgs84", "gcj02"):
            raise ValueError(f"datum must be 'wgs84' or 'gcj02', not {self.datum!r}")
