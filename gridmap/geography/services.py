"""Writes of areas: after grids change, what lies in them follows."""

from __future__ import annotations

import geopandas as gpd
import shapely
from django.db import transaction

from gridmap.core.gdf import to_gdf
from gridmap.facilities.models import Facility
from gridmap.geography.models import Building, Community, Grid
from gridmap.problems.models import Problem
from layers.assign import assign_areas


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
