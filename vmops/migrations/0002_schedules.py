from __future__ import annotations

from django.conf import settings
from django.db import migrations

from vmops.schedules import SCHEDULES, ensure_schedules


def create(apps, schema_editor):
    ensure_schedules(apps.get_model("django_q", "Schedule"), settings)


def delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    """The inventory sync and the operation reconciler run every minute by default."""

    dependencies = [
        ("vmops", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, delete)]
