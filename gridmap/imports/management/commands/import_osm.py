"""Import an OpenStreetMap extract (.osm.pbf): buildings, the campaign's facilities, streets.

Keys are OSM ids ("osm:way/123"), so importing a newer extract updates in place.
Dry run unless --commit; a commit writes everything in one transaction or nothing.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from pyrosm.exceptions import PBFException

from gridmap.imports.core import ImportRefused, ImportReport, import_frames
from gridmap.imports.targets import Lookups
from layers.io import read_osm


class Command(BaseCommand):
    help = (
        "Import buildings, bins, recycling, refuse points, hydrants, parking, tactile paving, "
        "lowered kerbs, toilets and walkable streets from an .osm.pbf file; dry run by default."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--strict", action="store_true", help="write nothing if any row is rejected")
        parser.add_argument("--commit", action="store_true", help="write to the database (default: dry run)")

    def handle(self, *args, **opts):
        path = Path(opts["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            result = read_osm(path)
        except (ValueError, OSError, RuntimeError, PBFException) as exc:
            raise CommandError(f"cannot read {path.name}: {exc}") from None
        report = ImportReport()
        for kind, row, reason in _rejections(result.rejected):
            report.counts[kind]["read"] += 1
            report.reject(kind, row, reason)
        kinds = Lookups.load().kinds
        groups: dict[str, dict] = {"streets": {}, "buildings": {}, "facilities": {}}
        for kind, frame in result.frames.items():
            if kind in groups:
                groups[kind][kind] = frame
            elif kind in kinds:
                groups["facilities"][kind] = frame
            else:
                self.stderr.write(f"skipping {kind}: not a facility kind in the catalogue")
        try:
            with transaction.atomic():
                for target in ("streets", "buildings", "facilities"):
                    if groups[target]:
                        import_frames(
                            target,
                            groups[target],
                            source="",
                            key_column="source_key",
                            commit=opts["commit"],
                            strict=opts["strict"],
                            report=report,
                        )
        except ImportRefused as exc:
            report.committed = False
            raise CommandError(str(exc)) from None
        finally:
            self.stdout.write(f"read {path.name}")
            self.stdout.write("\n".join(report.lines()))


def _rejections(rejected):
    """Reader rejections as (kind, row, reason), whatever tuple shape the reader gives."""
    for item in rejected:
        if len(item) == 3:
            yield item
        else:
            row, reason = item
            yield "osm", row, reason
