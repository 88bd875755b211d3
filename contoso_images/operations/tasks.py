"""django-q2 entry points. Thin: each takes ids only and hands over to the engine."""

from __future__ import annotations

from contoso_images.operations import engine


def operation_run_task(operation_id: int) -> str:
    operation = engine.run(operation_id=operation_id)
    if operation is None:
        return f"operation {operation_id}: held by another worker or already finished"
    return f"operation {operation_id}: {operation.status}"


def reconcile_scheduled() -> str:
    counts = engine.reconcile()
    return f"requeued {counts['requeued']}, resumed {counts['resumed']}"
