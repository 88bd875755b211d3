from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from contoso_images.core.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_migration_creates_each_role_with_its_permissions():
    for name, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=name)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert held == set(perms), name


def test_auditors_cannot_operate_or_review():
    held = set(ROLE_PERMISSIONS["auditors"])
    assert "vmops.operate_virtualmachine" not in held
    assert "catalog.review_image" not in held


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
