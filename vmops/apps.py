from __future__ import annotations

from django.apps import AppConfig


class VmopsConfig(AppConfig):
    name = "vmops"
    verbose_name = "VM operations"

    def ready(self) -> None:
        from contoso_images.core import schedules
        from contoso_images.operations import registry
        from vmops.specs import POWER_SPECS

        for spec in POWER_SPECS:
            registry.register(spec)
        schedules.register(
            "inventory-sync", "vmops.tasks.inventory_sync_scheduled", every="INVENTORY_SYNC_SECONDS"
        )
