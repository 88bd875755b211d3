from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps


class CoreConfig(AppConfig):
    """The bottom app: subscriptions, roles, health, schedules and the pieces every view uses."""

    name = "contoso_images.core"
    label = "core"
    verbose_name = "Contoso Images"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from contoso_images.core import schedules

        schedules.register(
            "heartbeat", "contoso_images.core.tasks.heartbeat", every="HEARTBEAT_SECONDS"
        )
        post_migrate.connect(_after_migrate, dispatch_uid="contoso_images.core.after_migrate")


def _after_migrate(app_config: AppConfig, **kwargs: Any) -> None:
    """Keep role groups and schedules in step with the code after every migrate (and every
    test database flush).

    post_migrate is sent once per app that has models, in INSTALLED_APPS order, and
    contrib.auth creates each app's permissions in its own receiver; acting on the last such
    app's signal means every permission and table exists by then.
    """
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if app_config is not with_models[-1]:
        return
    from contoso_images.core import schedules
    from contoso_images.core.roles import ensure_role_groups_after_migrate

    ensure_role_groups_after_migrate()
    schedules.ensure_after_migrate()
