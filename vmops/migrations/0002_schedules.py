from __future__ import annotations

from django.db import migrations

#: The schedules as they were first created; the schedule registry keeps them current
#: after every migrate.
SCHEDULES = {
    "inventory-sync": "vmops.tasks.inventory_sync_scheduled",
    "operations-reconcile": "vmops.tasks.operations_reconcile_scheduled",
}


def create(apps, schema_editor):
    schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES.items():
        schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1},
        )


def delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    """The inventory sync and the operation reconciler run every minute by default."""

    dependencies = [
        ("vmops", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, delete)]
