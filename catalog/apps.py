from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Image catalog"

    def ready(self) -> None:
        from catalog.choices import REFRESH_ACTION, REVIEW_PERMISSION, VIEW_PERMISSION
        from catalog.services.sync import CATALOG_SYNC
        from catalog.specs import CATALOG_SPECS
        from contoso_images.core import navigation, roles, sync
        from contoso_images.operations import registry

        for spec in CATALOG_SPECS:
            registry.register(spec)
        sync.register(CATALOG_SYNC)
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
