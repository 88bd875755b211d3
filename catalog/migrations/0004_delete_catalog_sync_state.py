"""CatalogSyncState goes: 0003 copied its rows into core's SyncState(kind="catalog").

Going back re-creates it empty, and 0003's reverse copies the rows into it again.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_sync_state_moves_to_core"),
    ]

    operations = [
        migrations.DeleteModel(
            name="CatalogSyncState",
        ),
    ]
