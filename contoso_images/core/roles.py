"""The three roles (operators, reviewers, auditors), as groups with their permissions, and
the actions that more than one app's permission allows.

Core names the roles; each app registers, from ``AppConfig.ready``, which of its own
permissions each role holds (core names no app's permission). Groups are kept in step with
the registrations by data migrations (each app that adds a permission adds a migration
calling `sync_role_groups`) and after every migrate, so a fresh database and an upgraded one
end up with the same groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from contoso_images.core.users import Person

OPERATORS = "operators"
REVIEWERS = "reviewers"
AUDITORS = "auditors"
ROLES = (OPERATORS, REVIEWERS, AUDITORS)

_role_permissions: dict[str, dict[str, None]] = {role: {} for role in ROLES}
_action_permissions: dict[str, dict[str, None]] = {}


def register_role_permissions(role: str, permissions: Iterable[str]) -> None:
    """Give a role these permissions (``app_label.codename``); idempotent."""
    if role not in _role_permissions:
        raise ValueError(f"Unknown role {role!r}; the roles are {', '.join(ROLES)}.")
    for permission in permissions:
        _role_permissions[role][permission] = None


def role_permissions() -> dict[str, tuple[str, ...]]:
    """Each role and the permissions the installed apps registered for it."""
    return {role: tuple(permissions) for role, permissions in _role_permissions.items()}


def register_action_permission(action: str, permission: str) -> None:
    """Let holders of ``permission`` do ``action``, an action named by the app that offers it
    (``"catalog.refresh"``); an app above it adds its own permission without the owner
    naming that app."""
    _action_permissions.setdefault(action, {})[permission] = None


def action_permissions(action: str) -> tuple[str, ...]:
    return tuple(_action_permissions.get(action, {}))


def user_may(user: Person, action: str) -> bool:
    """Whether the user holds any permission registered for ``action``."""
    return any(user.has_perm(permission) for permission in action_permissions(action))


def sync_role_groups(apps: Any, schema_editor: Any = None) -> None:
    """Create the role groups and give each exactly the permissions that exist for it now.

    Usable as a RunPython callable: permissions are created first because Django only
    creates them after `migrate` has finished (post_migrate), too late for a data migration.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    ensure_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def ensure_role_groups(group_model: Any, permission_model: Any) -> None:
    """Make each role group hold exactly the registered permissions that exist."""
    for group_name, codenames in role_permissions().items():
        group, _ = group_model.objects.get_or_create(name=group_name)
        wanted = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            wanted.extend(
                permission_model.objects.filter(
                    content_type__app_label=app_label, codename=codename
                )
            )
        group.permissions.set(wanted)


def ensure_role_groups_after_migrate(**kwargs: Any) -> None:
    """post_migrate receiver: also restores the groups after a test database flush."""
    from django.contrib.auth.models import Group, Permission

    ensure_role_groups(Group, Permission)
