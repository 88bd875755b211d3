"""vmops' operations now live in the shared engine (operations.0002 carried every row over)."""

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("vmops", "0006_subscription_moves_to_core"),
        ("operations", "0002_carry_over_vm_operations"),
    ]

    operations = [migrations.DeleteModel(name="Operation")]
