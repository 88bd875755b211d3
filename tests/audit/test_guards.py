"""The guards hold against the application's own database user, and ``audit_verify`` reports a
guard that was switched off, replaced or widened, not only one that is missing (issue 20).

Each tamper case is done by raw SQL, as someone holding the database credentials would.
"""

from __future__ import annotations

import sqlite3

import pytest
from django.db import IntegrityError, connection

from contoso_images.audit.models import AuditEvent
from tests.audit.factories import GUARDED, raw, verify_command

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"
only_postgres = pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's triggers")
only_sqlite = pytest.mark.skipif(POSTGRES, reason="SQLite's triggers")
#: A column of each guarded table to write to.
COLUMN = {
    "audit_auditevent": "detail",
    "audit_auditcheckpoint": "sequence",
    "audit_auditverification": "events",
}


@pytest.fixture
def rows(events):
    """A row in every guarded table: events, a checkpoint and a verification run."""
    from contoso_images.audit.services.verification import chain_verify_and_checkpoint

    events(2)
    report, checkpoint = chain_verify_and_checkpoint(source="command")
    assert report.ok and checkpoint is not None


# --- Nothing lifts the guard --------------------------------------------------------------------


@only_postgres
@pytest.mark.parametrize("table", GUARDED)
@pytest.mark.parametrize("verb", ["UPDATE", "DELETE"])
def test_no_session_setting_lifts_the_guard_on_postgresql(rows, table, verb):
    change = (
        f"UPDATE {table} SET {COLUMN[table]} = {COLUMN[table]}"  # noqa: S608 - test SQL
        if verb == "UPDATE"
        else f"DELETE FROM {table}"  # noqa: S608 - test SQL
    )
    with pytest.raises(IntegrityError, match="append-only"):
        raw("SET LOCAL contoso.audit_guard_lifted = 'on'", change)
    with pytest.raises(IntegrityError, match="append-only"):
        raw("SET contoso.audit_guard_lifted = 'on'", change)
    raw("RESET contoso.audit_guard_lifted")


@only_sqlite
@pytest.mark.django_db(transaction=True)
def test_no_function_a_connection_defines_lifts_the_guard_on_sqlite():
    """Not this application's connection, nor another client that defines the function the
    guard used to ask."""
    from tests.audit.factories import append_events

    append_events(2)
    connection.ensure_connection()
    connection.connection.create_function("contoso_audit_guard_lifted", 0, lambda: 1)
    with pytest.raises(IntegrityError, match="append-only"):
        raw("UPDATE audit_auditevent SET detail = 'lifted'")
    with pytest.raises(IntegrityError, match="append-only"):
        raw("DELETE FROM audit_auditevent")
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=20)
    other.create_function("contoso_audit_guard_lifted", 0, lambda: 1)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            other.execute("UPDATE audit_auditevent SET detail = 'lifted'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            other.execute("DELETE FROM audit_auditevent")
    finally:
        other.rollback()
        other.close()
    assert AuditEvent.objects.count() == 2
    assert not AuditEvent.objects.filter(detail="lifted").exists()


# --- audit_verify reports guards switched off or replaced (PostgreSQL) -------------------------


@only_postgres
@pytest.mark.parametrize(
    "alter, says",
    [
        ("DISABLE TRIGGER USER", "is disabled"),
        ("DISABLE TRIGGER audit_auditevent_append_only", "is disabled"),
        ("ENABLE REPLICA TRIGGER audit_auditevent_append_only", "fires only"),
        ("ENABLE TRIGGER audit_auditevent_append_only", "skipped by a session"),
    ],
)
def test_audit_verify_reports_a_disabled_trigger(events, alter, says):
    events(2)
    raw(f"ALTER TABLE audit_auditevent {alter}")
    status, output = verify_command()
    assert status == 1, output
    assert "the database trigger audit_auditevent_append_only" in output and says in output


@only_postgres
def test_audit_verify_reports_a_trigger_replaced_by_a_no_op_under_its_own_name(events):
    events(2)
    raw(
        "CREATE FUNCTION contoso_audit_noop() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END; $$",
        "CREATE OR REPLACE TRIGGER audit_auditevent_append_only BEFORE UPDATE OR DELETE "
        "ON audit_auditevent FOR EACH ROW EXECUTE FUNCTION contoso_audit_noop()",
        "ALTER TABLE audit_auditevent ENABLE ALWAYS TRIGGER audit_auditevent_append_only",
    )
    status, output = verify_command()
    assert status == 1, output
    assert "the database trigger audit_auditevent_append_only differs from the one" in output


@only_postgres
@pytest.mark.parametrize(
    "body",
    [
        "BEGIN IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END;",
        "BEGIN IF current_setting('contoso.x', true) = 'on' THEN RETURN NEW; END IF; "
        "RAISE EXCEPTION 'audit records are append-only'; END;",
    ],
)
def test_audit_verify_reports_a_guard_function_replaced_under_its_own_name(events, body):
    events(2)
    raw(
        "CREATE OR REPLACE FUNCTION contoso_audit_refuse_change() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ {body} $$"
    )
    status, output = verify_command()
    assert status == 1, output
    assert "the function contoso_audit_refuse_change" in output and "differs" in output


@only_postgres
@pytest.mark.parametrize(
    "trigger",
    [
        # Same name, a condition that never holds.
        "CREATE OR REPLACE TRIGGER audit_auditcheckpoint_append_only BEFORE UPDATE OR DELETE "
        "ON audit_auditcheckpoint FOR EACH ROW WHEN (false) "
        "EXECUTE FUNCTION contoso_audit_refuse_change()",
        # Same name, only some columns.
        "CREATE OR REPLACE TRIGGER audit_auditcheckpoint_append_only BEFORE DELETE OR UPDATE "
        "OF key_id ON audit_auditcheckpoint FOR EACH ROW "
        "EXECUTE FUNCTION contoso_audit_refuse_change()",
    ],
)
def test_audit_verify_reports_a_trigger_narrowed_under_its_own_name(events, trigger):
    events(1)
    raw(
        trigger,
        "ALTER TABLE audit_auditcheckpoint ENABLE ALWAYS TRIGGER audit_auditcheckpoint_append_only",
    )
    status, output = verify_command()
    assert status == 1, output
    assert "the database trigger audit_auditcheckpoint_append_only differs" in output


@only_postgres
def test_audit_verify_reports_a_trigger_or_rule_added_to_an_audit_table(events):
    """A BEFORE INSERT trigger that returns NULL, or a DO INSTEAD NOTHING rule, would silently
    drop every new event."""
    events(1)
    raw(
        "CREATE FUNCTION contoso_audit_swallow() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RETURN NULL; END; $$",
        "CREATE TRIGGER swallow BEFORE INSERT ON audit_auditevent FOR EACH ROW "
        "EXECUTE FUNCTION contoso_audit_swallow()",
        "CREATE RULE quiet AS ON INSERT TO audit_auditcheckpoint DO INSTEAD NOTHING",
    )
    status, output = verify_command()
    assert status == 1, output
    assert "an unexpected trigger swallow on audit_auditevent" in output
    assert "an unexpected rule quiet on audit_auditcheckpoint" in output


# --- audit_verify reports guards replaced (SQLite) ---------------------------------------------


@only_sqlite
@pytest.mark.parametrize(
    "replacement",
    [
        "CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent "
        "BEGIN SELECT 1; END",
        "CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent WHEN 0 "
        "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
        "CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE OF hash ON audit_auditevent "
        "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
        "CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON audit_auditcheckpoint "
        "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
    ],
)
def test_audit_verify_reports_a_sqlite_trigger_replaced_under_its_own_name(events, replacement):
    events(2)
    raw("DROP TRIGGER audit_auditevent_no_update", replacement)
    status, output = verify_command()
    assert status == 1, output
    assert "the database trigger audit_auditevent_no_update differs from the one" in output


@only_sqlite
def test_audit_verify_reports_a_trigger_added_to_an_audit_table_on_sqlite(events):
    events(1)
    raw("CREATE TRIGGER swallow BEFORE INSERT ON audit_auditevent BEGIN SELECT RAISE(IGNORE); END")
    status, output = verify_command()
    assert status == 1 and "an unexpected trigger swallow on audit_auditevent" in output


# --- Repaired by migrate --------------------------------------------------------------------


def test_migrate_puts_back_a_guard_that_was_replaced(events):
    from django.core.management import call_command

    from contoso_images.audit import guards

    events(1)
    if POSTGRES:
        raw("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
    else:
        raw(
            "DROP TRIGGER audit_auditevent_no_delete",
            "CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent "
            "BEGIN SELECT 1; END",
        )
    assert guards.inspect(connection)
    call_command("migrate", verbosity=0)
    assert guards.inspect(connection) == []
    with pytest.raises(IntegrityError, match="append-only"):
        raw("DELETE FROM audit_auditevent")
