from __future__ import annotations

from django.db import migrations


def create_schedule(apps, schema_editor):
    """A one-minute heartbeat, so /health/ can tell whether a task cluster is alive."""
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="heartbeat",
        defaults={
            "func": "contoso_images.core.tasks.heartbeat",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="heartbeat").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_role_groups"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
