from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from contoso_images.core import roles
from contoso_images.core.roles import role_permissions

pytestmark = pytest.mark.django_db

#: What each role's group holds, written out: the apps register these with core, and the
#: groups must come out the same as when core listed them itself.
EXPECTED = {
    "operators": {
        "vmops.view_virtualmachine",
        "vmops.operate_virtualmachine",
        "vmops.capture_virtualmachine",
        "vmops.deploy_virtualmachine",
        "vmops.delete_virtualmachine",
        "vmops.view_billingpolicy",
        "catalog.view_catalog",
    },
    "reviewers": {
        "vmops.view_virtualmachine",
        "vmops.view_billingpolicy",
        "catalog.view_catalog",
        "catalog.review_image",
    },
    # Billing-guard policies are read by every role; admins alone manage them.
    "auditors": {
        "audit.view_audit",
        "audit.export_audit",
        "catalog.view_catalog",
        "vmops.view_billingpolicy",
    },
}


def _held(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_migration_creates_each_role_with_its_permissions():
    for name, perms in EXPECTED.items():
        assert _held(name) == perms, name


def test_the_apps_register_exactly_the_expected_permissions():
    assert {role: set(perms) for role, perms in role_permissions().items()} == EXPECTED


def test_ensure_role_groups_restores_groups_from_the_registrations():
    from django.contrib.auth.models import Permission

    Group.objects.filter(name__in=EXPECTED).delete()
    roles.ensure_role_groups(Group, Permission)
    for name, perms in EXPECTED.items():
        assert _held(name) == perms, name


def test_auditors_cannot_operate_or_review():
    held = set(role_permissions()["auditors"])
    assert "vmops.operate_virtualmachine" not in held
    assert "catalog.review_image" not in held


def test_an_unknown_role_cannot_be_given_permissions():
    with pytest.raises(ValueError, match="Unknown role"):
        roles.register_role_permissions("wizards", ["vmops.view_virtualmachine"])


def test_an_action_is_allowed_by_any_permission_registered_for_it(
    operator_user, reviewer_user, auditor_user
):
    assert set(roles.action_permissions("catalog.refresh")) == {
        "catalog.review_image",
        "vmops.operate_virtualmachine",
    }
    assert roles.user_may(operator_user, "catalog.refresh")
    assert roles.user_may(reviewer_user, "catalog.refresh")
    assert not roles.user_may(auditor_user, "catalog.refresh")
    assert not roles.user_may(operator_user, "nobody.registered_this")


def test_create_user_command_puts_user_in_groups(capsys):
    call_command(
        "create_user",
        "sam",
        "--group",
        "operators",
        "--group",
        "auditors",
        "--password",
        "pw-123456789",
    )
    user = get_user_model().objects.get(username="sam")
    assert set(user.groups.values_list("name", flat=True)) == {"operators", "auditors"}
    assert user.check_password("pw-123456789")
    assert "Created sam (" in capsys.readouterr().out


def test_create_user_twice_updates_and_generates_a_password(capsys):
    call_command("create_user", "sam", "--group", "operators")
    call_command("create_user", "sam", "--group", "reviewers")
    out = capsys.readouterr().out
    assert "Updated sam (reviewers) with password " in out
    user = get_user_model().objects.get(username="sam")
    assert list(user.groups.values_list("name", flat=True)) == ["reviewers"]
    assert user.check_password(out.strip().rsplit(" ", 1)[-1])


def test_create_user_rejects_unknown_group():
    with pytest.raises(CommandError):
        call_command("create_user", "sam", "--group", "wizards")
