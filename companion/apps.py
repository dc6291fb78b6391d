from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CompanionConfig(AppConfig):
    name = "companion"

    def ready(self):
        from . import signals  # noqa: F401
        from .triggers import install_after_migrate

        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="rows-version")
