from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignConfig(AppConfig):
    name = "gridmap.campaign"
    label = "campaign"
    verbose_name = _("campaign")

    def ready(self) -> None:
        from gridmap.campaign import hooks

        hooks.connect()
