"""The one form field for geometry typed or drawn by people (the admin's map widget).

Django's own geometry field hands the posted text to GEOS (and, for GeoJSON, to GDAL) before
anything is checked: a polygon holding 1e308 aborts the process in GEOS 3.11, a bow-tie or an
empty geometry is stored, a ``crs`` member silently changes the meaning of the numbers. This
field parses the text into raw numbers and runs the checks every other door runs
(:func:`gridmap.core.geoinput.geometry_from_text`) before any GEOS object is built.
"""

from __future__ import annotations

from typing import Any

from django.contrib.gis import forms as gis_forms
from django.contrib.gis.db.models import GeometryField as GeometryDbField
from django.contrib.gis.geos import GEOSGeometry
from django.forms import Field

from gridmap.core.geoinput import geometry_from_text
from gridmap.core.widgets import OfflineMapWidget
from layers.validate import GEOMETRY_DEPTH

# The GeoJSON types a field of each OGC type takes; a single part is stored as its Multi type.
ACCEPTED = {
    "POINT": {"Point"},
    "LINESTRING": {"LineString"},
    "POLYGON": {"Polygon"},
    "MULTIPOINT": {"Point", "MultiPoint"},
    "MULTILINESTRING": {"LineString", "MultiLineString"},
    "MULTIPOLYGON": {"Polygon", "MultiPolygon"},
    "GEOMETRY": set(GEOMETRY_DEPTH),
}


class CheckedGeometryField(gis_forms.GeometryField):
    """A geometry form field whose text is checked as raw numbers first; EPSG:4326 out.

    GeoJSON and WKT without ``SRID=`` are read in the widget's map SRID (EPSG:3857 for the
    admin's map, as Django's widget posts them); ``SRID=4326;`` EWKT is read as lon/lat.
    """

    def __init__(self, *, srid: int | None = 4326, geom_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(srid=srid, geom_type=geom_type, **kwargs)
        if self.geom_type not in ACCEPTED:
            raise ValueError(f"no checked field for geometry type {self.geom_type}")
        if self.srid not in (None, 4326):
            raise ValueError("checked geometry fields store EPSG:4326")

    def to_python(self, value: Any) -> GEOSGeometry | None:
        if isinstance(value, str):
            value = value.strip()
        if value in self.empty_values:
            return None
        if isinstance(value, GEOSGeometry):  # a stored value (the form's initial data)
            return value
        return geometry_from_text(
            value,
            allowed_types=ACCEPTED[self.geom_type],
            default_srid=getattr(self.widget, "map_srid", 4326),
            multi=self.geom_type.startswith("MULTI"),
        )

    def clean(self, value: Any) -> GEOSGeometry | None:
        # Type, validity and SRID are settled by to_python; Django's own clean would build again.
        return Field.clean(self, value)


class CheckedGeometryAdminMixin:
    """For ModelAdmins and inlines: every geometry field uses :class:`CheckedGeometryField` with
    the offline map widget (``gis_widget``)."""

    gis_widget: Any = None
    gis_widget_kwargs: dict[str, Any] = {}

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if isinstance(db_field, GeometryDbField):
            widget = self.gis_widget or OfflineMapWidget
            kwargs["widget"] = widget(**self.gis_widget_kwargs)
            return db_field.formfield(form_class=CheckedGeometryField, **kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
