"""One converter from querysets to GeoDataFrames (EPSG:4326), used by every analysis path."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd
import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.db.models import QuerySet


def to_gdf(queryset: QuerySet, fields: Sequence[str], *, geom_field: str = "geom") -> gpd.GeoDataFrame:
    """Rows of ``queryset`` as a GeoDataFrame with ``fields`` as columns.

    The geometry travels as WKB straight from the database (no GEOS object per row). A stored
    invalid geometry (a bow-tie written before the input checks, or by SQL) is repaired here
    with ``make_valid``, so no analysis or map meets it.
    """
    rows = list(queryset.annotate(_wkb=AsWKB(geom_field)).values_list(*fields, "_wkb"))
    frame = pd.DataFrame([r[:-1] for r in rows], columns=list(fields))
    geoms = shapely.from_wkb([bytes(r[-1]) if r[-1] is not None else None for r in rows])
    if len(geoms):
        invalid = ~shapely.is_missing(geoms) & ~shapely.is_valid(geoms)
        if invalid.any():
            geoms[invalid] = shapely.make_valid(geoms[invalid])
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")
