from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenStepsConfig(AppConfig):
    name = "gridmap.tensteps"
    label = "tensteps"
    verbose_name = _("the community's ten steps")
