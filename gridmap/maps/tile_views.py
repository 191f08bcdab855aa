"""``/tiles/<z>/<x>/<y>.<ext>``: background tiles from a local folder or MBTiles file.

Only ``folder:`` and ``mbtiles:`` sources (see :mod:`gridmap.core.basemap`) are served; with any
other setting every tile answers 404. The URL only matches digits for z/x/y, and a tile is read
at a path built from those integers (folder) or with bound SQL parameters (MBTiles), so no
request can name another file. Whatever cannot be served — out-of-range numbers, another
extension, a missing tile, bytes that are not an image, a corrupt or vanished file — is a 404,
never a 500.

No login is required. A base map carries no grid data: every scoped object (problems, buildings,
facilities) reaches a page as that page's own data, built from the ``visible_to`` selectors, and
never through tiles. Leaving tiles open lets them be cached publicly (a proxy in front of the
site can serve repeat requests) and saves a session lookup on each of the few dozen requests a
pan makes. A site whose base map is licensed for signed-in users only should put the tile path
behind its proxy's authentication.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from contextlib import closing

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from gridmap.core.basemap import FORMATS, MAX_ZOOM_LIMIT, TileConfig, open_mbtiles, sniff, tile_config

log = logging.getLogger(__name__)
TILE_MAX_AGE_S = 86400


@require_safe
def tile(request: HttpRequest, z: int, x: int, y: int, ext: str) -> HttpResponse:
    """One raster tile (XYZ numbering: y counts down from the north edge)."""
    config = tile_config()
    if not config.served_here or ext != config.fmt or not tile_in_range(z, x, y, config.max_zoom):
        raise Http404("no such tile")
    found = _read_folder(config, z, x, y) if config.kind == "folder" else _read_mbtiles(config, z, x, y)
    if found is None:
        raise Http404("no such tile")
    data, etag, modified_s = found
    kind = sniff(data)
    if kind is None:
        log.warning("tile %s/%s/%s in %s is not a png, jpg or webp image", z, x, y, config.path)
        raise Http404("no such tile")
    response = HttpResponse(data, content_type=FORMATS[kind])
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified_s)
    patch_cache_control(response, public=True, max_age=TILE_MAX_AGE_S)
    return get_conditional_response(request, etag=etag, last_modified=modified_s, response=response)


def tile_in_range(z: int, x: int, y: int, max_zoom: int) -> bool:
    """True for a tile that exists in the Web Mercator pyramid up to ``max_zoom``."""
    return 0 <= z <= min(max_zoom, MAX_ZOOM_LIMIT) and 0 <= x < (1 << z) and 0 <= y < (1 << z)


def _read_folder(config: TileConfig, z: int, x: int, y: int) -> tuple[bytes, str, int] | None:
    assert config.path is not None
    path = config.path / str(z) / str(x) / f"{y}.{config.fmt}"  # integers only: stays in the folder
    try:
        with path.open("rb") as f:
            stat = os.fstat(f.fileno())
            data = f.read()
    except OSError:  # missing, a folder, unreadable
        return None
    return data, f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"', int(stat.st_mtime)


def _read_mbtiles(config: TileConfig, z: int, x: int, y: int) -> tuple[bytes, str, int] | None:
    assert config.path is not None
    row = (1 << z) - 1 - y  # MBTiles rows are TMS: counted up from the south edge
    try:
        modified_s = int(config.path.stat().st_mtime)
        with closing(open_mbtiles(config.path)) as db:
            found = db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, row),
            ).fetchone()
    except (OSError, sqlite3.Error) as e:
        log.error("MBTiles %s cannot be read: %s", config.path, e)
        return None
    if found is None or not isinstance(found[0], bytes):
        return None
    data = found[0]
    return data, f'"{hashlib.blake2b(data, digest_size=12).hexdigest()}"', modified_s
