"""What a grid map shows, as GeoDataFrames (EPSG:4326), for a grid the user may already see."""

from __future__ import annotations

import geopandas as gpd
from django.db.models import F

from gridmap.core.gdf import to_gdf
from gridmap.facilities.models import Facility, FacilityKind
from gridmap.geography.models import Building, Grid
from gridmap.problems.models import Problem


def grid_layers(grid: Grid) -> dict[str, gpd.GeoDataFrame]:
    """Boundary, buildings, facilities and problems of one grid.

    Buildings and problems are those assigned to the grid; facilities those whose geometry
    touches it (a tactile-paving line crossing the grid counts).
    """
    boundary = to_gdf(Grid.objects.filter(pk=grid.pk), ["code", "name"])
    buildings = to_gdf(Building.objects.filter(grid=grid), ["id", "address", "use", "floors", "population"])
    facilities = to_gdf(
        Facility.objects.filter(geom__intersects=grid.geom).annotate(kind_code=F("kind__code")),
        ["id", "kind_code", "name", "condition"],
    ).rename(columns={"kind_code": "kind"})
    problems = to_gdf(
        Problem.objects.filter(grid=grid).annotate(
            category_code=F("category__code"), category_name=F("category__name")
        ),
        ["id", "category_code", "category_name", "status", "reported_at", "description"],
    ).rename(columns={"category_code": "category"})
    return {"boundary": boundary, "buildings": buildings, "facilities": facilities, "problems": problems}


def facility_kinds() -> dict[str, dict[str, str]]:
    geom = {"Point": "point", "LineString": "line", "Polygon": "polygon"}
    return {
        k.code: {"name": k.name, "color": k.color, "geom": geom[k.geom_type]}
        for k in FacilityKind.objects.all()
    }
