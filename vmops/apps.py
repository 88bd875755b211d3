from __future__ import annotations

from django.apps import AppConfig


class VmopsConfig(AppConfig):
    name = "vmops"
    verbose_name = "VM operations"

    def ready(self) -> None:
        from contoso_images.core import sync
        from contoso_images.operations import registry
        from vmops.services.inventory import INVENTORY_SYNC
        from vmops.specs import POWER_SPECS

        for spec in POWER_SPECS:
            registry.register(spec)
        sync.register(INVENTORY_SYNC)
