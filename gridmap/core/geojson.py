"""GeoJSON written by the database, by the rule of ``layers.io.geojson`` (RFC 7946).

``geojson_column`` is the one expression every list uses to have the database write a geometry
as GeoJSON: polygons wound by the right-hand rule (``ST_ForcePolygonCCW``: exterior rings
counter-clockwise, holes clockwise; PostGIS and SpatiaLite 5 both have it) whatever winding they
were stored with. Orienting in SQL costs next to nothing where orienting in Python costs a parse
per polygon (see ``layers.io.geojson``); ``tests/core/test_geojson_rule.py`` holds the two equal
on both databases.
"""

from __future__ import annotations

from typing import Any

from django.contrib.gis.db.models.functions import AsGeoJSON, GeoFunc

PRECISION = 8  # decimal places of degrees: about 1 mm


class RightHandPolygons(GeoFunc):
    """Polygons wound by RFC 7946's right-hand rule; other geometries unchanged. Only polygonal
    geometries go through ``ST_ForcePolygonCCW``: PostGIS defines it as
    ``ST_Reverse(ST_ForcePolygonCW(g))``, which would reverse a line."""

    function = "ST_ForcePolygonCCW"
    template = "CASE WHEN ST_Dimension(%(expressions)s) = 2 THEN %(function)s(%(expressions)s) ELSE %(expressions)s END"
    arity = 1


def geojson_column(field: Any = "geom", *, precision: int = PRECISION) -> AsGeoJSON:
    """The geometry ``field`` (a name or an expression) as RFC 7946 GeoJSON text, written by the
    database; NULL for a NULL geometry."""
    return AsGeoJSON(RightHandPolygons(field), precision=precision)
