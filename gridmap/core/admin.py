from django.contrib.gis import admin

from gridmap.core.widgets import OfflineMapWidget


class MapAdmin(admin.GISModelAdmin):
    """Base admin for models with a geometry: the offline map widget."""

    gis_widget = OfflineMapWidget
