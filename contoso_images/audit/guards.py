"""The database's own refusal to change or remove audit rows (triggers), and how it is checked.

The model and the admin refuse changes, but a bug, a shell or a careless SQL statement goes
around them; these triggers make the database itself refuse UPDATE and DELETE (and TRUNCATE
on PostgreSQL) on the event, checkpoint and verification-run tables. They always refuse:
there is no session setting or function that lifts them (there used to be, and anyone with
the application's credentials could use it).

Who can take them off:

- PostgreSQL: only the tables' owner (ALTER TABLE ... DISABLE TRIGGER, CREATE OR REPLACE).
  With two roles (``roles.py``) the application runs as a role that may only INSERT and
  SELECT the audit tables; the owner role runs ``migrate`` and the test ``flush``, which
  takes the triggers off inside its own transaction (:func:`suspended`). The triggers are
  ENABLE ALWAYS, so ``session_replication_role = replica`` does not skip them either.
- SQLite: one file, one user. Whoever can write the file can drop a trigger, so here the
  guards stop accidents and the hash chain, the checkpoints and the checkpoint trail outside
  the database catch the rest.

:func:`inspect` compares what the database holds with what :func:`install` creates (the
migrations call it): missing, disabled, replaced or narrowed triggers, a replaced guard
function, and triggers or rules added to the audit tables (one that swallows INSERTs would
silently drop new events). ``audit_verify`` reports each one. SQLite rebuilds a table to alter
it (dropping its triggers), so :func:`ensure` puts them back after every ``migrate``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

GUARDED_TABLES = ("audit_auditevent", "audit_auditcheckpoint", "audit_auditverification")
POSTGRES_FUNCTION = "contoso_audit_refuse_change"
REFUSAL = "audit records are append-only"
#: The guard function's body, as the migrations install it (compared, whitespace aside).
POSTGRES_BODY = f"""
BEGIN
    RAISE EXCEPTION '{REFUSAL}: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
"""
#: Set on a connection while :func:`suspended` has the triggers off (flush).
SUSPENDED_ATTRIBUTE = "contoso_audit_guards_suspended"
_ENABLED = {
    "D": "is disabled (ALTER TABLE ... DISABLE TRIGGER): the database no longer refuses "
    "changes to {table}",
    "R": "fires only in replica sessions (ENABLE REPLICA TRIGGER): the database no longer "
    "refuses changes to {table}",
    "O": "may be skipped by a session that sets session_replication_role = replica (the "
    "migrations make it ENABLE ALWAYS)",
}


@dataclass(frozen=True)
class GuardProblem:
    """A guard that is not as the migrations made it: ``kind`` is missing, disabled, altered,
    function or unexpected; ``message`` says which and what it means."""

    kind: str
    message: str

    def __str__(self) -> str:
        return self.message


def trigger_names(table: str, vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"{table}_append_only", f"{table}_no_truncate"]
    return [f"{table}_no_update", f"{table}_no_delete"]


def expected_triggers(vendor: str) -> dict[str, tuple[str, str]]:
    """{trigger name: (table, the CREATE TRIGGER statement the migrations run)}.

    PostgreSQL's are written as ``pg_get_triggerdef`` prints them (events in its order), so
    the definition read back can be compared with them."""
    triggers: dict[str, tuple[str, str]] = {}
    for table in GUARDED_TABLES:
        if vendor == "postgresql":
            row, truncate = trigger_names(table, vendor)
            triggers[row] = (
                table,
                f"CREATE TRIGGER {row} BEFORE DELETE OR UPDATE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {POSTGRES_FUNCTION}()",
            )
            triggers[truncate] = (
                table,
                f"CREATE TRIGGER {truncate} BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {POSTGRES_FUNCTION}()",
            )
        else:
            for name, verb in zip(trigger_names(table, vendor), ("UPDATE", "DELETE"), strict=True):
                triggers[name] = (
                    table,
                    f"CREATE TRIGGER {name} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {verb} on {table} refused'); END",
                )
    return triggers


def _function_sql() -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $${POSTGRES_BODY}$$"
    )


def _normal(sql: str, schema: str = "") -> str:
    """A definition with spelling that does not change its meaning taken out: case,
    whitespace, quotes, the current schema's prefix, PROCEDURE for FUNCTION."""
    text = " ".join(sql.replace('"', "").split()).lower()
    text = text.replace("execute procedure", "execute function")
    if schema:
        text = re.sub(rf"(?<![\w.]){re.escape(schema.lower())}\.", "", text)
    return text


def _tables(tables: tuple[str, ...] | None) -> tuple[str, ...]:
    return GUARDED_TABLES if tables is None else tables


def install(connection: Any, tables: tuple[str, ...] | None = None) -> None:
    """Create the guards, replacing any that differ (idempotent: migrations and every
    ``migrate`` call it)."""
    vendor = connection.vendor
    wanted = {n: t for n, t in expected_triggers(vendor).items() if t[0] in _tables(tables)}
    if vendor not in ("sqlite", "postgresql"):
        logger.warning("Audit tables are not guarded by triggers on %s.", vendor)
        return
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(_function_sql())
            for name, (table, sql) in wanted.items():
                cursor.execute(sql.replace("CREATE TRIGGER", "CREATE OR REPLACE TRIGGER", 1))
                # CREATE OR REPLACE leaves a trigger ENABLE (origin sessions only).
                cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}")
            return
        placeholders = ", ".join(["%s"] * len(wanted))
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "  # noqa: S608 - placeholders
            f"AND name IN ({placeholders})",
            list(wanted),
        )
        present = dict(cursor.fetchall())
        for name, (_, sql) in wanted.items():
            if name in present and _normal(present[name]) == _normal(sql):
                continue
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(sql)


def uninstall(connection: Any, tables: tuple[str, ...] | None = None) -> None:
    """Drop the triggers (the reverse of the migrations that add them); the function too,
    when every table's triggers go."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for table in _tables(tables):
            for name in trigger_names(table, vendor):
                if vendor == "postgresql":
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                elif vendor == "sqlite":
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        if vendor == "postgresql" and tables is None:
            cursor.execute(f"DROP FUNCTION IF EXISTS {POSTGRES_FUNCTION}()")


def inspect(connection: Any) -> list[GuardProblem]:
    """Every way the guards differ from what :func:`install` creates (empty when none)."""
    if connection.vendor == "postgresql":
        return _inspect_postgres(connection)
    if connection.vendor == "sqlite":
        return _inspect_sqlite(connection)
    return []


def _missing(name: str, table: str) -> GuardProblem:
    return GuardProblem(
        "missing",
        f"the database trigger {name} is missing: the database no longer refuses changes "
        f"to {table} (run `manage.py migrate` as the tables' owner).",
    )


def _altered(name: str, table: str, found: str) -> GuardProblem:
    return GuardProblem(
        "altered",
        f"the database trigger {name} differs from the one the migrations install: it may no "
        f"longer refuse changes to {table} (found: {' '.join(found.split())}).",
    )


def _unexpected(what: str, name: str, table: str, found: str) -> GuardProblem:
    return GuardProblem(
        "unexpected",
        f"an unexpected {what} {name} on {table}: nothing but the migrations' guards belongs "
        f"there, and one could hide or drop events (found: {' '.join(found.split())}).",
    )


def _inspect_sqlite(connection: Any) -> list[GuardProblem]:
    wanted = expected_triggers("sqlite")
    names = ", ".join(["%s"] * len(wanted))
    tables = ", ".join(["%s"] * len(GUARDED_TABLES))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' "  # noqa: S608 - placeholders
            f"AND (name IN ({names}) OR tbl_name IN ({tables}))",
            [*wanted, *GUARDED_TABLES],
        )
        present = {name: (table, sql or "") for name, table, sql in cursor.fetchall()}
    problems = []
    for name, (table, sql) in wanted.items():
        if name not in present:
            problems.append(_missing(name, table))
        elif _normal(present[name][1]) != _normal(sql):
            problems.append(_altered(name, table, present[name][1]))
    for name, (table, sql) in present.items():
        if name not in wanted:
            problems.append(_unexpected("trigger", name, table, sql))
    return problems


def _inspect_postgres(connection: Any) -> list[GuardProblem]:
    wanted = expected_triggers("postgresql")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        cursor.execute(
            "SELECT c.relname, t.tgname, t.tgenabled, pg_get_triggerdef(t.oid) "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace "
            "AND c.relname = ANY(%s)",
            [list(GUARDED_TABLES)],
        )
        found = {(row[0], row[1]): (row[2], row[3]) for row in cursor.fetchall()}
        cursor.execute(
            "SELECT p.prosrc, l.lanname, p.prosecdef, p.proconfig FROM pg_proc p "
            "JOIN pg_language l ON l.oid = p.prolang "
            "WHERE p.proname = %s AND p.pronamespace = current_schema()::regnamespace",
            [POSTGRES_FUNCTION],
        )
        functions = cursor.fetchall()
        cursor.execute(
            "SELECT tablename, rulename, definition FROM pg_rules "
            "WHERE schemaname = current_schema() AND tablename = ANY(%s)",
            [list(GUARDED_TABLES)],
        )
        rules = cursor.fetchall()
    problems = []
    for name, (table, sql) in wanted.items():
        if (table, name) not in found:
            problems.append(_missing(name, table))
            continue
        enabled, definition = found[(table, name)]
        if _normal(definition, schema) != _normal(sql, schema):
            problems.append(_altered(name, table, definition))
        if enabled in _ENABLED:
            message = _ENABLED[enabled].format(table=table)
            problems.append(GuardProblem("disabled", f"the database trigger {name} {message}."))
    for (table, name), (_, definition) in found.items():
        if name not in wanted:
            problems.append(_unexpected("trigger", name, table, definition))
    for table, rule, definition in rules:
        problems.append(_unexpected("rule", rule, table, definition))
    if not functions:
        problems.append(
            GuardProblem(
                "function",
                f"the function {POSTGRES_FUNCTION}, which every guarding trigger runs, is "
                "missing (run `manage.py migrate` as the tables' owner).",
            )
        )
    for body, language, definer, config in functions:
        if (
            " ".join(body.split()) != " ".join(POSTGRES_BODY.split())
            or language != "plpgsql"
            or definer
            or config
        ):
            problems.append(
                GuardProblem(
                    "function",
                    f"the function {POSTGRES_FUNCTION}, which every guarding trigger runs, "
                    "differs from the one the migrations install: the triggers may no longer "
                    f"refuse anything (found: {' '.join(body.split())}).",
                )
            )
    return problems


def ensure(connection: Any) -> list[GuardProblem]:
    """Put back any guard that is not as the migrations made it (after every ``migrate``,
    which the tables' owner runs) and return what was wrong."""
    if getattr(connection, SUSPENDED_ATTRIBUTE, False):
        return []
    tables = set(connection.introspection.table_names())
    if not set(GUARDED_TABLES) <= tables:
        return []
    problems = inspect(connection)
    if problems:
        install(connection)
        tampered = [p for p in problems if p.kind != "missing"]
        if tampered:
            logger.warning("Put back the audit record's guards: %s", "; ".join(map(str, tampered)))
    return problems


@contextmanager
def suspended(connection: Any) -> Iterator[None]:
    """Take the guards off for the block, in one transaction, and put them back as the
    migrations make them (``flush``; only the tables' owner may, on PostgreSQL).

    PostgreSQL: ALTER TABLE ... DISABLE TRIGGER (needs ownership; held under an exclusive
    lock and undone by a rollback). SQLite: drop and re-create the triggers.
    """
    vendor = connection.vendor
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            for table in GUARDED_TABLES:
                for name in trigger_names(table, vendor):
                    if vendor == "postgresql":
                        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
                    elif vendor == "sqlite":
                        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        setattr(connection, SUSPENDED_ATTRIBUTE, True)
        try:
            yield
        finally:
            setattr(connection, SUSPENDED_ATTRIBUTE, False)
        install(connection)
