from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "gridmap.api"
    label = "api"
    verbose_name = _("api")

    def ready(self) -> None:
        from gridmap.api.codebook import register_defaults

        register_defaults()
