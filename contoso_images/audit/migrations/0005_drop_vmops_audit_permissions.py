"""The auditors' permissions once hung on vmops' Operation model, which moved to the
operations engine; ``audit.view_audit`` and ``audit.export_audit`` replaced them. The stale
copies (and the content type of the model that no longer exists) go, so a permission's
codename names one permission again."""

from __future__ import annotations

from django.db import migrations


def drop(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")
    stale = content_type.objects.filter(app_label="vmops", model="operation")
    permission.objects.filter(content_type__in=stale).delete()
    stale.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_carry_over_operations"),
        ("vmops", "0007_delete_operation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(drop, migrations.RunPython.noop)]
