"""django-q2 entry points. Thin: each takes ids only and hands over to a service."""

from __future__ import annotations

from vmops import services


def vm_operation_run(operation_id: int) -> str:
    operation = services.operation_run(operation_id=operation_id)
    if operation is None:
        return f"operation {operation_id}: held by another worker or already finished"
    return f"operation {operation_id}: {operation.status}"


def inventory_sync_scheduled() -> str:
    return "; ".join(str(result) for result in services.inventory_sync_all())


def operations_reconcile_scheduled() -> str:
    counts = services.operations_reconcile()
    return f"requeued {counts['requeued']}, resumed {counts['resumed']}"
