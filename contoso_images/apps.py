from __future__ import annotations

from django.apps import AppConfig


class ContosoImagesConfig(AppConfig):
    """The project-wide pieces that belong to no single app: roles, health, demo commands."""

    name = "contoso_images"
    label = "core"
    verbose_name = "Contoso Images"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from contoso_images.roles import ensure_role_groups_after_migrate

        # Runs after every app's permissions exist (post_migrate is sent once per app, and
        # permissions are created by contrib.auth's own receiver, connected earlier).
        post_migrate.connect(
            ensure_role_groups_after_migrate, dispatch_uid="contoso_images.ensure_role_groups"
        )
