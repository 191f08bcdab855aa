from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalysisConfig(AppConfig):
    name = "gridmap.analysis"
    label = "analysis"
    verbose_name = _("analysis")

    def ready(self) -> None:
        from gridmap.analysis import signals

        signals.connect()
