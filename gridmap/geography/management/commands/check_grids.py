"""Report grid-quality findings: gaps, overlaps, slivers, odd areas, missing leaders, bad codes."""

from django.core.management.base import CommandError

from gridmap.core.management.cli import NoWebCommand


class Command(NoWebCommand):
    help = "Check unit grids against their communities (gaps, overlaps, slivers, area norm, leaders, codes)."

    def add_arguments(self, parser):
        parser.add_argument("--community", help="12-digit community code (default: all)")
        parser.add_argument("--norm-area-m2", type=float, default=10_000)
        parser.add_argument("--format", choices=["text", "geojson"], default="text")

    def handle(self, *args, **opts):
        from gridmap.geography.quality import grids_check

        try:
            findings, checked = grids_check(opts["community"], norm_area_m2=opts["norm_area_m2"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if opts["format"] == "geojson":
            from layers.io import collection, dumps, frame_features  # geopandas: only when written

            written = frame_features(findings)  # the one GeoJSON writer (RFC 7946 winding)
            doc = collection(written.features, dropped_empty=written.dropped_empty)
            self.stdout.write(dumps(doc).decode())
            return
        self.stdout.write(f"{len(findings)} findings in {checked} grids")
        for row in findings.itertuples():
            self.stdout.write(
                f"  {row.kind:<22} {row.grid_code or row.community_code or '':<16} {row.detail}"
            )
