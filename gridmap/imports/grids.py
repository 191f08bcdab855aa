"""Writes of a community's grids: generated grids replace the old ones, and what lies in them follows.

Here, with the import engine, because re-assigning a grid writes buildings, facilities and
problems alike, and this app already writes every kind of row: no app below it imports it.
"""

from __future__ import annotations

import geopandas as gpd
import shapely
from django.db import transaction
from shapely import from_wkb

from gridmap.core.gdf import to_gdf
from gridmap.core.geoinput import geos_from_shapely
from gridmap.facilities.models import Facility
from gridmap.geography.models import Building, Community, Grid, Street
from gridmap.problems.models import Problem
from layers.assign import assign_areas
from layers.grids import partition_community


def grids_generate(community: Community, *, target_area_m2: float) -> gpd.GeoDataFrame:
    """The community cut into unit grids along its streets, balancing households (nothing written)."""
    boundary = from_wkb(bytes(community.geom.wkb))
    streets = to_gdf(Street.objects.filter(geom__intersects=community.geom), ["highway"])
    buildings = to_gdf(Building.objects.filter(geom__intersects=community.geom), ["households"])
    return partition_community(
        boundary, streets, buildings, community_code=community.code, target_area_m2=target_area_m2
    )


@transaction.atomic
def grids_replace(community: Community, grids: gpd.GeoDataFrame) -> int:
    """Replace the community's grids with ``grids`` (from :func:`grids_generate`) and move what
    lies in them to their new grids; returns how many rows moved."""
    Grid.objects.filter(community=community).delete()
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
    return community_reassign(community)


@transaction.atomic
def community_reassign(community: Community) -> int:
    """Re-derive the grid of every building, facility and problem in a community (same rule as
    intake: the smallest code among the grids touching the representative point); returns how
    many rows changed."""
    grids = to_gdf(Grid.objects.filter(community=community), ["code", "id"])
    ids = dict(zip(grids["code"], grids["id"], strict=True))
    changed = 0
    for model, scope in (
        (Building, Building.objects.filter(community=community)),
        (Problem, Problem.objects.filter(community=community)),
        (Facility, Facility.objects.filter(geom__intersects=community.geom)),
    ):
        rows = to_gdf(scope, ["id", "grid_id"])
        if rows.empty:
            continue
        points = gpd.GeoSeries(shapely.point_on_surface(rows.geometry.values), crs="EPSG:4326")
        codes = assign_areas(points, grids)
        updates = []
        for pk, old, code in zip(rows["id"], rows["grid_id"], codes, strict=True):
            new = ids.get(code) if code else None
            if (None if old != old else old) != new:
                updates.append(model(pk=int(pk), grid_id=new))
        model.objects.bulk_update(updates, ["grid_id"], batch_size=500)
        changed += len(updates)
    return changed
