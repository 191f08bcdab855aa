"""What a grid map shows, as GeoDataFrames (EPSG:4326), for grids the user may already see."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
from django.db.models import F

from gridmap.core.gdf import to_gdf
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Grid
from gridmap.problems.models import Problem


def area_layers(grids: Sequence[Grid]) -> dict[str, gpd.GeoDataFrame]:
    """Boundary, buildings, facilities and problems of one or more grids (already scoped).

    Buildings and problems are those assigned to the grids; facilities those whose geometry
    touches one of them (a tactile-paving line crossing a grid counts).
    """
    ids = [g.pk for g in grids]
    boundary = to_gdf(Grid.objects.filter(pk__in=ids).order_by("code"), ["code", "name"])
    buildings = to_gdf(Building.objects.filter(grid__in=ids), ["id", "address", "use", "floors", "population"])
    area = _union(grids)
    facilities = to_gdf(
        Facility.objects.filter(geom__intersects=area).annotate(kind_code=F("kind__code")),
        ["id", "kind_code", "name", "condition"],
    ).rename(columns={"kind_code": "kind"})
    problems = to_gdf(
        Problem.objects.filter(grid__in=ids).annotate(
            category_code=F("category__code"), category_name=F("category__name")
        ),
        ["id", "category_code", "category_name", "status", "reported_at", "description"],
    ).rename(columns={"category_code": "category"})
    return {"boundary": boundary, "buildings": buildings, "facilities": facilities, "problems": problems}


def grid_layers(grid: Grid) -> dict[str, gpd.GeoDataFrame]:
    """:func:`area_layers` of one grid."""
    return area_layers([grid])


def _union(grids: Sequence[Grid]):
    union = grids[0].geom
    for g in grids[1:]:
        union = union.union(g.geom)
    return union


def facility_kinds() -> dict[str, dict[str, str]]:
    geom = {"Point": "point", "LineString": "line", "Polygon": "polygon"}
    return {
        k.code: {"name": k.name, "color": k.color, "geom": geom[k.geom_type]}
        for k in FacilityKind.objects.all()
    }
