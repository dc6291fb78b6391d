from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class PagecacheConfig(AppConfig):
    """Whole pages cached per viewer, and the database triggers their keys rely on."""

    name = "pagecache"

    def ready(self):
        from .triggers import install_after_migrate

        # After companion's tables (the ones the triggers watch) are migrated.
        companion = apps.get_app_config("companion")
        post_migrate.connect(install_after_migrate, sender=companion, dispatch_uid="rows-version")
