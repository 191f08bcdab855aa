from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "gridmap.notifications"
    label = "notifications"
    verbose_name = _("notifications")

    def ready(self) -> None:
        from gridmap.notifications import hooks

        hooks.connect()
