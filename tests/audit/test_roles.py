"""PostgreSQL: the application runs as a role that may only INSERT and SELECT audit rows; a
separate owner role runs migrations and the test flush (issue 20).

The suite's database user (CI: postgres) is the owner here; ``tests/conftest.py`` creates the
runtime role and grants it what ``migrate`` grants, and these tests connect as it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, connections
from django.db.models.signals import post_migrate

from contoso_images.audit.models import AuditCheckpoint, AuditEvent, AuditVerification
from tests.audit.factories import GUARDED, append_events, raw, verify_command

POSTGRES = connection.vendor == "postgresql"
only_postgres = pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's roles")
COLUMN = {
    "audit_auditevent": "detail",
    "audit_auditcheckpoint": "sequence",
    "audit_auditverification": "events",
}


def _connect(role):
    import psycopg

    return psycopg.connect(
        host=role["HOST"] or None,
        port=role["PORT"] or None,
        dbname=role["NAME"],
        user=role["USER"],
        password=role["PASSWORD"] or None,
        autocommit=True,
    )


def _counts():
    return {
        "audit_auditevent": AuditEvent.objects.count(),
        "audit_auditcheckpoint": AuditCheckpoint.objects.count(),
        "audit_auditverification": AuditVerification.objects.count(),
    }


def _current_user(using="default"):
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


@only_postgres
@pytest.mark.django_db(transaction=True)
def test_the_runtime_role_may_only_insert_and_select_audit_rows(audit_runtime_role):
    """UPDATE, DELETE, TRUNCATE, the old guard setting followed by UPDATE, and every way of
    taking a trigger off: all refused to the role the application connects as."""
    import psycopg

    from contoso_images.audit.services.verification import chain_verify_and_checkpoint

    append_events(3)
    assert chain_verify_and_checkpoint(source="command")[1] is not None
    before = _counts()
    refused = psycopg.errors.InsufficientPrivilege
    with _connect(audit_runtime_role) as conn:
        for table in GUARDED:
            column = COLUMN[table]
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == before[table]  # noqa: S608
            for sql in (
                f"UPDATE {table} SET {column} = {column}",  # noqa: S608
                f"DELETE FROM {table}",  # noqa: S608
                f"TRUNCATE {table}",
            ):
                with pytest.raises(refused):
                    conn.execute(sql)
        conn.execute("SET contoso.audit_guard_lifted = 'on'")
        for table in GUARDED:
            with pytest.raises(refused):
                conn.execute(f"UPDATE {table} SET {COLUMN[table]} = {COLUMN[table]}")  # noqa: S608
            with pytest.raises(refused):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608
        for sql in (
            "SET session_replication_role = replica",
            "ALTER TABLE audit_auditevent DISABLE TRIGGER USER",
            "DROP TRIGGER audit_auditevent_append_only ON audit_auditevent",
            "CREATE OR REPLACE FUNCTION contoso_audit_refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$",
            "CREATE TRIGGER swallow BEFORE INSERT ON audit_auditevent FOR EACH ROW "
            "EXECUTE FUNCTION contoso_audit_refuse_change()",
            "CREATE RULE quiet AS ON INSERT TO audit_auditevent DO INSTEAD NOTHING",
        ):
            with pytest.raises(refused):
                conn.execute(sql)
        # Granting itself more is not an error, only a warning that nothing was granted.
        conn.execute("GRANT UPDATE ON audit_auditevent TO PUBLIC")
        held = "SELECT has_table_privilege(current_user, 'audit_auditevent', 'UPDATE')"
        assert conn.execute(held).fetchone()[0] is False
    assert _counts() == before


@only_postgres
@pytest.mark.django_db(transaction=True)
def test_the_application_records_signs_and_verifies_as_the_runtime_role(audit_runtime_role):
    from contoso_images.audit import roles
    from contoso_images.audit.services import record
    from contoso_images.audit.services.verification import chain_verify_and_checkpoint

    with roles.connected_as(audit_runtime_role):
        assert _current_user() == audit_runtime_role["USER"]
        append_events(3)
        record(action="test.thing")
        report, checkpoint = chain_verify_and_checkpoint(source="command")
        status, output = verify_command()
    assert _current_user() != audit_runtime_role["USER"]
    assert report.ok and not report.warnings and checkpoint.sequence == 4
    assert status == 0, output


@only_postgres
@pytest.mark.django_db
def test_audit_verify_reports_a_runtime_role_that_may_do_more_than_append(
    events, settings, audit_runtime_role
):
    events(1)
    role = audit_runtime_role["USER"]
    settings.AUDIT_RUNTIME_ROLE = role
    assert verify_command()[0] == 0
    raw(f'GRANT UPDATE, TRUNCATE ON audit_auditcheckpoint TO "{role}"')
    status, output = verify_command()
    assert status == 3, output
    assert f"Warning: the application's database role {role} may UPDATE, TRUNCATE " in output
    assert "audit_auditcheckpoint" in output
    raw(
        f'ALTER TABLE audit_auditverification OWNER TO "{role}"',
        f'ALTER FUNCTION contoso_audit_refuse_change() OWNER TO "{role}"',
    )
    output = verify_command()[1]
    assert f"{role} owns audit_auditverification" in output
    assert f"{role} owns the function contoso_audit_refuse_change" in output


@only_postgres
@pytest.mark.django_db
def test_one_database_user_for_everything_works_but_is_reported(events, settings):
    """No DATABASE_OWNER_URL: the application's user owns the tables (here it is even a
    superuser); recording and verifying work, and audit_verify says the guards are only as
    strong as that user's restraint (exit status 3), while still signing checkpoints."""
    from contoso_images.audit.tasks import audit_checkpoint_scheduled

    settings.AUDIT_RUNTIME_ROLE = ""
    events(2)
    status, output = verify_command()
    assert status == 3, output
    assert "OK: the chain is intact" in output
    assert f"Warning: the application's database role {_current_user()} is a superuser" in output
    assert audit_checkpoint_scheduled()["checkpoint"] == 2


@only_postgres
@pytest.mark.django_db
def test_migrate_grants_the_runtime_role_insert_and_select_only(settings, audit_runtime_role):
    role = audit_runtime_role["USER"]
    settings.AUDIT_RUNTIME_ROLE = role
    raw(f'GRANT ALL ON audit_auditevent TO "{role}"', f'REVOKE ALL ON auth_user FROM "{role}"')
    call_command("migrate", verbosity=0)

    def may(table, privilege):
        with connection.cursor() as cursor:
            cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
            return cursor.fetchone()[0]

    for table in GUARDED:
        assert may(table, "INSERT") and may(table, "SELECT")
        for privilege in ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES"):
            assert not may(table, privilege), (table, privilege)
    for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        assert may("auth_user", privilege)


@only_postgres
@pytest.mark.django_db(transaction=True)
def test_with_an_owner_url_migrate_and_flush_run_as_the_owner(settings, audit_runtime_role):
    from contoso_images.audit import roles

    owner = _current_user()
    settings.DATABASE_OWNER = {
        key: connection.settings_dict.get(key) or "" for key in ("USER", "PASSWORD", "HOST", "PORT")
    }
    seen = []

    def spy(using="default", **kwargs):
        seen.append(_current_user(using))

    from django.apps import apps

    audit = apps.get_app_config("audit")
    post_migrate.connect(spy, sender=audit, weak=False, dispatch_uid="test-owner-spy")
    try:
        with roles.connected_as(audit_runtime_role):
            append_events(2)
            call_command("migrate", verbosity=0)
            assert _current_user() == audit_runtime_role["USER"]
            call_command("flush", interactive=False, verbosity=0)
            assert _current_user() == audit_runtime_role["USER"]
            assert not AuditEvent.objects.exists()
            append_events(1)  # the runtime role still appends after the owner flushed
    finally:
        post_migrate.disconnect(sender=audit, dispatch_uid="test-owner-spy")
    assert seen == [owner, owner]
    assert AuditEvent.objects.count() == 1


def _settings_in_a_child(**environ):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "AUDIT_"))
    }
    env.update(environ, DJANGO_SETTINGS_MODULE="contoso_images.settings", DJANGO_DEBUG="true")
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.DATABASE_OWNER, settings.DATABASES['default']['USER']]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_owner_url_gives_the_owner_credentials_for_the_same_database():
    done = _settings_in_a_child(
        DATABASE_URL="postgres://contoso_app:a@db.internal:5432/contoso_images",
        DATABASE_OWNER_URL="postgres://contoso_owner:b@db.internal:5432/contoso_images",
    )
    assert done.returncode == 0, done.stderr
    owner, runtime = json.loads(done.stdout.strip().splitlines()[-1])
    assert runtime == "contoso_app"
    assert owner == {"USER": "contoso_owner", "PASSWORD": "b", "HOST": "db.internal", "PORT": 5432}
    other = _settings_in_a_child(
        DATABASE_URL="postgres://contoso_app:a@db.internal:5432/contoso_images",
        DATABASE_OWNER_URL="postgres://contoso_owner:b@db.internal:5432/elsewhere",
    )
    assert other.returncode != 0 and "the same database" in other.stderr
    sqlite = _settings_in_a_child(DATABASE_OWNER_URL="postgres://contoso_owner:b@db/x")
    assert sqlite.returncode != 0 and "PostgreSQL" in sqlite.stderr
