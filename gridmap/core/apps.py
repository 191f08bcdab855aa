from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gridmap.core"
    label = "core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django.utils.module_loading import autodiscover_modules

        from gridmap.core import checks  # noqa: F401 -- registers the deploy checks
        from gridmap.core.stamp_sql import install_after_migrate

        # Each app's ``stamps`` module declares the tables behind its change stamps
        # (gridmap.core.stamps); their triggers exist after every migrate.
        autodiscover_modules("stamps")
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="core-change-stamps")
        _database_deadlines()


def _database_deadlines() -> None:
    """On PostGIS the client gives up on a database that does not answer (gridmap.core.dbwait)."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgis"):
        from gridmap.core import dbwait

        dbwait.install(settings.GRIDMAP_DB_CONNECT_TIMEOUT, settings.GRIDMAP_DB_STATEMENT_TIMEOUT)
