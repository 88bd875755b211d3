"""Subscription moves from vmops to core, keeping every row and every foreign key.

The model's state is created here on the existing table, which is then renamed; vmops'
next migration drops its own state of the model. No row is copied.
"""

from __future__ import annotations

from django.db import migrations, models


def adopt_content_type(apps, schema_editor):
    """Keep the content type (and the permissions hanging on it) rather than orphan it."""
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="core", model="subscription").exists():
        content_type.objects.filter(app_label="vmops", model="subscription").update(
            app_label="core"
        )


def return_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="core", model="subscription").update(app_label="vmops")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_heartbeat_schedule"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("vmops", "0005_operation_drop_guessed_progress"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Subscription",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("subscription_id", models.CharField(max_length=64, unique=True)),
                        ("display_name", models.CharField(blank=True, max_length=200)),
                        ("synced_at", models.DateTimeField(blank=True, null=True)),
                        ("sync_error", models.TextField(blank=True)),
                        ("sync_retry_after", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "ordering": ["display_name", "subscription_id"],
                        "db_table": "vmops_subscription",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="subscription", table=None),
        migrations.RunPython(adopt_content_type, return_content_type),
    ]
