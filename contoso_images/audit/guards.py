"""The database's own refusal to change or remove audit rows (triggers), and its one door.

The model and the admin refuse changes, but a bug, a shell or a careless SQL statement goes
around them; these triggers make the database itself refuse UPDATE and DELETE (and TRUNCATE
on PostgreSQL) on the event and checkpoint tables.

The door: a whole-database ``manage.py flush`` (which is how pytest-django empties the test
database between transactional tests: DELETE on SQLite, TRUNCATE on PostgreSQL) lifts the
guard for its own connection only, and only where ``AUDIT_ALLOW_FLUSH`` is true (tests and
debug runs by default). On SQLite the triggers ask a function this process registers on each
of its connections (``contoso_audit_guard_lifted()``; any other client lacks it, so its
UPDATE or DELETE fails too); on PostgreSQL they read a session setting. Neither stops
someone who may drop triggers; that is what the hash chain and the checkpoints are for.

SQLite rebuilds a table to alter it (dropping its triggers), so triggers are checked and
re-created after every ``migrate`` as well as by the migration that first adds them, and
``audit_verify`` reports any that are missing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DatabaseError

logger = logging.getLogger(__name__)

GUARDED_TABLES = ("audit_auditevent", "audit_auditcheckpoint")
SQLITE_FUNCTION = "contoso_audit_guard_lifted"
POSTGRES_SETTING = "contoso.audit_guard_lifted"
POSTGRES_FUNCTION = "contoso_audit_refuse_change"
#: The attribute on a Django connection that says the guard is lifted (SQLite).
LIFTED_ATTRIBUTE = "contoso_audit_guard_lifted"
REFUSAL = "audit records are append-only"


def trigger_names(table: str, vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"{table}_append_only", f"{table}_no_truncate"]
    return [f"{table}_no_update", f"{table}_no_delete"]


def _sqlite_statements() -> list[str]:
    statements = []
    for table in GUARDED_TABLES:
        for verb in ("UPDATE", "DELETE"):
            name = f"{table}_no_{verb.lower()}"
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {verb} ON {table} "
                f"WHEN NOT {SQLITE_FUNCTION}() "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {verb} on {table} refused'); END"
            )
    return statements


def _postgres_statements() -> list[str]:
    statements = [
        f"""
        CREATE OR REPLACE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF coalesce(current_setting('{POSTGRES_SETTING}', true), '') = 'on' THEN
                IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '{REFUSAL}: % on % refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END;
        $$
        """
    ]
    for table in GUARDED_TABLES:
        row, truncate = trigger_names(table, "postgresql")
        statements += [
            f"CREATE OR REPLACE TRIGGER {row} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {POSTGRES_FUNCTION}()",
            f"CREATE OR REPLACE TRIGGER {truncate} BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {POSTGRES_FUNCTION}()",
        ]
    return statements


def install(connection: Any) -> None:
    """Create the triggers (idempotent: migrations and every ``migrate`` call it)."""
    vendor = connection.vendor
    if vendor == "sqlite":
        statements = _sqlite_statements()
    elif vendor == "postgresql":
        statements = _postgres_statements()
    else:
        logger.warning("Audit tables are not guarded by triggers on %s.", vendor)
        return
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def uninstall(connection: Any) -> None:
    """Drop the triggers (the reverse of the migration that adds them)."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for table in GUARDED_TABLES:
            for name in trigger_names(table, vendor):
                if vendor == "postgresql":
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                elif vendor == "sqlite":
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        if vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {POSTGRES_FUNCTION}()")


def missing(connection: Any) -> list[str]:
    """The triggers that should guard the audit tables and do not (empty when all do)."""
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        return []
    wanted = [name for table in GUARDED_TABLES for name in trigger_names(table, vendor)]
    placeholders = ", ".join(["%s"] * len(wanted))
    if vendor == "sqlite":
        sql = f"SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN ({placeholders})"  # noqa: S608 - placeholders only
    else:
        sql = f"SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname IN ({placeholders})"  # noqa: S608 - placeholders only
    with connection.cursor() as cursor:
        cursor.execute(sql, wanted)
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in wanted if name not in present]


def register_sqlite_function(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created receiver: give each SQLite connection the function the triggers ask."""
    if connection.vendor != "sqlite":
        return

    def lifted() -> int:
        return 1 if getattr(connection, LIFTED_ATTRIBUTE, False) else 0

    connection.connection.create_function(SQLITE_FUNCTION, 0, lifted)


@contextmanager
def lifted(connection: Any) -> Iterator[None]:
    """Let this connection change audit rows for the duration (flush, and tests that play
    the attacker). Nothing else in the application uses it."""
    vendor = connection.vendor
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET {POSTGRES_SETTING} = 'on'")
    setattr(connection, LIFTED_ATTRIBUTE, True)
    try:
        yield
    finally:
        setattr(connection, LIFTED_ATTRIBUTE, False)
        if vendor == "postgresql":
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"RESET {POSTGRES_SETTING}")
            except DatabaseError:
                # An aborted transaction: its rollback undoes the SET made inside it.
                logger.debug("Could not reset %s; the rollback will.", POSTGRES_SETTING)
