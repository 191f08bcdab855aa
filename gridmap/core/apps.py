from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gridmap.core"
    label = "core"
