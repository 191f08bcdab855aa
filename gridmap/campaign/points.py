"""Writing inspection points one at a time (the admin, the demo): placed by the location rule.
Files go through the import engine (target ``inspection_points``), which places them in batch by
the same rule (``layers.assign``)."""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry

from gridmap.campaign.models import InspectionPoint
from gridmap.geography.selectors import community_for_point, grid_for_point


def representative_point(geom: GEOSGeometry) -> GEOSGeometry:
    """A point of the geometry (inside an area): where it is placed and where a walk stops."""
    return geom if geom.geom_type == "Point" else geom.point_on_surface


def point_place(point: InspectionPoint) -> InspectionPoint:
    """Set ``grid`` and ``community`` from where ``point`` lies (smallest grid code on a shared
    edge; no grid: the community holding it; neither: unassigned)."""
    where = representative_point(point.geom)
    grid = grid_for_point(where)
    point.grid = grid
    point.community_id = grid.community_id if grid else getattr(community_for_point(where), "pk", None)
    return point


def point_save(point: InspectionPoint) -> InspectionPoint:
    point_place(point)
    point.save()
    return point
