"""The configured background tiles (``settings.GRIDMAP["TILES"]``, env ``GRIDMAP_TILES``).

``none`` (default)
    No tile layer: every layer is drawn on a plain background and no tile is ever requested.
``https://host/{z}/{x}/{y}.png``
    An XYZ template (OpenStreetMap style), e.g. an intranet tile server; ``{s}`` takes
    ``GRIDMAP_TILES_SUBDOMAINS`` (default ``abc``), ``{-y}`` is a TMS row. A path starting with
    ``/`` is a tile server on this site's host.
``tianditu:KEY``
    Tianditu's WGS84 vector map (``vec_w``) with its annotation layer (``cva_w``) on top.
``folder:/abs/path``
    A folder of ``{z}/{x}/{y}.<png|jpg|jpeg|webp>`` files (XYZ rows, e.g. ``gdal2tiles.py --xyz``),
    served by this site's ``/tiles/`` view.
``mbtiles:/abs/path.mbtiles``
    A raster MBTiles file (TMS rows, format from its metadata), served by the same view.
``gcj02:<any of the last three>``
    The source draws in GCJ-02 (AMap/Gaode, Tencent, or a copy of their tiles): our layers are
    moved to GCJ-02 for display only; stored data stay WGS84.

``GRIDMAP_TILES_ATTRIBUTION`` (trusted HTML) and ``GRIDMAP_TILES_MAX_ZOOM`` override what the
source says. A bad value stops the start (settings.py calls :func:`check_tiles_setting`) with
:class:`~django.core.exceptions.ImproperlyConfigured` naming what is wrong.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.html import escape

from layers.maps import TileSource

TIANDITU = "https://t{s}.tianditu.gov.cn/DataServer?T=%s&x={x}&y={y}&l={z}&tk=%s"
TIANDITU_ATTRIBUTION = '<a href="https://www.tianditu.gov.cn/">天地图</a>'
# extension in /tiles/ URLs -> Content-Type
FORMATS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
MAX_ZOOM_LIMIT = 24
DEFAULT_XYZ_MAX_ZOOM = 19
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_LEAFLET_KEYS = {"s", "z", "x", "y", "-y", "r"}
_BAD_URL_CHARS = re.compile(r"[\s\"'<>\\`]")
_KEY = re.compile(r"^[0-9A-Za-z]{8,64}$")


@dataclass(frozen=True)
class TileConfig:
    """The parsed tile setting: what the map draws, and what the ``/tiles/`` view serves."""

    kind: str  # "none", "xyz", "tianditu", "folder" or "mbtiles"
    datum: str = "wgs84"
    template: str = ""  # xyz, tianditu
    overlays: tuple[str, ...] = ()
    path: Path | None = None  # folder, mbtiles
    fmt: str = "png"  # folder, mbtiles: the extension of /tiles/ URLs
    attribution: str = ""
    max_zoom: int = DEFAULT_XYZ_MAX_ZOOM
    subdomains: str = "abc"

    @property
    def served_here(self) -> bool:
        """True when the tiles come from this site's ``/tiles/`` view (folder or MBTiles)."""
        return self.kind in ("folder", "mbtiles")


def parse_tiles(
    raw: str | None, *, attribution: str = "", subdomains: str = "abc", max_zoom: str | int | None = None
) -> TileConfig:
    """Parse a tile setting (see the module docstring); folders and files are opened and checked.

    Raises
    ------
    ImproperlyConfigured
        With the reason, for any value that would not draw a working tile layer.
    """
    text = (raw or "none").strip()
    datum = "wgs84"
    if text.lower().startswith("gcj02:"):
        datum, text = "gcj02", text[len("gcj02:") :].strip()
        if text.lower() == "none" or text.lower().startswith(("tianditu:", "gcj02:")):
            raise ImproperlyConfigured(
                "GRIDMAP_TILES: 'gcj02:' goes before an XYZ template, folder: or mbtiles: source"
            )
    zoom = _max_zoom(max_zoom)
    if text.lower() == "none":
        return TileConfig("none")
    scheme, _, rest = text.partition(":")
    if scheme == "tianditu":
        return _tianditu(rest.strip(), attribution, zoom)
    if scheme in ("folder", "mbtiles"):
        reader = _folder if scheme == "folder" else _mbtiles
        return reader(_absolute(scheme, rest.strip()), datum, attribution, zoom)
    _check_template(text, subdomains)
    return TileConfig(
        "xyz", datum, template=text, attribution=attribution, max_zoom=DEFAULT_XYZ_MAX_ZOOM if zoom is None else zoom,
        subdomains=subdomains,
    )  # fmt: skip


def check_tiles_setting(gridmap: Mapping[str, Any]) -> TileConfig:
    """Parse the tile keys of the ``GRIDMAP`` settings dict; raises ImproperlyConfigured if bad."""
    return _cached(
        gridmap.get("TILES") or "none",
        gridmap.get("TILES_ATTRIBUTION") or "",
        gridmap.get("TILES_SUBDOMAINS") or "abc",
        gridmap.get("TILES_MAX_ZOOM"),
    )


def tile_config() -> TileConfig:
    """The current settings' tile configuration (parsed once per distinct setting)."""
    return check_tiles_setting(settings.GRIDMAP)


def tile_source() -> TileSource | None:
    """What a map page draws as its background, or None for a plain background."""
    return source_of(tile_config())


def source_of(config: TileConfig) -> TileSource | None:
    """The :class:`TileSource` of ``config``; folder and MBTiles point at this site's /tiles/ view."""
    if config.kind == "none":
        return None
    template = local_template(config.fmt) if config.served_here else config.template
    return TileSource(
        template,
        config.attribution,
        max_zoom=config.max_zoom,
        subdomains=config.subdomains,
        datum=config.datum,
        overlays=config.overlays,
    )


def local_template(fmt: str) -> str:
    """The Leaflet template of the ``tiles`` view, e.g. ``/tiles/{z}/{x}/{y}.png``."""
    from django.urls import reverse  # not at import: settings.py imports this module

    url = reverse("tiles", kwargs={"z": 0, "x": 0, "y": 0, "ext": fmt})
    return url[: -len(f"0/0/0.{fmt}")] + "{z}/{x}/{y}." + fmt


def openlayers_tile_url() -> str | None:
    """A template OpenLayers' XYZ source can draw under the admin's geometry editor, or None.

    The admin edits stored WGS84 geometries, so a GCJ-02 source is not shown there (its
    background would sit hundreds of metres off); ``{s}`` becomes OpenLayers' ``{a-c}`` form.
    """
    source = tile_source()
    if source is None or source.datum != "wgs84":
        return None
    url = source.url_template
    if "{s}" in url:
        subs = source.subdomains
        ranged = len(subs) > 1 and all(ord(b) - ord(a) == 1 for a, b in zip(subs, subs[1:], strict=False))
        url = url.replace("{s}", f"{{{subs[0]}-{subs[-1]}}}" if ranged else subs[0])
    return url


@functools.lru_cache(maxsize=8)
def _cached(raw: str, attribution: str, subdomains: str, max_zoom: str | int | None) -> TileConfig:
    return parse_tiles(raw, attribution=attribution, subdomains=subdomains, max_zoom=max_zoom)


def _max_zoom(value: str | int | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        zoom = int(value)
    except (TypeError, ValueError):
        zoom = -1
    if not 0 <= zoom <= MAX_ZOOM_LIMIT:
        raise ImproperlyConfigured(
            f"GRIDMAP_TILES_MAX_ZOOM must be an integer 0..{MAX_ZOOM_LIMIT}: {value!r}"
        )
    return zoom


def _check_template(url: str, subdomains: str) -> None:
    if not (url.startswith(("http://", "https://")) or (url.startswith("/") and not url.startswith("//"))):
        raise ImproperlyConfigured(
            f"GRIDMAP_TILES must be none, tianditu:KEY, folder:/path, mbtiles:/path.mbtiles, "
            f"or an http(s) XYZ template such as https://tiles.example/{{z}}/{{x}}/{{y}}.png; got {url!r}"
        )
    if _BAD_URL_CHARS.search(url):
        raise ImproperlyConfigured(f"GRIDMAP_TILES: spaces, quotes and <> are not allowed in {url!r}")
    keys = set(_PLACEHOLDER.findall(url))
    if unknown := keys - _LEAFLET_KEYS:
        raise ImproperlyConfigured(
            f"GRIDMAP_TILES: unknown placeholder(s) {sorted(unknown)} in {url!r} (use {{z}} {{x}} {{y}} {{-y}} {{s}})"
        )
    if not {"z", "x"} <= keys or not keys & {"y", "-y"}:
        raise ImproperlyConfigured(f"GRIDMAP_TILES: the template needs {{z}}, {{x}} and {{y}}: {url!r}")
    if "s" in keys and not re.fullmatch(r"[0-9A-Za-z]+", subdomains):
        raise ImproperlyConfigured(f"GRIDMAP_TILES_SUBDOMAINS must be letters or digits: {subdomains!r}")


def _tianditu(key: str, attribution: str, zoom: int | None) -> TileConfig:
    if not _KEY.match(key):
        raise ImproperlyConfigured("GRIDMAP_TILES: tianditu:KEY needs the key of your Tianditu account")
    return TileConfig(
        "tianditu",
        template=TIANDITU % ("vec_w", key),
        overlays=(TIANDITU % ("cva_w", key),),
        attribution=attribution or TIANDITU_ATTRIBUTION,
        max_zoom=18 if zoom is None else zoom,
        subdomains="01234567",
    )


def _absolute(scheme: str, value: str) -> Path:
    path = Path(value)
    if not path.is_absolute():
        raise ImproperlyConfigured(f"GRIDMAP_TILES: {scheme}: needs an absolute path, got {value!r}")
    return path


def _folder(root: Path, datum: str, attribution: str, zoom: int | None) -> TileConfig:
    if not root.is_dir():
        raise ImproperlyConfigured(f"GRIDMAP_TILES: tile folder {root} does not exist or is not a folder")
    levels = sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and p.is_dir())
    fmt = _folder_format(root, levels)
    if fmt is None:
        raise ImproperlyConfigured(
            f"GRIDMAP_TILES: no {{z}}/{{x}}/{{y}}.png|jpg|jpeg|webp tile found in {root}"
        )
    return TileConfig(
        "folder", datum, path=root, fmt=fmt, attribution=attribution,
        max_zoom=zoom if zoom is not None else min(levels[-1], MAX_ZOOM_LIMIT),
    )  # fmt: skip


def _folder_format(root: Path, levels: list[int]) -> str | None:
    """The extension of the first tile found at the lowest zoom levels (a bounded look)."""
    for z in levels[:3]:
        for column in sorted((root / str(z)).iterdir())[:16]:
            if column.is_dir():
                for tile in column.iterdir():
                    ext = tile.suffix[1:].lower()
                    if tile.stem.isdigit() and ext in FORMATS:
                        return ext
    return None


def _mbtiles(path: Path, datum: str, attribution: str, zoom: int | None) -> TileConfig:
    if not path.is_file():
        raise ImproperlyConfigured(f"GRIDMAP_TILES: MBTiles file {path} does not exist")
    try:
        with closing(open_mbtiles(path)) as db:
            meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
            first = db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
            top = zoom if zoom is not None else _int(meta.get("maxzoom"))
            if top is None:
                top = db.execute("SELECT MAX(zoom_level) FROM tiles").fetchone()[0]
    except sqlite3.Error as e:
        raise ImproperlyConfigured(f"GRIDMAP_TILES: {path} is not a readable MBTiles file ({e})") from e
    fmt = str(meta.get("format") or (sniff(first[0]) if first else "") or "").lower()
    if fmt == "pbf":
        raise ImproperlyConfigured(f"GRIDMAP_TILES: {path} holds vector tiles (pbf); give a raster MBTiles")
    if fmt not in FORMATS:
        raise ImproperlyConfigured(
            f"GRIDMAP_TILES: {path} has no raster format (png, jpg, webp) in its metadata"
        )
    if top is None:
        raise ImproperlyConfigured(f"GRIDMAP_TILES: {path} holds no tiles")
    return TileConfig(
        "mbtiles", datum, path=path, fmt=fmt,
        attribution=attribution or escape(str(meta.get("attribution") or "")),  # file text, not trusted
        max_zoom=min(int(top), MAX_ZOOM_LIMIT),
    )  # fmt: skip


def open_mbtiles(path: Path) -> sqlite3.Connection:
    """A read-only connection to an MBTiles file (never creates or writes it)."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    db.execute("PRAGMA query_only = ON")
    return db


def sniff(data: bytes | None) -> str | None:
    """The raster format of tile bytes by their signature (png, jpg, webp), or None."""
    if not isinstance(data, bytes | memoryview):
        return None
    head = bytes(data[:12])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
