"""The inspection points as the maps draw them (EPSG:4326 frames), for grids already scoped to
the user: a leader's map shows the points in their grids, a community's map those in its grids."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
from django.db.models import F

from gridmap.campaign.models import InspectionPoint, PointType
from gridmap.core.gdf import to_gdf
from gridmap.core.language import english
from gridmap.geography.models import Grid


def points_frame(grids: Sequence[Grid]) -> gpd.GeoDataFrame:
    """Columns ``type`` (code), ``name``, ``type_name`` (in the active language), ``department``."""
    type_name = F("type__name_en") if english() else F("type__name")
    rows = (
        InspectionPoint.objects.filter(grid__in=[g.pk for g in grids], active=True)
        .order_by("pk")
        .annotate(type_code=F("type__code"), type_label=type_name, department_name=F("department__name"))
    )
    frame = to_gdf(rows, ["id", "type_code", "name", "type_label", "department_name"])
    frame = frame.rename(
        columns={"type_code": "type", "type_label": "type_name", "department_name": "department"}
    )
    if english() and len(frame):  # a type with no English name keeps its own
        names = dict(PointType.objects.values_list("code", "name"))
        frame["type_name"] = [
            n or names.get(c, c) for n, c in zip(frame["type_name"], frame["type"], strict=True)
        ]
    return frame


def point_types() -> dict[str, dict[str, str]]:
    """Type code → its name (active language) and map colour, in the catalogue's order."""
    return {
        t.code: {"name": t.local_name, "color": t.color} for t in PointType.objects.order_by("order", "code")
    }
