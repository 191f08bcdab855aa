"""Report grid-quality findings: gaps, overlaps, slivers, odd areas, missing leaders, bad codes."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F

from gridmap.core.gdf import to_gdf
from gridmap.geography.models import Community, Grid
from layers.grids import check_grids


class Command(BaseCommand):
    help = "Check unit grids against their communities (gaps, overlaps, slivers, area norm, leaders, codes)."

    def add_arguments(self, parser):
        parser.add_argument("--community", help="12-digit community code (default: all)")
        parser.add_argument("--norm-area-m2", type=float, default=10_000)
        parser.add_argument("--format", choices=["text", "geojson"], default="text")

    def handle(self, *args, **opts):
        grids = Grid.objects.annotate(
            community_code=F("community__code"), leader=F("first_responsible__username")
        )
        communities = Community.objects.filter(geom__isnull=False)
        if opts["community"]:
            if not communities.filter(code=opts["community"]).exists():
                raise CommandError(f"no community with code {opts['community']!r}")
            grids = grids.filter(community__code=opts["community"])
            communities = communities.filter(code=opts["community"])
        findings = check_grids(
            to_gdf(grids, ["code", "community_code", "leader"]),
            to_gdf(communities, ["code"]),
            norm_area_m2=opts["norm_area_m2"],
        )
        if opts["format"] == "geojson":
            self.stdout.write(json.dumps(json.loads(findings.to_json(drop_id=True)), ensure_ascii=False))
            return
        self.stdout.write(f"{len(findings)} findings in {grids.count()} grids")
        for row in findings.itertuples():
            self.stdout.write(
                f"  {row.kind:<22} {row.grid_code or row.community_code or '':<16} {row.detail}"
            )
