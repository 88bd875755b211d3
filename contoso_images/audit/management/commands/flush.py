"""``manage.py flush``, which must also empty the append-only audit record where allowed.

Django's flush (and so pytest-django between transactional tests) empties every table with
DELETE (SQLite) or TRUNCATE (PostgreSQL), which the audit triggers refuse. Where
``AUDIT_ALLOW_FLUSH`` is true (by default only in tests and debug runs) this command runs as
the tables' owner (``DATABASE_OWNER_URL`` on PostgreSQL, when set) and takes the triggers off
inside the one transaction that empties the tables, putting them back before it commits
(``guards.suspended``): only the owner may, and no session setting is involved. Elsewhere it
refuses before touching anything, because flushing would erase the audit record.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DEFAULT_DB_ALIAS

from contoso_images.audit import guards, roles, search


def flush_allowed() -> bool:
    default = bool(getattr(settings, "TESTING", False) or settings.DEBUG)
    return bool(getattr(settings, "AUDIT_ALLOW_FLUSH", default))


class Command(DjangoFlush):
    help = DjangoFlush.help + (
        " The append-only audit record is emptied too, which is allowed only where "
        "AUDIT_ALLOW_FLUSH is true (tests and debug runs by default)."
    )

    def handle(self, **options: Any) -> None:
        if not flush_allowed():
            raise CommandError(
                "Flushing would erase the append-only audit record; refused. Set "
                "AUDIT_ALLOW_FLUSH=true only on a database whose audit record may be lost."
            )
        with roles.as_owner(options.get("database") or DEFAULT_DB_ALIAS) as connection:
            # Only around the statements that empty the tables, not around the prompt
            # Django may show first (the triggers would stay off, locked, while it waits).
            execute = connection.ops.execute_sql_flush

            def execute_with_guards_off(sql_list: list[str]) -> None:
                with guards.suspended(connection):
                    execute(sql_list)
                    search.clear(connection)

            setattr(connection.ops, "execute_sql_flush", execute_with_guards_off)  # noqa: B010
            try:
                super().handle(**options)
            finally:
                delattr(connection.ops, "execute_sql_flush")
