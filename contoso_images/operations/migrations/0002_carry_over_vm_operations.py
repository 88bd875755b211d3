"""Every operation vmops recorded moves into the shared engine's table, ids unchanged.

A VM operation's target becomes the VM's ARM id; its kind becomes ``vm.<action>``; each gets
the one step its spec has, ended as the operation ended. Ids are kept so that pages polling
``?op=<id>`` and links to records still find them.
"""

from __future__ import annotations

from django.core.management.color import no_style
from django.db import migrations

BATCH = 500
STEP_STATUS = {
    "queued": "pending",
    "running": "running",
    "succeeded": "succeeded",
    "failed": "failed",
}
LABELS = {"start": "Start", "power_off": "Stop", "deallocate": "Deallocate", "restart": "Restart"}
COPIED = (
    "status",
    "requested_by_id",
    "requested_at",
    "target_name",
    "target_resource_group",
    "target_subscription_id",
    "parameters",
    "started_at",
    "finished_at",
    "continuation_token",
    "attempts",
    "handoffs",
    "last_enqueued_at",
    "worker",
    "lease_until",
    "progress_message",
    "error_code",
    "error_message",
    "error_summary",
    "request_id",
    "correlation_id",
)


def carry_over(apps, schema_editor):
    old = apps.get_model("vmops", "Operation")
    new = apps.get_model("operations", "Operation")
    step = apps.get_model("operations", "OperationStep")
    rows = old.objects.select_related("vm").order_by("pk")
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:BATCH])
        if not batch:
            break
        new.objects.bulk_create(
            new(
                pk=op.pk,
                kind=f"vm.{op.kind}",
                target_id=op.vm.azure_id,
                target_key=op.vm.azure_id.lower(),
                target_type="Microsoft.Compute/virtualMachines",
                step=op.kind,
                **{field: getattr(op, field) for field in COPIED},
            )
            for op in batch
        )
        step.objects.bulk_create(
            step(
                operation_id=op.pk,
                position=0,
                name=op.kind,
                label=LABELS.get(op.kind, op.kind),
                status=STEP_STATUS.get(op.status, "pending"),
                started_at=op.started_at,
                finished_at=op.finished_at,
                message=op.progress_message[:300] if op.finished_at else "",
                error_code=op.error_code,
                error_message=op.error_message,
                request_id=op.request_id,
                correlation_id=op.correlation_id,
            )
            for op in batch
        )
        last = batch[-1].pk
    # Rows were inserted with their ids: the next id must come after them (PostgreSQL).
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [new, step]):
            cursor.execute(sql)


def carry_back(apps, schema_editor):
    new = apps.get_model("operations", "Operation")
    old = apps.get_model("vmops", "Operation")
    vms = apps.get_model("vmops", "VirtualMachine")
    by_key = dict(vms.objects.values_list("azure_id", "pk"))
    for op in new.objects.filter(kind__startswith="vm.").order_by("pk"):
        if op.target_key not in by_key:
            continue
        old.objects.create(
            pk=op.pk,
            vm_id=by_key[op.target_key],
            kind=op.kind.removeprefix("vm."),
            **{field: getattr(op, field) for field in COPIED},
        )
    apps.get_model("operations", "OperationStep").objects.all().delete()
    new.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0001_initial"),
        ("vmops", "0006_subscription_moves_to_core"),
    ]

    operations = [migrations.RunPython(carry_over, carry_back)]
