"""Subscription now belongs to core (core.0004 took over its table); vmops forgets its state."""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("vmops", "0005_operation_drop_guessed_progress"),
        ("core", "0004_subscription"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="virtualmachine",
                    name="subscription",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="vms",
                        to="core.subscription",
                    ),
                ),
                migrations.DeleteModel(name="Subscription"),
            ],
            database_operations=[],
        ),
    ]
