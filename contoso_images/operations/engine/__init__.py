"""Carrying operations out in workers, step by step, and settling lost work.

An Operation row is written before any call to Azure and is the source of truth: the broker
may deliver a task twice (ORM) or lose it (Redis), so a task first claims its row with a
conditional UPDATE (``claim``), stores the poller's continuation token as soon as Azure
accepted, and a scheduled reconciler re-drives anything whose task was lost or whose worker
vanished (``lost``). A request is never sent twice blindly: every step reads Azure before
sending, and a worker that takes over without a token watches what Azure shows instead of
sending again (``drive``). Only the attempt that holds the row writes to it, so an operation
ends exactly once, and each end is recorded in one transaction (``record``).

This module is the surface the rest of the project uses: ``run``, ``enqueue``,
``enqueue_many`` and ``reconcile``. Every task the engine queues goes through ``enqueue``
here, which is what a test replaces to keep tasks from running.
"""

from __future__ import annotations

import time

from django.conf import settings

from contoso_images.operations import registry
from contoso_images.operations.engine import claim, crash, drive, lost, record
from contoso_images.operations.engine.claim import MAX_ATTEMPTS
from contoso_images.operations.engine.crash import CRASH_POINTS
from contoso_images.operations.engine.drive import EARLIER_ATTEMPT
from contoso_images.operations.models import Operation
from contoso_images.operations.registry import StepContext

__all__ = [
    "CRASH_POINTS",
    "EARLIER_ATTEMPT",
    "FAN_OUT_ABOVE",
    "FAN_OUT_TASK",
    "MAX_ATTEMPTS",
    "TASK",
    "enqueue",
    "enqueue_many",
    "reconcile",
    "run",
]

#: The django-q2 task that runs one operation (a dotted path, so nothing here imports tasks).
TASK = "contoso_images.operations.tasks.operation_run_task"
FAN_OUT_TASK = "contoso_images.operations.tasks.operations_enqueue_task"
#: Above this many, a request queues one task that queues the rest: each queued task is a
#: write to the broker, and a thousand of them made a multi-select request take seconds.
FAN_OUT_ABOVE = 20


def enqueue(operation_id: int) -> None:
    """Queue a task for the operation (callers make sure its row is committed first)."""
    from django_q.tasks import async_task

    async_task(TASK, operation_id, task_name=f"operation-{operation_id}", group="operations")


def enqueue_many(operation_ids: list[int]) -> None:
    """Queue many operations (committed) without making the request wait for each.

    If the fan-out task is lost, the reconciler queues each operation again after
    OPERATION_REQUEUE_AFTER_SECONDS; if it runs twice, the second claims nothing.
    """
    from django_q.tasks import async_task

    if len(operation_ids) <= FAN_OUT_ABOVE:
        for pk in operation_ids:
            enqueue(pk)
        return
    async_task(FAN_OUT_TASK, list(operation_ids), group="operations")


def run(*, operation_id: int, budget_seconds: float | None = None) -> Operation | None:
    """Carry one operation to its end, or as far as the budget allows; None if not claimed."""
    operation = claim.claim(operation_id)
    if operation is None:
        return None
    spec = registry.find(operation.kind)
    ctx = StepContext(operation, report=lambda message: claim.report(operation, message), spec=spec)
    if spec is None:
        summary = f"This dashboard does not know operations of kind {operation.kind}."
        record.fail(ctx, None, summary=summary)
    else:
        budget = budget_seconds if budget_seconds is not None else settings.Q_TIMEOUT - 30
        deadline = time.monotonic() + budget
        overdue = claim.overdue(operation)
        if claim.interruptions(operation) > MAX_ATTEMPTS or overdue:
            drive.settle_without_sending(ctx, spec, deadline=deadline, may_send=not overdue)
        else:
            drive.run_spec(ctx, spec, deadline=deadline)
    if ctx.cache.get("handed_off"):
        # Handed back to the queue between two polls: its next turn is a task of its own.
        crash.point("during_handoff", operation)
        enqueue(operation.pk)
    operation.refresh_from_db()
    return operation


def reconcile() -> dict[str, int]:
    """Re-queue operations whose task was lost or whose worker died (scheduled).

    Safe to run any time and from several processes: a duplicate task finds the row claimed
    and does nothing, and a takeover resumes from the stored token.
    """
    found = lost.find()
    for pk in [*found.queued, *found.expired]:
        enqueue(pk)
    return {"requeued": len(found.queued), "resumed": len(found.expired)}
