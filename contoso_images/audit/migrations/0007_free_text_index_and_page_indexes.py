"""The audit pages at a million events (issue 19): a free-text index and composite indexes.

- The free-text index (``audit/search.py``): an FTS5 table on SQLite, filled with the events
  already recorded here and at every append from now on; a pg_trgm GIN index on PostgreSQL.
- Composite indexes for the filtered log (outcome, then action, newest first) and for the
  capture history (action and operation, newest first), so neither scans the log.

No event is changed: the guards stay as they are (``guards.ensure`` runs after migrate).
"""

from __future__ import annotations

from django.db import migrations, models


def install_text_index(apps, schema_editor):
    from contoso_images.audit import search

    search.install(schema_editor.connection)


def uninstall_text_index(apps, schema_editor):
    from contoso_images.audit import search

    search.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    # CREATE EXTENSION and the index build run outside a long transaction on PostgreSQL.
    atomic = False

    dependencies = [("audit", "0006_guards_hold_against_the_runtime_role")]

    operations = [
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                fields=["outcome", "action", "-sequence"], name="audit_event_outcome_action"
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                fields=["action", "-sequence", "operation_id"], name="audit_event_action_seq"
            ),
        ),
        migrations.RunPython(install_text_index, uninstall_text_index),
    ]
