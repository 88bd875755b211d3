from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Image catalog"

    def ready(self) -> None:
        from catalog.services.review import on_operation_event
        from catalog.services.sync import CATALOG_SYNC
        from catalog.specs import REVIEW_EFFECT_SPECS
        from contoso_images.core import sync
        from contoso_images.operations import registry

        for spec in REVIEW_EFFECT_SPECS:
            registry.register(spec)
        registry.listen(on_operation_event)
        sync.register(CATALOG_SYNC)
