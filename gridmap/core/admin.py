from django.contrib.gis import admin

from gridmap.core.geofields import CheckedGeometryAdminMixin
from gridmap.core.widgets import OfflineMapWidget


class MapAdmin(CheckedGeometryAdminMixin, admin.GISModelAdmin):
    """Base admin for models with a geometry: the offline map widget, and geometry text checked
    as raw numbers before any GEOS object is built (:mod:`gridmap.core.geofields`)."""

    gis_widget = OfflineMapWidget


class MapInline(CheckedGeometryAdminMixin):
    """Mixed into an inline whose model has a geometry field (``class X(MapInline, TabularInline)``)."""

    gis_widget = OfflineMapWidget
