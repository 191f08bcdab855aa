"""Partition a community without a grid layer into unit grids along its street blocks."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from shapely import from_wkb

from gridmap.core.gdf import to_gdf
from gridmap.core.geoinput import geos_from_shapely
from gridmap.geography.models import Building, Community, Grid, Street
from gridmap.geography.services import community_reassign
from layers.grids import partition_community


class Command(BaseCommand):
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
        community = Community.objects.filter(code=opts["community"]).first()
        if community is None or community.geom is None:
            raise CommandError(f"no community with a boundary and code {opts['community']!r}")
        existing = Grid.objects.filter(community=community)
        if existing.exists() and not opts["replace"]:
            raise CommandError(
                f"{community} already has {existing.count()} grids; use --replace to redo them"
            )
        boundary = from_wkb(bytes(community.geom.wkb))
        streets = to_gdf(Street.objects.filter(geom__intersects=community.geom), ["highway"])
        buildings = to_gdf(Building.objects.filter(geom__intersects=community.geom), ["households"])
        grids = partition_community(
            boundary, streets, buildings, community_code=community.code, target_area_m2=opts["target_area_m2"]
        )
        for row in grids.itertuples():
            self.stdout.write(
                f"  {row.code} {row.name} {row.area_m2:>9.0f} m² {row.households:>5} households"
            )
        self.stdout.write(
            f"{len(grids)} grids for {community.name}" + ("" if opts["commit"] else " (dry run)")
        )
        if not opts["commit"]:
            return
        with transaction.atomic():
            existing.delete()
            Grid.objects.bulk_create(
                Grid(
                    code=r.code,
                    name=r.name,
                    community=community,
                    area_m2=r.area_m2,
                    geom=geos_from_shapely(r.geometry, multi=True),
                )
                for r in grids.itertuples()
            )
            moved = community_reassign(community)
        self.stdout.write(f"committed; {moved} buildings, facilities and problems moved to their new grids")
