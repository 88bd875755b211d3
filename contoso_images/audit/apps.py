from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The append-only, hash-chained audit record every app writes to, and its pages.

    ``ready`` connects what records on its own (`receivers`: the operations engine's events,
    Django's and django-axes' sign-in signals; `access_changes`: users, groups, permissions
    and unlocks changed in the admin or by command), the scheduled checkpoint, and, after
    every migrate, the guard check and the runtime role's grants; and registers the Audit
    section and the auditors' permissions with core.
    """

    name = "contoso_images.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_migrate

        from contoso_images.audit import access_changes, receivers
        from contoso_images.core import navigation, roles, schedules
        from contoso_images.operations import registry

        registry.listen(receivers.on_operation_event)
        uid = "contoso_images.audit"
        user_logged_in.connect(receivers.on_logged_in, dispatch_uid=f"{uid}.login")
        user_logged_out.connect(receivers.on_logged_out, dispatch_uid=f"{uid}.logout")
        user_login_failed.connect(receivers.on_login_failed, dispatch_uid=f"{uid}.login_failed")
        user_locked_out.connect(receivers.on_locked_out, dispatch_uid=f"{uid}.locked_out")
        access_changes.connect()
        post_migrate.connect(_ensure_guards, sender=self, dispatch_uid=f"{uid}.guards")
        schedules.register(
            "audit-checkpoint",
            "contoso_images.audit.tasks.audit_checkpoint_scheduled",
            every="AUDIT_CHECKPOINT_SECONDS",
        )
        view, export = "audit.view_audit", "audit.export_audit"
        navigation.register_section(
            "Audit",
            url_name="audit:audit_index",
            permissions=[view],
            order=40,
            namespace="audit",
            # Admins start at the log, after operators' and reviewers' own work.
            home=[(view, 30)],
        )
        roles.register_role_permissions(roles.AUDITORS, [view, export])


def _ensure_guards(using: str = "default", plan: Any = None, **kwargs: Any) -> None:
    """After every migrate (run as the tables' owner): put back guards that are not as the
    migrations made them (SQLite drops a table's triggers when a migration rebuilds it), and
    grant the runtime role INSERT and SELECT only on the audit tables (PostgreSQL; a flush,
    which sends this signal without a plan, changes no grant)."""
    from django.db import connections

    from contoso_images.audit import guards, roles

    connection = connections[using]
    guards.ensure(connection)
    if plan is not None:
        roles.after_migrate(connection)
