"""One offline map per grid leader: a self-contained HTML file and a GeoPackage of their layers."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.management.base import CommandError, CommandParser

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.core.basemap import source_of, tile_config
from gridmap.core.management.cli import DocumentedCommand, NoWebCommand, atomic_write
from gridmap.geography.models import Grid
from gridmap.geography.selectors import grids_visible_to
from layers.maps import LEAFLET_JS, REPO_VENDOR_DIR, MapAssets, TileSource

if TYPE_CHECKING:
    pass

HELP = """Write one offline map per grid leader into --out DIR.

For each leader (every active grid leader with a grid, or those named by --leader):
  <username>.html  the leader map of their grids with Leaflet and every script and style inlined:
                   it opens from disk (file://) with no network. No background tiles unless
                   --tiles (then the configured XYZ or Tianditu source, which the reader's machine
                   must be able to reach; a folder or MBTiles source is served by this site and
                   cannot be used from a file).
  <username>.gpkg  a GeoPackage with one layer per map layer and geometry type (boundary,
                   buildings, facilities_point, facilities_line, facilities_polygon, problems,
                   ...), WGS84 (EPSG:4326), including empty layers with their columns.
  <username>.shp.zip  the same layers as Shapefiles (UTF-8, with .cpg), empty layers left out.
Files are written to a temporary name and renamed, so a reader never sees half a file."""


class Command(DocumentedCommand, NoWebCommand):
    help = HELP

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", required=True, type=Path, help="folder to write into (created if missing)"
        )
        parser.add_argument(
            "--leader", action="append", default=[], metavar="USERNAME", help="only this leader (repeatable)"
        )
        parser.add_argument(
            "--tiles", action="store_true", help="draw the configured XYZ/Tianditu tiles (needs their server)"
        )

    def handle(self, *args: Any, out: Path, leader: list[str], tiles: bool, **options: Any) -> None:
        from gridmap.maps.builders import area_map  # folium and geopandas: only when a map is made
        from gridmap.maps.selectors import area_layers

        source = _tiles(tiles)
        assets = MapAssets(inline_from=vendor_dir())
        leaders = _leaders(leader)
        folder = _writable(out)
        names = file_names([u.get_username() for u, _ in leaders])
        for (user, grids), name in zip(leaders, names, strict=True):
            html = area_map(grids, assets=assets, tiles=source).get_root().render()
            html_path = folder / f"{name}.html"
            gpkg_path, shp_path = folder / f"{name}.gpkg", folder / f"{name}.shp.zip"
            try:
                atomic_write(html_path, lambda tmp, text=html: tmp.write_text(text, encoding="utf-8"))
                frames = area_layers(grids)
                counts = write_geopackage(gpkg_path, frames)
                write_shapefiles(shp_path, frames)
            except OSError as e:
                raise CommandError(f"cannot write into {folder}: {e}") from e
            layers = ", ".join(f"{k} {n}" for k, n in counts.items())
            self.stdout.write(
                f"{user.get_username()}: {len(grids)} grid(s) -> {html_path.name} "
                f"({html_path.stat().st_size // 1024} KB), {gpkg_path.name} ({layers}), {shp_path.name}"
            )
        self.stdout.write(f"Wrote {len(leaders)} offline map(s) to {folder}")


def vendor_dir() -> Path:
    """The vendored front-end folder (the one holding leaflet-<version>/), for inlining."""
    found = finders.find(f"vendor/{LEAFLET_JS}")
    path = Path(found).parents[1] if isinstance(found, str) else REPO_VENDOR_DIR
    if not (path / LEAFLET_JS).is_file():
        raise CommandError(f"Leaflet is not vendored under {path}: run scripts/vendor_assets.sh")
    return path


def _tiles(wanted: bool) -> TileSource | None:
    if not wanted:
        return None
    config = tile_config()
    if config.kind == "none":
        raise CommandError("--tiles: no tile source is configured (GRIDMAP_TILES is none)")
    if config.served_here:
        raise CommandError(
            f"--tiles: the {config.kind} source is served by this site's /tiles/ view, "
            "which a file opened from disk cannot reach; leave out --tiles"
        )
    return source_of(config)


def _leaders(usernames: Sequence[str]) -> list[tuple[Any, list[Grid]]]:
    """(user, their grids) for the named grid leaders, or every active grid leader with a grid."""
    users = get_user_model().objects.select_related("profile")
    if usernames:
        chosen = []
        for username in dict.fromkeys(usernames):
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(f"unknown user: {username!r}")
            if role_of(user) != Role.GRID_LEADER:
                raise CommandError(f"{username!r} is not a grid leader")
            chosen.append(user)
    else:
        chosen = list(users.filter(is_active=True, profile__role=Role.GRID_LEADER).order_by("username"))
    leaders = [(u, list(grids_visible_to(u).order_by("code"))) for u in chosen]
    if usernames and (empty := [u.get_username() for u, grids in leaders if not grids]):
        raise CommandError(f"grid leader(s) with no grid: {', '.join(empty)}")
    return [(u, grids) for u, grids in leaders if grids]


def _writable(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".export_maps.{secrets.token_hex(4)}.probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise CommandError(f"cannot write into {out}: {e.strerror or e}") from e
    return out


def file_names(usernames: Sequence[str]) -> list[str]:
    """A safe, distinct file stem per username (Django allows ``.`` and ``..`` as usernames)."""
    stems = [re.sub(r"[^\w@+-]", "_", name) or "_" for name in usernames]
    clashes = {s for s in stems if stems.count(s) > 1}
    return [f"{s}-{i}" if s in clashes else s for i, s in enumerate(stems, 1)]


def write_geopackage(path: Path, frames: dict[str, Any]) -> dict[str, int]:
    """Every GeoDataFrame in ``frames`` as layers of one geometry type each (``layers.io``)
    in a new GeoPackage; returns rows per layer."""
    import pyogrio

    from layers.io import split_by_geometry, write_geopackage_layers

    counts: dict[str, int] = {}

    def write(tmp: Path) -> None:
        counts.update(write_geopackage_layers(tmp, split_by_geometry(frames)))

    # SQLite's own syncs per statement are not needed: the finished file is synced once, then renamed
    previous = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        atomic_write(path, write)
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": previous})
    return counts


def write_shapefiles(path: Path, frames: dict[str, Any]) -> dict[str, int]:
    """The same layers as zipped Shapefiles (UTF-8, ``.cpg``); returns rows per layer."""
    from layers.io import split_by_geometry, write_shapefile_zip

    counts: dict[str, int] = {}
    atomic_write(path, lambda tmp: counts.update(write_shapefile_zip(tmp, split_by_geometry(frames))))
    return counts
