"""``manage.py flush``, which must also empty the append-only audit tables where allowed.

Django's flush (and so pytest-django between transactional tests) empties every table with
DELETE (SQLite) or TRUNCATE (PostgreSQL), which the audit triggers refuse. Where
``AUDIT_ALLOW_FLUSH`` is true (by default only in tests and debug runs) this command lifts
the guard for its own connection while it runs; elsewhere it refuses before touching
anything, because flushing would erase the audit record.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DEFAULT_DB_ALIAS, connections

from contoso_images.audit import guards


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
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        with guards.lifted(connection):
            super().handle(**options)
