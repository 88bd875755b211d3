"""PostgreSQL's two roles: the one that owns the tables, and the one the application runs as.

The triggers in ``guards.py`` can be taken off by whoever owns the tables. So the application
connects (``DATABASE_URL``) as a *runtime* role that may only INSERT and SELECT the audit
tables, with full rights on every other table; the *owner* role (``DATABASE_OWNER_URL``)
owns them and is used only by ``migrate`` and ``flush`` (and the test database set-up),
which switch the connection to it for their duration (:func:`as_owner`). After every
``migrate`` the owner grants the runtime role exactly that (:func:`grant_runtime`), so new
tables are covered. ``audit_verify`` reports a runtime role that may do more
(:func:`privileges_beyond_append`): with one URL (one user owning everything) the install
works, but the guards are only as strong as that user's restraint, and it says so.

SQLite has one file and one user: nothing here applies to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections

from contoso_images.audit.guards import GUARDED_TABLES, POSTGRES_FUNCTION

CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")
#: What the runtime role may do to the audit tables, and to every other table.
APPEND_ONLY = ("SELECT", "INSERT")
FULL = ("SELECT", "INSERT", "UPDATE", "DELETE")
#: Table privileges audit_verify reports when the runtime role holds them on an audit table.
WIDER = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")
#: On a connection switched to the owner: the runtime credentials to go back to.
RUNTIME_ATTRIBUTE = "contoso_runtime_credentials"
README = 'README, "The audit record\'s database roles"'


def quote(name: str) -> str:
    """A PostgreSQL identifier, quoted (role names come from settings)."""
    return '"' + name.replace('"', '""') + '"'


def owner_credentials() -> dict[str, Any] | None:
    """USER, PASSWORD, HOST and PORT of ``DATABASE_OWNER_URL``, or None when it is unset."""
    owner = getattr(settings, "DATABASE_OWNER", None)
    return dict(owner) if owner else None


def _switch(connection: Any, credentials: Mapping[str, Any]) -> dict[str, Any]:
    if connection.in_atomic_block:
        raise RuntimeError(
            "A database connection cannot change its user inside a transaction; "
            "run migrate and flush on their own."
        )
    previous = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
    connection.close()
    connection.settings_dict.update({k: credentials[k] for k in CREDENTIALS if k in credentials})
    return previous


def begin_owner(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Switch the connection to the owner role (False: no owner URL, or already switched)."""
    owner = owner_credentials()
    connection = connections[using]
    if owner is None or using != DEFAULT_DB_ALIAS or getattr(connection, RUNTIME_ATTRIBUTE, None):
        return False
    setattr(connection, RUNTIME_ATTRIBUTE, _switch(connection, owner))
    return True


def end_owner(using: str = DEFAULT_DB_ALIAS) -> None:
    """Back to the runtime role after :func:`begin_owner`."""
    connection = connections[using]
    runtime = getattr(connection, RUNTIME_ATTRIBUTE, None)
    if runtime:
        _switch(connection, runtime)
        setattr(connection, RUNTIME_ATTRIBUTE, None)


@contextmanager
def as_owner(using: str = DEFAULT_DB_ALIAS) -> Iterator[Any]:
    """The block runs on a connection authenticated as the owner role (``migrate``,
    ``flush``); without ``DATABASE_OWNER_URL`` the connection is left as it is."""
    switched = begin_owner(using)
    try:
        yield connections[using]
    finally:
        if switched:
            end_owner(using)


@contextmanager
def connected_as(credentials: Mapping[str, Any], using: str = DEFAULT_DB_ALIAS) -> Iterator[Any]:
    """The block runs on a connection authenticated with these credentials (tests that play
    the runtime role; ``migrate`` inside it still switches to the owner)."""
    connection = connections[using]
    saved_runtime = getattr(connection, RUNTIME_ATTRIBUTE, None)
    previous = _switch(connection, credentials)
    setattr(connection, RUNTIME_ATTRIBUTE, None)
    try:
        yield connection
    finally:
        _switch(connection, previous)
        setattr(connection, RUNTIME_ATTRIBUTE, saved_runtime)


def _current_user(connection: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return str(cursor.fetchone()[0])


def runtime_role(connection: Any) -> str:
    """The role the application runs as: ``AUDIT_RUNTIME_ROLE``, else DATABASE_URL's user
    (also while the connection is switched to the owner), else the connection's user."""
    configured = str(getattr(settings, "AUDIT_RUNTIME_ROLE", "") or "")
    if configured:
        return configured
    runtime = getattr(connection, RUNTIME_ATTRIBUTE, None)
    if runtime and runtime.get("USER"):
        return str(runtime["USER"])
    return str(connection.settings_dict.get("USER") or "") or _current_user(connection)


def grant_runtime(connection: Any, role: str) -> None:
    """As the owner: give ``role`` INSERT and SELECT only on the audit tables (taking back
    anything more), SELECT/INSERT/UPDATE/DELETE on every other table this owner has in the
    schema, and the sequences. Idempotent; run after every ``migrate``."""
    if connection.vendor != "postgresql":
        return
    grantee = quote(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            raise ImproperlyConfigured(
                f"The runtime role {role} does not exist: create it (CREATE ROLE {grantee} "
                f"LOGIN PASSWORD '...') before running migrate ({README})."
            )
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        cursor.execute(
            "SELECT c.relname, c.relkind FROM pg_class c "
            "WHERE c.relnamespace = current_schema()::regnamespace "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND pg_has_role(current_user, c.relowner, 'USAGE') ORDER BY c.relname"
        )
        relations = cursor.fetchall()
        cursor.execute(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {grantee}")
        for name, kind in relations:
            relation = quote(name)
            if kind == "S":
                cursor.execute(f"GRANT USAGE, SELECT ON SEQUENCE {relation} TO {grantee}")
            elif name in GUARDED_TABLES:
                cursor.execute(f"REVOKE ALL ON TABLE {relation} FROM {grantee}, PUBLIC")
                cursor.execute(f"GRANT {', '.join(APPEND_ONLY)} ON TABLE {relation} TO {grantee}")
            elif kind in ("v", "m"):
                cursor.execute(f"GRANT SELECT ON TABLE {relation} TO {grantee}")
            else:
                cursor.execute(f"GRANT {', '.join(FULL)} ON TABLE {relation} TO {grantee}")


def after_migrate(connection: Any) -> None:
    """post_migrate, as the owner: grant the runtime role, when it is another role."""
    if connection.vendor != "postgresql":
        return
    role = runtime_role(connection)
    if role and role != _current_user(connection):
        grant_runtime(connection, role)


def privileges_beyond_append(connection: Any, role: str | None = None) -> list[str]:
    """Sentences for each way the runtime role may do more to the audit tables than INSERT
    and SELECT (empty on SQLite, and when it may not)."""
    if connection.vendor != "postgresql":
        return []
    role = role or runtime_role(connection)
    who = f"the application's database role {role}"
    fix = f"Run the application as a role that may only INSERT and SELECT them ({README})."
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            return [f"{who} does not exist (AUDIT_RUNTIME_ROLE), so its privileges are unknown."]
        if row[0]:
            return [
                f"{who} is a superuser: it may take off any guard and rewrite the audit "
                f"record. {fix}"
            ]
        found = []
        privileges = ", ".join(["has_table_privilege(%s, c.oid, %s)"] * len(WIDER))
        sql = (
            "SELECT pg_has_role(%s, c.relowner, 'MEMBER'), pg_get_userbyid(c.relowner), "  # noqa: S608 - placeholders
            f"{privileges} FROM pg_class c WHERE c.relname = %s "
            "AND c.relnamespace = current_schema()::regnamespace"
        )
        for table in GUARDED_TABLES:
            cursor.execute(sql, [role, *[v for p in WIDER for v in (role, p)], table])
            row = cursor.fetchone()
            if row is None:
                continue
            owns, owner, *granted = row
            if owns:
                via = "owns" if owner == role else f"is a member of {owner}, which owns"
                found.append(
                    f"{who} {via} {table}, so it may disable or replace the triggers that "
                    f"guard it. {fix}"
                )
                continue
            wider = [p for p, held in zip(WIDER, granted, strict=True) if held]
            if wider:
                found.append(
                    f"{who} may {', '.join(wider)} {table}, beyond INSERT and SELECT. "
                    "Run `manage.py migrate` as the owner to take it back."
                )
        cursor.execute(
            "SELECT pg_has_role(%s, p.proowner, 'MEMBER') FROM pg_proc p WHERE p.proname = %s "
            "AND p.pronamespace = current_schema()::regnamespace",
            [role, POSTGRES_FUNCTION],
        )
        if any(held for (held,) in cursor.fetchall()):
            found.append(
                f"{who} owns the function {POSTGRES_FUNCTION}, so it may replace what every "
                f"guarding trigger runs. {fix}"
            )
    return found
