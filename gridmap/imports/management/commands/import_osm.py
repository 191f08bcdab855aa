"""Import an OpenStreetMap extract (.osm.pbf): buildings, the campaign's facilities, streets.

Keys are OSM ids ("osm:way/123"), so importing a newer extract updates in place.
Dry run unless --commit; a commit writes everything in one transaction or nothing.
Exit codes as import_layer's: 0 all rows accepted, 1 nothing written, 3 some rows rejected.
"""

from pathlib import Path

from django.core.management.base import CommandError

from gridmap.core.management.cli import NoWebCommand


class Command(NoWebCommand):
    help = (
        "Import buildings, bins, recycling, refuse points, hydrants, parking, tactile paving, "
        "lowered kerbs, toilets and walkable streets from an .osm.pbf file; dry run by default."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--strict", action="store_true", help="write nothing if any row is rejected")
        parser.add_argument("--commit", action="store_true", help="write to the database (default: dry run)")

    def handle(self, *args, **opts):
        from pyrosm.exceptions import PBFException

        from gridmap.imports.core import EXIT_REFUSED
        from gridmap.imports.management.runner import import_outcome
        from gridmap.imports.osm import osm_import
        from layers.io import read_osm

        path = Path(opts["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}", returncode=EXIT_REFUSED)
        with import_outcome(self) as report:
            try:
                result = read_osm(path)
            except (ValueError, OSError, RuntimeError, PBFException) as exc:
                raise CommandError(f"cannot read {path.name}: {exc}", returncode=EXIT_REFUSED) from None
            self.stdout.write(f"read {path.name}")
            osm_import(
                result.frames,
                result.rejected,
                commit=opts["commit"],
                strict=opts["strict"],
                report=report,
                warn=self.stderr.write,
            )
