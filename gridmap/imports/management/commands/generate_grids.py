"""Partition a community without a grid layer into unit grids along its street blocks."""

from django.core.management.base import CommandError

from gridmap.core.management.cli import NoWebCommand
from gridmap.geography.models import Community, Grid


class Command(NoWebCommand):
    help = (
        "Cut a community into ~10,000 m² unit grids along streets, balancing households; dry run by default."
    )

    def add_arguments(self, parser):
        parser.add_argument("community", help="12-digit community code")
        parser.add_argument("--target-area-m2", type=float, default=10_000)
        parser.add_argument(
            "--replace", action="store_true", help="delete the community's existing grids first"
        )
        parser.add_argument("--commit", action="store_true", help="write the grids (default: dry run)")

    def handle(self, *args, **opts):
        from gridmap.imports.grids import grids_generate, grids_replace

        community = Community.objects.filter(code=opts["community"]).first()
        if community is None or community.geom is None:
            raise CommandError(f"no community with a boundary and code {opts['community']!r}")
        existing = Grid.objects.filter(community=community).count()
        if existing and not opts["replace"]:
            raise CommandError(f"{community} already has {existing} grids; use --replace to redo them")
        grids = grids_generate(community, target_area_m2=opts["target_area_m2"])
        for row in grids.itertuples():
            self.stdout.write(
                f"  {row.code} {row.name} {row.area_m2:>9.0f} m² {row.households:>5} households"
            )
        self.stdout.write(
            f"{len(grids)} grids for {community.name}" + ("" if opts["commit"] else " (dry run)")
        )
        if opts["commit"]:
            moved = grids_replace(community, grids)
            self.stdout.write(
                f"committed; {moved} buildings, facilities and problems moved to their new grids"
            )
