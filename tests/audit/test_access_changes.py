"""Every change of who may do what, in the admin or by command, is on the record with before
and after: users, groups, group membership, permissions, and unlocking a locked-out user."""

from __future__ import annotations

import io
import types
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from contoso_images.audit import access_changes
from contoso_images.audit.models import AuditEvent
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def admin_client(client):
    admin = UserFactory(username="root", password=PASSWORD, is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def _perm(label: str) -> Permission:
    app_label, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_code_outside_a_request_or_command_is_not_recorded(operator_user):
    """Test fixtures, scripts: no person's change to attribute (the fixture above made a
    user and put it in a group)."""
    assert not AuditEvent.objects.exists()


def test_admin_changes_to_a_groups_permissions_show_before_and_after(admin_client):
    group = Group.objects.get(name="reviewers")
    before = sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all())
    added = _perm("audit.view_audit")
    response = admin_client.post(
        f"/admin/auth/group/{group.pk}/change/",
        {
            "name": "reviewers",
            "permissions": [*group.permissions.values_list("pk", flat=True), added.pk],
        },
    )
    assert response.status_code == 302, response.content[:2000]
    [event] = _events("auth.group.permissions_changed")
    assert event.result_data["before"] == before
    assert event.result_data["after"] == sorted([*before, "audit.view_audit"])
    assert event.result_data["added"] == ["audit.view_audit"] and event.result_data["removed"] == []
    assert event.parameters_data["by"] == "admin"
    assert event.actor_username == "root"
    assert (event.target_kind, event.target_name) == ("group", "reviewers")
    assert event.source_ip == "127.0.0.1"
    assert "audit.view_audit" in event.detail


def test_admin_creates_renames_and_deletes_a_group(admin_client):
    perm = _perm("audit.export_audit")
    admin_client.post("/admin/auth/group/add/", {"name": "exporters", "permissions": [perm.pk]})
    group = Group.objects.get(name="exporters")
    member = UserFactory(username="eve")
    member.groups.add(group)  # outside the admin: not recorded
    admin_client.post(
        f"/admin/auth/group/{group.pk}/change/", {"name": "exporters-2", "permissions": [perm.pk]}
    )
    admin_client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})
    assert not Group.objects.filter(pk=group.pk).exists()
    [created] = _events("auth.group.created")
    assert created.result_data["after"] == {"name": "exporters"}
    [granted] = _events("auth.group.permissions_changed")
    assert granted.result_data["added"] == ["audit.export_audit"]
    [renamed] = _events("auth.group.renamed")
    assert renamed.result_data == {
        "before": {"name": "exporters"},
        "after": {"name": "exporters-2"},
    }
    [deleted] = _events("auth.group.deleted")
    assert deleted.result_data["before"] == {
        "name": "exporters-2",
        "members": ["eve"],
        "permissions": ["audit.export_audit"],
    }


def _user_form(user, **changes):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "groups": list(user.groups.values_list("pk", flat=True)),
        "user_permissions": list(user.user_permissions.values_list("pk", flat=True)),
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "initial-date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_changes_to_a_user_show_before_and_after(admin_client, operator_user):
    reviewers = Group.objects.get(name="reviewers")
    perm = _perm("audit.view_audit")
    response = admin_client.post(
        f"/admin/auth/user/{operator_user.pk}/change/",
        _user_form(
            operator_user,
            is_superuser="on",
            is_staff="on",
            groups=[reviewers.pk],
            user_permissions=[perm.pk],
        ),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    [changed] = _events("auth.user.changed")
    assert changed.result_data["changed"] == ["is_staff", "is_superuser"]
    assert changed.result_data["before"] == {"is_staff": False, "is_superuser": False}
    assert changed.result_data["after"] == {"is_staff": True, "is_superuser": True}
    membership = _events("auth.user.groups_changed")
    assert membership[0].result_data["before"] == ["operators"]
    assert membership[-1].result_data["after"] == ["reviewers"]
    assert {e.parameters_data["by"] for e in membership} == {"admin"}
    [perms] = _events("auth.user.permissions_changed")
    assert perms.result_data == {
        "before": [],
        "after": ["audit.view_audit"],
        "added": ["audit.view_audit"],
        "removed": [],
    }
    assert all(e.actor_username == "root" for e in AuditEvent.objects.all())


def test_a_password_change_is_recorded_without_the_password(admin_client, operator_user):
    response = admin_client.post(
        f"/admin/auth/user/{operator_user.pk}/password/",
        {
            "password1": "N3w-pass-phrase!x",
            "password2": "N3w-pass-phrase!x",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    [changed] = _events("auth.user.changed")
    assert changed.result_data["changed"] == ["password"]
    everything = str(list(AuditEvent.objects.values()))
    operator_user.refresh_from_db()
    assert "N3w" not in everything and operator_user.password not in everything


def test_admin_deletes_a_user(admin_client, operator_user):
    admin_client.post(f"/admin/auth/user/{operator_user.pk}/delete/", {"post": "yes"})
    [deleted] = _events("auth.user.deleted")
    assert deleted.result_data["before"]["username"] == operator_user.username
    assert deleted.result_data["before"]["groups"] == ["operators"]


def test_adding_users_to_a_group_from_the_groups_side_is_recorded_per_user(admin_client):
    """The reverse side of the relation (group.user_set) names each user changed."""
    from contoso_images.audit.context import acting

    group = Group.objects.get(name="auditors")
    a, b = UserFactory(username="a"), UserFactory(username="b")
    with acting(None, "a test"):
        group.user_set.add(a, b)
        group.user_set.clear()
    added = _events("auth.user.groups_changed")
    assert [(e.target_name, e.result_data["added"], e.result_data["removed"]) for e in added] == [
        ("a", ["auditors"], []),
        ("b", ["auditors"], []),
        ("a", [], ["auditors"]),
        ("b", [], ["auditors"]),
    ]


def test_create_user_is_recorded_as_the_command(capsys):
    call_command("create_user", "sam", "--group", "operators", "--password", "x" * 16)
    [created] = _events("auth.user.created")
    assert created.parameters_data == {"by": "command: create_user"}
    assert created.result_data["after"]["username"] == "sam"
    assert created.actor_username == "" and created.source_ip == ""
    [groups] = _events("auth.user.groups_changed")
    assert groups.result_data["after"] == ["operators"]
    assert groups.parameters_data["by"] == "command: create_user"
    assert "(by command: create_user)" in groups.detail


def test_createsuperuser_is_recorded(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "x" * 16)
    call_command(
        "createsuperuser",
        interactive=False,
        username="boss",
        email="b@x.example",
        stdout=io.StringIO(),
    )
    [created] = _events("auth.user.created")
    assert created.parameters_data["by"] == "command: createsuperuser"
    assert created.result_data["after"]["is_superuser"] is True


def _command_named(name: str, work):
    module = types.ModuleType(f"somewhere.management.commands.{name}")

    class Command(BaseCommand):
        def handle(self, *args, **options):
            work()

    Command.__module__ = module.__name__
    return Command()


def test_migrate_and_flush_are_not_a_persons_change():
    """migrate sets the role groups from code; flush empties the database."""
    for name in ("migrate", "flush"):
        call_command(_command_named(name, lambda n=name: UserFactory(username=f"by-{n}")))
    assert not AuditEvent.objects.exists()
    call_command(_command_named("shell", lambda: UserFactory(username="by-shell")))
    assert _events("auth.user.created")[0].parameters_data == {"by": "command: shell"}


def test_running_command_is_found_on_the_stack():
    seen = []
    call_command(
        _command_named("axes_reset", lambda: seen.append(access_changes.running_command()))
    )
    assert seen == ["axes_reset"] and access_changes.running_command() is None


def _lock_out(client, settings, username: str) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": username, "password": "wrong"})
    assert AccessAttempt.objects.filter(username=username).exists()


def test_unlocking_by_command_is_recorded(client, settings, operator_user):
    _lock_out(client, settings, operator_user.username)
    call_command("axes_reset_username", operator_user.username, stdout=io.StringIO())
    [unlocked] = _events("auth.unlocked")
    assert unlocked.parameters_data == {"by": "command: axes_reset_username"}
    assert unlocked.target_name == operator_user.username
    assert unlocked.result_data["before"]["failures"] == settings.AXES_FAILURE_LIMIT
    assert unlocked.result_data["after"] == {"locked": False}
    # Unlocked: the right password works again.
    assert (
        client.post(
            "/login/", {"username": operator_user.username, "password": PASSWORD}
        ).status_code
        == 302
    )


def test_unlocking_in_the_admin_is_recorded(client, settings, operator_user):
    _lock_out(client, settings, operator_user.username)
    attempt = AccessAttempt.objects.get(username=operator_user.username)
    admin = UserFactory(username="root", password=PASSWORD, is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    [unlocked] = _events("auth.unlocked")
    assert unlocked.parameters_data["by"] == "admin"
    assert unlocked.actor_username == "root"


def test_attempts_that_never_locked_or_have_expired_are_not_unlocks(
    client, settings, operator_user
):
    client.post("/login/", {"username": operator_user.username, "password": "wrong"})
    call_command("axes_reset", stdout=io.StringIO())  # one failure: nothing was locked
    assert not _events("auth.unlocked")
    _lock_out(client, settings, operator_user.username)
    # The lockout ran out an hour ago (AXES_COOLOFF_HOURS is 0.25): a clean-up, not an unlock.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1))
    call_command("axes_reset", stdout=io.StringIO())
    assert not _events("auth.unlocked")
