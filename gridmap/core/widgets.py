"""An admin geometry widget that works with no internet.

Django's OpenLayers widgets load OpenLayers from a CDN and draw NASA or OSM tiles; ours loads
the vendored copy from our static files and uses the configured tile source, or none.

Text posted back (shown again beside a form error) is read through the same raw-number checks
as the form field; text that fails them shows an empty map, never reaches GEOS or GDAL.
"""

from django.conf import settings
from django.contrib.gis.forms.widgets import OpenLayersWidget
from django.core.exceptions import ValidationError

from gridmap.core.basemap import openlayers_tile_url
from gridmap.core.geoinput import geometry_from_text

OL = "vendor/ol-7.2.2"


class OfflineMapWidget(OpenLayersWidget):
    template_name = "gis/offline-openlayers.html"

    class Media:
        extend = False  # replace, not add to, the parent's CDN links
        css = {"all": (f"{OL}/ol.css", "gis/css/ol3.css")}
        js = (f"{OL}/ol.js", "gis/js/OLMapWidget.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["tile_url"] = openlayers_tile_url()  # WGS84 sources only; None: plain background
        lon, lat = settings.GRIDMAP["MAP_CENTER"]
        context.update(default_lon=lon, default_lat=lat)
        return context

    def deserialize(self, value):
        try:
            return geometry_from_text(value, default_srid=self.map_srid)
        except ValidationError:
            return None
