"""Append-only at every layer: the model, the admin and the database refuse change and delete."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from contoso_images.audit import guards
from contoso_images.audit.models import (
    AppendOnlyError,
    AuditCheckpoint,
    AuditEvent,
    AuditVerification,
)
from contoso_images.audit.services.checkpoints import checkpoint_create
from contoso_images.audit.services.verification import chain_verify_and_checkpoint
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


def test_checkpoints_and_verification_runs_are_append_only_too():
    checkpoint = checkpoint_create()
    with pytest.raises(AppendOnlyError):
        checkpoint.delete()
    with pytest.raises(AppendOnlyError):
        AuditCheckpoint.objects.update(sequence=99)
    chain_verify_and_checkpoint(source="command")
    run = AuditVerification.objects.get()
    run.ok = False
    with pytest.raises(AppendOnlyError):
        run.save()
    with pytest.raises(AppendOnlyError):
        AuditVerification.objects.all().delete()
    with pytest.raises(AppendOnlyError, match="services"):
        AuditVerification.objects.create(
            started_at=run.started_at, finished_at=run.finished_at, ok=True, source="forged"
        )


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


def _counts():
    return (
        AuditEvent.objects.count(),
        AuditCheckpoint.objects.count(),
        AuditVerification.objects.count(),
    )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'vm.start.succeeded' WHERE sequence = 1",
        "UPDATE audit_auditevent SET hash = prev_hash",
        "DELETE FROM audit_auditevent WHERE sequence = 2",
        "DELETE FROM audit_auditevent",
        "UPDATE audit_auditcheckpoint SET sequence = 0",
        "DELETE FROM audit_auditcheckpoint",
        "UPDATE audit_auditverification SET ok = NOT ok",
        "DELETE FROM audit_auditverification",
    ],
)
def test_the_database_refuses_update_and_delete(events, sql):
    events(2)
    chain_verify_and_checkpoint(source="command")
    with pytest.raises(IntegrityError, match="append-only"):
        _raw(sql)
    assert _counts() == (3, 1, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
@pytest.mark.parametrize(
    "table", ["audit_auditevent", "audit_auditcheckpoint", "audit_auditverification"]
)
def test_postgresql_refuses_truncate(events, table):
    events(2)
    chain_verify_and_checkpoint(source="command")
    with pytest.raises(IntegrityError, match="append-only"):
        _raw(f"TRUNCATE {table} CASCADE")
    assert _counts() == (3, 1, 1)


def test_every_guard_is_in_place_as_the_migrations_made_it():
    assert guards.inspect(connection) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's other clients")
@pytest.mark.django_db(transaction=True)
def test_another_sqlite_client_is_refused_too():
    import sqlite3

    from tests.audit.factories import append_events

    append_events(1)
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=20)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            other.execute("DELETE FROM audit_auditevent")
    finally:
        other.rollback()
        other.close()
    assert AuditEvent.objects.count() == 1


# --- Flush ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_record_where_allowed_and_refuses_elsewhere(settings):
    from tests.audit.factories import append_events

    append_events(3)
    chain_verify_and_checkpoint(source="command")
    settings.AUDIT_ALLOW_FLUSH = False
    with pytest.raises(CommandError, match="erase the append-only audit record"):
        call_command("flush", interactive=False, verbosity=0)
    assert _counts() == (4, 1, 1)
    settings.AUDIT_ALLOW_FLUSH = True
    call_command("flush", interactive=False, verbosity=0)
    assert _counts() == (0, 0, 0)
    # The guard is back for everyone once flush is over, exactly as the migrations made it.
    assert guards.inspect(connection) == []
    append_events(1)
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM audit_auditevent")
