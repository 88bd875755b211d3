"""The three roles (operators, reviewers, auditors), as groups with their permissions.

Groups are kept in step with this table by data migrations (each app that adds a permission
adds a migration calling `sync_role_groups`), so a fresh database and an upgraded one end
up with the same groups.
"""

from __future__ import annotations

from typing import Any

OPERATORS = "operators"
REVIEWERS = "reviewers"
AUDITORS = "auditors"

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    OPERATORS: (
        "vmops.view_virtualmachine",
        "vmops.operate_virtualmachine",
        "vmops.capture_virtualmachine",
        # IT staff choose images from the catalog (and find their captures there).
        "catalog.view_catalog",
    ),
    REVIEWERS: (
        "vmops.view_virtualmachine",
        "catalog.view_catalog",
        "catalog.review_image",
    ),
    AUDITORS: (
        "audit.view_audit",
        "audit.export_audit",
        # Admins read what was captured and reviewed; they change nothing.
        "catalog.view_catalog",
    ),
}


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


def ensure_role_groups(Group: Any, Permission: Any) -> None:  # noqa: N803 (model classes)
    """Make each role group hold exactly the permissions of ROLE_PERMISSIONS that exist."""
    for group_name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def ensure_role_groups_after_migrate(**kwargs: Any) -> None:
    """post_migrate receiver: also restores the groups after a test database flush."""
    from django.contrib.auth.models import Group, Permission

    ensure_role_groups(Group, Permission)
