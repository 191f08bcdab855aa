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
    import geopandas as gpd

HELP = """Write one offline map per grid leader into --out DIR.

For each leader (every active grid leader with a grid, or those named by --leader):
  <username>.html  the leader map of their grids with Leaflet and every script and style inlined:
                   it opens from disk (file://) with no network. No background tiles unless
                   --tiles (then the configured XYZ or Tianditu source, which the reader's machine
                   must be able to reach; a folder or MBTiles source is served by this site and
                   cannot be used from a file).
  <username>.gpkg  a GeoPackage with one layer per map layer (boundary, buildings, facilities,
                   problems, ...), WGS84 (EPSG:4326), including empty layers with their columns.
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
            gpkg_path = folder / f"{name}.gpkg"
            try:
                atomic_write(html_path, lambda tmp, text=html: tmp.write_text(text, encoding="utf-8"))
                counts = write_geopackage(gpkg_path, area_layers(grids))
            except OSError as e:
                raise CommandError(f"cannot write into {folder}: {e}") from e
            layers = ", ".join(f"{k} {n}" for k, n in counts.items())
            self.stdout.write(
                f"{user.get_username()}: {len(grids)} grid(s) -> {html_path.name} "
                f"({html_path.stat().st_size // 1024} KB), {gpkg_path.name} ({layers})"
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
    """Every GeoDataFrame in ``frames`` as one layer of a new GeoPackage; returns rows per layer."""
    import geopandas as gpd
    import pyogrio

    counts: dict[str, int] = {}

    def write(tmp: Path) -> None:
        for key, frame in frames.items():
            if not isinstance(frame, gpd.GeoDataFrame):
                continue
            layer = layer_name(key, counts)
            pyogrio.write_dataframe(_for_gpkg(frame), tmp, layer=layer, driver="GPKG", append=bool(counts))
            counts[layer] = len(frame)

    # SQLite's own syncs per statement are not needed: the finished file is synced once, then renamed
    previous = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        atomic_write(path, write)
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": previous})
    return counts


def layer_name(key: str, taken: dict[str, int]) -> str:
    """A plain table name for a layer key (``facility:hydrant`` -> ``facility_hydrant``)."""
    base = re.sub(r"[^0-9A-Za-z_]", "_", str(key)).strip("_") or "layer"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _for_gpkg(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """WGS84, with object columns GeoPackage cannot type (lists, dicts, decimals) as text."""
    import pandas as pd

    out = frame.to_crs(4326) if frame.crs is not None and frame.crs.to_epsg() != 4326 else frame.copy()
    if out.crs is None:
        out = out.set_crs(4326)
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):  # GeoPackage stores times in UTC ("Z")
            out[column] = values.dt.tz_convert("UTC")
        if column == out.geometry.name or values.dtype != object:
            continue
        if not values.map(lambda v: v is None or isinstance(v, str | bool | int | float)).all():
            out[column] = values.map(lambda v: None if v is None or v is pd.NA else str(v))
    return out
