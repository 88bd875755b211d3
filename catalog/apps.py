from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Image catalog"

    def ready(self) -> None:
        from catalog.specs import REVIEW_EFFECT_SPECS
        from contoso_images.core import schedules
        from contoso_images.operations import registry

        for spec in REVIEW_EFFECT_SPECS:
            registry.register(spec)
        schedules.register(
            "catalog-sync", "catalog.tasks.catalog_sync_scheduled", every="CATALOG_SYNC_SECONDS"
        )
