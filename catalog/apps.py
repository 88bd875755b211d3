from __future__ import annotations

from django.apps import AppConfig

#: Asking Azure for the catalog now (core's `roles.user_may`): reviewers may, and any app
#: above the catalog may add its own permission (vmops adds its operators').
REFRESH_ACTION = "catalog.refresh"


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Image catalog"

    def ready(self) -> None:
        from catalog.choices import REVIEW_PERMISSION, VIEW_PERMISSION
        from catalog.specs import REVIEW_EFFECT_SPECS
        from contoso_images.core import navigation, roles, schedules
        from contoso_images.operations import registry

        for spec in REVIEW_EFFECT_SPECS:
            registry.register(spec)
        schedules.register(
            "catalog-sync", "catalog.tasks.catalog_sync_scheduled", every="CATALOG_SYNC_SECONDS"
        )
        navigation.register_section(
            "Catalog",
            url_name="catalog:catalog_index",
            permissions=[VIEW_PERMISSION],
            order=30,
            namespace="catalog",
            # Managers start at what they review; anyone else who may read it, last.
            home=[(REVIEW_PERMISSION, 20), (VIEW_PERMISSION, 50)],
        )
        # Every role reads the catalog: IT staff choose images from it (and find their
        # captures there), managers review it, admins read what was captured and reviewed.
        for role in roles.ROLES:
            roles.register_role_permissions(role, [VIEW_PERMISSION])
        roles.register_role_permissions(roles.REVIEWERS, [REVIEW_PERMISSION])
        roles.register_action_permission(REFRESH_ACTION, REVIEW_PERMISSION)
