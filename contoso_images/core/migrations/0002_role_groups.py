from __future__ import annotations

from django.db import migrations

from contoso_images.core.roles import sync_role_groups


class Migration(migrations.Migration):
    """Create the operators, reviewers and auditors groups with their permissions."""

    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0001_initial"),
        ("vmops", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
