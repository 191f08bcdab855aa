"""Import a vector file into grids, buildings, facilities, problems, streets or regions.

Dry run unless --commit; a commit writes every accepted row in one transaction or nothing.
Exit codes: 0 every row accepted; 1 nothing written (refused by --strict, stopped by Ctrl-C, or
the file cannot be read); 3 some rows rejected (with --commit, every other row was written).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from django.core.management.base import CommandError

from gridmap.core.management.cli import NoWebCommand
from gridmap.imports.targets import TARGETS

if TYPE_CHECKING:
    from gridmap.imports.core import ImportReport


class Command(NoWebCommand):
    help = (
        "Import GeoPackage, Shapefile (also zipped), GeoJSON or CSV (lon/lat) in any CRS; dry run by default. "
        "Exit 0: all rows accepted; 1: nothing written (refused, stopped, unreadable); 3: rows rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument("target", choices=sorted(TARGETS))
        parser.add_argument("path")
        parser.add_argument("--layer", help="layer name in a GeoPackage with several layers")
        parser.add_argument(
            "--kind", help="facility kind (facilities) or point type (inspection_points) for every row"
        )
        parser.add_argument("--srid", type=int, help="EPSG code when the file declares no CRS")
        parser.add_argument("--encoding", help="attribute encoding, e.g. GBK for a shapefile without .cpg")
        parser.add_argument("--key", help="column holding a stable id (default: id, fid, osm_id, 编号 …)")
        parser.add_argument("--source", help="label prefixed to keys (default: the file name)")
        parser.add_argument("--lon-col", help="CSV longitude column")
        parser.add_argument("--lat-col", help="CSV latitude column")
        parser.add_argument("--strict", action="store_true", help="write nothing if any row is rejected")
        parser.add_argument("--commit", action="store_true", help="write to the database (default: dry run)")

    def handle(self, *args, **opts):
        from gridmap.imports.core import EXIT_REFUSED
        from gridmap.imports.management.runner import import_outcome

        path = Path(opts["path"])
        if not path.exists():
            raise CommandError(f"no such file: {path}", returncode=EXIT_REFUSED)
        if opts["srid"] is not None and not 1024 <= opts["srid"] <= 999_999:
            raise CommandError(
                "--srid must be an EPSG code such as 4490, 4549 or 3857", returncode=EXIT_REFUSED
            )
        with import_outcome(self) as report:
            self.import_file(path, opts, report)

    def import_file(self, path: Path, opts: dict, report: ImportReport) -> None:
        from gridmap.imports.core import EXIT_REFUSED
        from gridmap.imports.files import import_file
        from layers.validate import GeometryInputError

        def opened(layer) -> None:
            self.stdout.write(f"read {path.name} (layer {layer.layer}, CRS {layer.source_crs})")

        try:
            import_file(
                path,
                target=opts["target"],
                report=report,
                commit=opts["commit"],
                strict=opts["strict"],
                layer=opts["layer"],
                srid=opts["srid"],
                encoding=opts["encoding"],
                kind=opts["kind"],
                key=opts["key"],
                source=opts["source"],
                lon_col=opts["lon_col"],
                lat_col=opts["lat_col"],
                progress=self.progress if opts["verbosity"] >= 1 else None,
                opened=opened,
            )
        except (GeometryInputError, ValueError, OSError) as exc:
            # On opening, or a later batch the file's CRS decision does not fit: nothing written.
            raise CommandError(str(exc), returncode=EXIT_REFUSED) from None

    def progress(self, done: int, total: int | None, message: str = "") -> None:
        """One line per batch on stderr (the report stays alone on stdout)."""
        share = f" ({done / total:.0%})" if total else ""
        self.stderr.write(f"  {done:,}{f' / {total:,}' if total else ''} rows{share}: {message}")
