from __future__ import annotations

from django.apps import AppConfig


class VmopsConfig(AppConfig):
    name = "vmops"
    verbose_name = "VM operations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from vmops.schedules import ensure_schedules_after_migrate

        post_migrate.connect(
            ensure_schedules_after_migrate, sender=self, dispatch_uid="vmops.ensure_schedules"
        )
