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

from layers.validate import BBox, GeometryInputError, check_geojson_geometry, check_lonlat, check_valid

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


def geometry_from_geojson(obj: Any, *, allowed_types: set[str]) -> GEOSGeometry:
    """A checked, valid GEOS geometry from a GeoJSON geometry dict (EPSG:4326)."""
    try:
        clean = check_geojson_geometry(obj, allowed_types=allowed_types, area=service_area())
        geom = check_valid(shapely.geometry.shape(clean))
    except GeometryInputError as exc:
        raise as_validation_error(exc) from None
    return geos_from_shapely(geom)


def geos_from_shapely(geom: Any, *, multi: bool = False) -> GEOSGeometry:
    """GEOS geometry (SRID 4326) from an already checked shapely geometry, via WKB (no WKT)."""
    out = GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=4326)
    if multi and isinstance(out, Polygon):
        out = MultiPolygon(out, srid=4326)
    return out
