"""``manage.py migrate``, run as the tables' owner when ``DATABASE_OWNER_URL`` is set.

On PostgreSQL with two roles the application's own role (``DATABASE_URL``) may only INSERT and
SELECT the audit tables, so it cannot create, alter or guard them: migrations switch the
connection to the owner role for their duration, and afterwards (post_migrate, still as the
owner) the guards are checked and the runtime role is granted what it may do
(``roles.grant_runtime``). Without ``DATABASE_OWNER_URL`` this is Django's migrate.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DEFAULT_DB_ALIAS

from contoso_images.audit import roles


class Command(DjangoMigrate):
    help = DjangoMigrate.help + (
        " Runs as the owner role of DATABASE_OWNER_URL when it is set, then grants the "
        "application's role (DATABASE_URL) INSERT and SELECT only on the audit tables."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with roles.as_owner(options.get("database") or DEFAULT_DB_ALIAS):
            super().handle(*args, **options)
