"""The database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) on audit rows.

SQLite: BEFORE UPDATE / BEFORE DELETE triggers that RAISE(ABORT); PostgreSQL: a trigger
function that raises, on row UPDATE/DELETE and on TRUNCATE. See ``contoso_images.audit.guards``
for who may take them off (the tables' owner: migrate and the test flush) and why.
"""

from __future__ import annotations

from django.db import migrations


def install(apps, schema_editor):
    from contoso_images.audit import guards

    guards.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from contoso_images.audit import guards

    guards.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_event_chain_checkpoints")]

    operations = [migrations.RunPython(install, uninstall)]
