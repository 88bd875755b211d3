"""The catalog's sync state joins core's one sync state per (subscription, kind).

Every CatalogSyncState row is copied into a ``core.SyncState`` row of kind ``catalog`` with
the same subscription, time, error and retry time. The model itself is dropped by the next
migration, once nothing reads it; going back copies the rows into it again.
"""

from django.db import migrations

CATALOG = "catalog"


def copy_catalog_state(apps, schema_editor):
    catalog_state = apps.get_model("catalog", "CatalogSyncState")
    sync_state = apps.get_model("core", "SyncState")
    for row in catalog_state.objects.all():
        sync_state.objects.update_or_create(
            kind=CATALOG,
            subscription_id=row.subscription_id,
            defaults={
                "synced_at": row.synced_at,
                "error": row.error,
                "retry_after": row.retry_after,
            },
        )


def copy_catalog_state_back(apps, schema_editor):
    catalog_state = apps.get_model("catalog", "CatalogSyncState")
    sync_state = apps.get_model("core", "SyncState")
    for state in sync_state.objects.filter(kind=CATALOG, subscription__isnull=False):
        catalog_state.objects.update_or_create(
            subscription_id=state.subscription_id,
            defaults={
                "synced_at": state.synced_at,
                "error": state.error,
                "retry_after": state.retry_after,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_catalog_images_and_reviews"),
        ("core", "0006_sync_state"),
    ]

    operations = [
        migrations.RunPython(copy_catalog_state, copy_catalog_state_back),
    ]
