"""The guards hold against the application's own database user (issue 20).

- The chain-head row goes: anyone with the database credentials could rewind it, and the
  head is the newest event anyway (appends now serialise on an advisory lock).
- Verification runs are signed with the checkpoint key and guarded like the events; the
  unsigned runs kept so far are dropped (they only fed the status panel, which must not show
  a run it cannot vouch for; the next verification writes a signed one).
- The guards are installed again as ``guards.py`` now makes them: no session setting or
  function lifts them any more, the verification table is guarded too, and PostgreSQL's
  triggers are ENABLE ALWAYS.
"""

from __future__ import annotations

from django.db import migrations, models

VERIFICATIONS = ("audit_auditverification",)


def forget_unsigned_runs(apps, schema_editor):
    from contoso_images.audit import guards

    guards.uninstall(schema_editor.connection, tables=VERIFICATIONS)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditverification")


def install(apps, schema_editor):
    from contoso_images.audit import guards

    guards.install(schema_editor.connection)


def unguard_verifications(apps, schema_editor):
    from contoso_images.audit import guards

    guards.uninstall(schema_editor.connection, tables=VERIFICATIONS)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_drop_vmops_audit_permissions")]

    operations = [
        migrations.RunPython(forget_unsigned_runs, migrations.RunPython.noop),
        migrations.DeleteModel(name="AuditChainHead"),
        migrations.AddField(
            model_name="auditverification",
            name="key_id",
            field=models.CharField(default="", max_length=16),
        ),
        migrations.AddField(
            model_name="auditverification",
            name="signature",
            field=models.CharField(default="", max_length=64),
        ),
        migrations.RunPython(install, unguard_verifications),
    ]
