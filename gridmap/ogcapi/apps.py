from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OgcApiConfig(AppConfig):
    name = "gridmap.ogcapi"
    label = "ogcapi"
    verbose_name = _("OGC API – Features")
