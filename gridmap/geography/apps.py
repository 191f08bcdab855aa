from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeographyConfig(AppConfig):
    name = "gridmap.geography"
    label = "geography"
    verbose_name = _("geography")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from gridmap.geography.stamp import install_after_migrate

        # The area stamp's triggers exist after every migrate (see gridmap.geography.stamp).
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="geography-area-stamp")
