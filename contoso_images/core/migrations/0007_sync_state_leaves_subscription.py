"""Subscription's own sync columns go: 0006 copied them into SyncState(kind="inventory").

Going back re-adds them empty, and 0006's reverse copies the rows onto them again.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_sync_state"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="subscription",
            name="sync_error",
        ),
        migrations.RemoveField(
            model_name="subscription",
            name="sync_retry_after",
        ),
        migrations.RemoveField(
            model_name="subscription",
            name="synced_at",
        ),
    ]
