from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """The operation engine every app's Azure work runs on."""

    name = "contoso_images.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from contoso_images.core import schedules

        schedules.register(
            "operations-reconcile",
            "contoso_images.operations.tasks.reconcile_scheduled",
            every="RECONCILE_SECONDS",
        )
