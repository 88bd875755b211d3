"""Append-only at every layer: the model, the admin and the database refuse change and delete."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from contoso_images.audit import guards
from contoso_images.audit.models import AppendOnlyError, AuditCheckpoint, AuditEvent
from contoso_images.audit.services.checkpoints import checkpoint_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


# --- The model ------------------------------------------------------------------------------


def test_the_model_refuses_update_and_delete(events):
    event = events(1)[0]
    event.action = "vm.start.succeeded"
    with pytest.raises(AppendOnlyError, match="update refused"):
        event.save()
    with pytest.raises(AppendOnlyError, match="delete refused"):
        event.delete()
    with pytest.raises(AppendOnlyError, match="update refused"):
        AuditEvent.objects.filter(sequence=1).update(action="x")
    with pytest.raises(AppendOnlyError, match="delete refused"):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError, match="update refused"):
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.get().action == "vm.deallocate.succeeded"


def test_the_model_refuses_events_added_outside_the_chain():
    with pytest.raises(AppendOnlyError, match="services"):
        AuditEvent.objects.create(sequence=1, action="x", outcome="succeeded", hash="0" * 64)
    with pytest.raises(AppendOnlyError, match="services"):
        AuditEvent.objects.bulk_create([AuditEvent(sequence=1, action="x", hash="0" * 64)])
    assert not AuditEvent.objects.exists()


def test_checkpoints_are_append_only_too():
    checkpoint = checkpoint_create()
    with pytest.raises(AppendOnlyError):
        checkpoint.delete()
    with pytest.raises(AppendOnlyError):
        AuditCheckpoint.objects.update(sequence=99)


# --- The admin ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_admin_shows_events_but_cannot_add_change_or_delete_them(admin_client, events):
    event = events(1)[0]
    assert admin_client.get("/admin/audit/auditevent/").status_code == 200
    page = admin_client.get(f"/admin/audit/auditevent/{event.sequence}/change/")
    assert page.status_code == 200
    assert 'name="action"' not in page.content.decode()  # read-only: no input
    changed = admin_client.post(
        f"/admin/audit/auditevent/{event.sequence}/change/", {"action": "x"}
    )
    assert changed.status_code == 403
    assert admin_client.get(f"/admin/audit/auditevent/{event.sequence}/delete/").status_code == 403
    assert (
        admin_client.post(
            f"/admin/audit/auditevent/{event.sequence}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    bulk = admin_client.post(
        "/admin/audit/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.sequence]},
    )
    assert bulk.status_code in (200, 302)
    assert AuditEvent.objects.filter(action="vm.deallocate.succeeded").count() == 1


def test_auditors_who_are_not_staff_do_not_get_the_admin(auditor_client):
    assert auditor_client.get("/admin/audit/auditevent/").status_code == 302


# --- The database ---------------------------------------------------------------------------


def _raw(sql):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'vm.start.succeeded' WHERE sequence = 1",
        "UPDATE audit_auditevent SET hash = prev_hash",
        "DELETE FROM audit_auditevent WHERE sequence = 2",
        "DELETE FROM audit_auditevent",
        "UPDATE audit_auditcheckpoint SET sequence = 0",
        "DELETE FROM audit_auditcheckpoint",
    ],
)
def test_the_database_refuses_update_and_delete(events, sql):
    events(2)
    checkpoint_create()
    with pytest.raises(IntegrityError, match="append-only"):
        _raw(sql)
    assert AuditEvent.objects.count() == 3 and AuditCheckpoint.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_postgresql_refuses_truncate(events):
    events(2)
    with pytest.raises(IntegrityError, match="append-only"):
        _raw("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 2


def test_every_guarding_trigger_is_in_place():
    assert guards.missing(connection) == []


def test_other_clients_cannot_lift_the_guard(events):
    """The SQLite guard asks a function only this application registers (another client's
    DELETE fails); PostgreSQL's reads a session setting nobody sets outside flush."""
    events(1)
    if connection.vendor == "sqlite":
        import sqlite3

        other = sqlite3.connect(connection.settings_dict["NAME"])
        try:
            with pytest.raises(sqlite3.OperationalError, match="contoso_audit_guard_lifted"):
                other.execute("DELETE FROM audit_auditevent")
        finally:
            other.close()
    else:
        with pytest.raises(IntegrityError):
            _raw("SET LOCAL contoso.audit_guard_lifted = 'off'; DELETE FROM audit_auditevent")


# --- Flush ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_record_where_allowed_and_refuses_elsewhere(settings):
    from tests.audit.factories import append_events

    append_events(3)
    checkpoint_create()
    settings.AUDIT_ALLOW_FLUSH = False
    with pytest.raises(CommandError, match="erase the append-only audit record"):
        call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 4
    settings.AUDIT_ALLOW_FLUSH = True
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists() and not AuditCheckpoint.objects.exists()
    # The guard is back for everyone once flush is over.
    append_events(1)
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM audit_auditevent")
