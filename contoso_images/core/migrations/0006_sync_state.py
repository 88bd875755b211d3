"""One sync state per (subscription, kind): the VM inventory's state leaves Subscription.

SyncState is created, and every subscription's ``synced_at`` / ``sync_error`` /
``sync_retry_after`` (which said how the VM inventory sync last went) is copied into a
``kind="inventory"`` row with the same meaning. The old columns are dropped by a later
migration, once nothing reads them; going back copies the rows onto them again.
"""

import django.db.models.deletion
from django.db import migrations, models

INVENTORY = "inventory"


def copy_inventory_state(apps, schema_editor):
    subscription = apps.get_model("core", "Subscription")
    sync_state = apps.get_model("core", "SyncState")
    sync_state.objects.bulk_create(
        [
            sync_state(
                kind=INVENTORY,
                subscription_id=row.pk,
                synced_at=row.synced_at,
                error=row.sync_error,
                retry_after=row.sync_retry_after,
            )
            for row in subscription.objects.all()
            if not sync_state.objects.filter(kind=INVENTORY, subscription_id=row.pk).exists()
        ]
    )


def copy_inventory_state_back(apps, schema_editor):
    subscription = apps.get_model("core", "Subscription")
    sync_state = apps.get_model("core", "SyncState")
    for state in sync_state.objects.filter(kind=INVENTORY, subscription__isnull=False):
        subscription.objects.filter(pk=state.subscription_id).update(
            synced_at=state.synced_at,
            sync_error=state.error,
            sync_retry_after=state.retry_after,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_sync_request_moves_to_core"),
    ]

    operations = [
        migrations.CreateModel(
            name="SyncState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=40)),
                ("scope", models.CharField(blank=True, max_length=100)),
                ("synced_at", models.DateTimeField(blank=True, null=True)),
                ("error", models.TextField(blank=True)),
                ("retry_after", models.DateTimeField(blank=True, null=True)),
                ("claimed_by", models.CharField(blank=True, max_length=200)),
                ("claimed_until", models.DateTimeField(blank=True, null=True)),
                (
                    "subscription",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sync_states",
                        to="core.subscription",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("subscription__isnull", False)),
                        fields=("kind", "subscription"),
                        name="core_syncstate_one_per_subscription",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("subscription__isnull", True)),
                        fields=("kind", "scope"),
                        name="core_syncstate_one_per_scope",
                    ),
                ],
            },
        ),
        migrations.RunPython(copy_inventory_state, copy_inventory_state_back),
    ]
