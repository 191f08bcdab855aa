"""Django side of raw geometry checks: build GEOS objects only from checked numbers.

``layers.validate`` does the checking on plain Python numbers; this module adds the configured
service area, turns failures into ValidationError with a translatable message, and builds the
GEOS geometry last.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from layers.validate import (
    GEOMETRY_DEPTH,
    BBox,
    GeometryInputError,
    check_geojson_geometry,
    check_lonlat,
    check_valid,
    parse_geometry_text,
)

MESSAGES = {
    "not_number": _("Coordinates must be numbers."),
    "not_finite": _("Coordinates must be finite numbers."),
    "lon_range": _("Longitude must be between -180 and 180."),
    "lat_range": _("Latitude must be between -90 and 90."),
    "swapped": _("Longitude and latitude look swapped."),
    "outside_area": _("The position is outside the service area."),
    "crs_member": _("A GeoJSON crs member is not accepted; send WGS84 (EPSG:4326) coordinates."),
    "invalid": _("The geometry is not valid (for example, it crosses itself)."),
    "empty": _("The geometry is empty."),
    "wrong_type": _("This geometry type is not accepted here."),
    "malformed": _("The geometry cannot be read; send GeoJSON or WKT."),
    "too_large": _("The geometry text is too long."),
    "too_deep": _("The geometry is nested too deeply."),
    "too_many_vertices": _("The geometry has too many vertices."),
    "srid": _("Coordinates must be WGS84 (EPSG:4326) or the map's Web Mercator (EPSG:3857)."),
    "mercator_range": _("The position is outside the map."),
    "not_object": _("The geometry must be a GeoJSON geometry object."),
    "bad_type": _("This geometry type is not supported."),
    "bad_shape": _("The coordinates are not nested as the geometry type requires."),
    "bad_position": _("A position must have two or three numbers."),
    "short_ring": _("A polygon ring needs at least four positions."),
    "open_ring": _("A polygon ring must end where it starts."),
    "short_line": _("A line needs at least two positions."),
}


@lru_cache(maxsize=1)
def _area(raw: str | None) -> BBox | None:
    return BBox.parse(raw) if raw else None


def service_area() -> BBox | None:
    return _area(settings.GRIDMAP["SERVICE_AREA"])


def as_validation_error(exc: GeometryInputError) -> ValidationError:
    message = MESSAGES.get(exc.code)
    text = f"{message} ({exc})" if message else str(exc)
    return ValidationError(text, code=exc.code)


def point_from_lonlat(lon: Any, lat: Any) -> Point:
    """A checked WGS84 point; raises ValidationError before any GEOS object exists."""
    try:
        x, y = check_lonlat(lon, lat, area=service_area())
    except GeometryInputError as exc:
        raise as_validation_error(exc) from None
    return Point(x, y, srid=4326)


def geometry_from_geojson(
    obj: Any, *, allowed_types: set[str], srid: int = 4326, multi: bool = False
) -> GEOSGeometry:
    """A checked, valid GEOS geometry (EPSG:4326) from a GeoJSON geometry dict in ``srid``.

    ``multi`` stores a single Polygon, LineString or Point as its Multi type (one part).
    """
    try:
        clean = check_geojson_geometry(obj, allowed_types=allowed_types, area=service_area(), srid=srid)
        geom = check_valid(shapely.geometry.shape(clean))
    except GeometryInputError as exc:
        raise as_validation_error(exc) from None
    if multi and not geom.geom_type.startswith("Multi"):
        geom = MULTI[geom.geom_type]([geom])
    return geos_from_shapely(geom)


def geometry_from_text(
    text: Any, *, allowed_types: set[str] | None = None, default_srid: int = 4326, multi: bool = False
) -> GEOSGeometry:
    """A checked, valid GEOS geometry (EPSG:4326) from GeoJSON or (E)WKT text, as forms and the
    admin's map post it: the text is parsed into raw numbers and checked like every other door
    before any GEOS object exists. ``default_srid`` is the SRID of GeoJSON and of WKT without
    ``SRID=`` (the admin map posts EPSG:3857)."""
    try:
        obj, srid = parse_geometry_text(text, default_srid=default_srid)
    except GeometryInputError as exc:
        raise as_validation_error(exc) from None
    allowed = set(GEOMETRY_DEPTH) if allowed_types is None else allowed_types
    return geometry_from_geojson(obj, allowed_types=allowed, srid=srid, multi=multi)


MULTI = {
    "Point": shapely.MultiPoint,
    "LineString": shapely.MultiLineString,
    "Polygon": shapely.MultiPolygon,
}


def geos_from_shapely(geom: Any, *, multi: bool = False) -> GEOSGeometry:
    """GEOS geometry (SRID 4326) from an already checked shapely geometry, via WKB (no WKT)."""
    out = GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=4326)
    if multi and isinstance(out, Polygon):
        out = MultiPolygon(out, srid=4326)
    return out
