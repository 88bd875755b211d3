"""django-q2 entry points. Thin: each takes ids only and hands over to the engine."""

from __future__ import annotations

from contoso_images.operations import engine


def operation_run_task(operation_id: int) -> str:
    operation = engine.run(operation_id=operation_id)
    if operation is None:
        return f"operation {operation_id}: held by another worker or already finished"
    return f"operation {operation_id}: {operation.status}"


def operations_enqueue_task(operation_ids: list[int]) -> str:
    for pk in operation_ids:
        engine.enqueue(pk)
    return f"queued {len(operation_ids)} operations"


def reconcile_scheduled() -> str:
    counts = engine.reconcile()
    return f"requeued {counts['requeued']}, resumed {counts['resumed']}"
