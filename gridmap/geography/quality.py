"""Grid quality from the database: gaps, overlaps, slivers, odd areas, missing leaders, bad codes."""

from __future__ import annotations

import geopandas as gpd
from django.db.models import F

from gridmap.core.gdf import to_gdf
from gridmap.geography.models import Community, Grid
from layers.grids import check_grids


def grids_check(
    community: str | None = None, *, norm_area_m2: float = 10_000
) -> tuple[gpd.GeoDataFrame, int]:
    """The findings of ``layers.grids.check_grids`` over every grid, or one community's (by code),
    and how many grids were checked. Raises ValueError for an unknown community."""
    grids = Grid.objects.annotate(
        community_code=F("community__code"), leader=F("first_responsible__username")
    )
    communities = Community.objects.filter(geom__isnull=False)
    if community:
        if not communities.filter(code=community).exists():
            raise ValueError(f"no community with code {community!r}")
        grids = grids.filter(community__code=community)
        communities = communities.filter(code=community)
    findings = check_grids(
        to_gdf(grids, ["code", "community_code", "leader"]),
        to_gdf(communities, ["code"]),
        norm_area_m2=norm_area_m2,
    )
    return findings, grids.count()
