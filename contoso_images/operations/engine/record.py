"""What the record says as an operation goes: a step entered, a request about to leave, a step
ended, the operation ended. Each is written by the attempt that holds the row (``mine``), and
each end is one transaction with its event, so the listeners' records and the spec's
``on_succeeded`` commit or roll back with it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from contoso_images import azure
from contoso_images.operations import registry
from contoso_images.operations.engine.claim import mine
from contoso_images.operations.models import Operation, OperationStatus, OperationStep, StepStatus
from contoso_images.operations.registry import OperationEvent, Step, StepContext


def notify(name: str, operation: Operation, *, reason: str = "") -> None:
    registry.notify(
        OperationEvent(
            name=name,
            kind=operation.kind,
            target=operation.target,
            operation=operation,
            step=operation.step,
            reason=reason,
        )
    )


def _marker(operation: Operation, step: Step) -> dict[str, Any]:
    marker = (operation.state or {}).get("sent", {}).get(step.name)
    return marker if isinstance(marker, dict) else {}


def sent_marker(operation: Operation, step: Step) -> dict[str, Any] | None:
    """What was written just before the step's request last left, or None if none did."""
    marker = _marker(operation, step)
    return marker if "at" in marker else None


def mark_sent(ctx: StepContext, step: Step) -> None:
    """Remember, before the request leaves, that it may arrive (with what Azure showed)."""
    operation = ctx.operation
    marker: dict[str, Any] = {"at": timezone.now().isoformat(), "baseline": step.baseline(ctx)}
    if _marker(operation, step).get("last_try"):
        marker["last_try"] = True  # one last try stays one, whatever happens to this one
    state = dict(operation.state or {})
    state["sent"] = {**state.get("sent", {}), step.name: marker}
    mine(operation).update(state=state)
    operation.state = state
    ctx.sent = marker


def take_last_try(operation: Operation, step: Step) -> bool:
    """Claim the one last try at sending ``step`` that an operation settled after repeated
    interruptions gets; False when it was had already (a worker died on it too).

    Kept in the step's "sent" marker (engine bookkeeping, which the record leaves out)."""
    marker = _marker(operation, step)
    if marker.get("last_try"):
        return False
    state = dict(operation.state or {})
    state["sent"] = {**state.get("sent", {}), step.name: {**marker, "last_try": True}}
    if not mine(operation).update(state=state):
        return False
    operation.state = state
    return True


def enter(ctx: StepContext, step: Step, index: int) -> bool:
    """Start a step (the previous step's token is done with). False when the operation was
    asked to stop and nothing irreversible has started: the caller cancels it then.

    Entering an irreversible step and asking to cancel are both conditional UPDATEs on the
    same row, so exactly one of them wins: a cancel is never half-honoured.
    """
    operation = ctx.operation
    now = timezone.now()
    fields: dict[str, Any] = {"step": step.name, "continuation_token": ""}
    held = mine(operation)
    if not operation.irreversible_step:
        held = held.filter(cancel_requested_at__isnull=True)
        if step.is_irreversible(ctx):
            fields["irreversible_step"] = step.name
    with transaction.atomic():
        entered = held.update(**fields)
        if entered:
            OperationStep.objects.filter(operation_id=operation.pk, position=index).update(
                status=StepStatus.RUNNING, started_at=Coalesce("started_at", Value(now))
            )
    if not entered:
        operation.refresh_from_db()
        return operation.cancel_requested_at is None
    operation.step = step.name
    operation.continuation_token = ""
    operation.irreversible_step = fields.get("irreversible_step", operation.irreversible_step)
    return True


def step_ended(operation: Operation, index: int, status: str, message: str) -> None:
    with transaction.atomic():
        if mine(operation).exists():
            OperationStep.objects.filter(operation_id=operation.pk, position=index).update(
                status=status, finished_at=timezone.now(), message=message[:300]
            )
            event = "step_skipped" if status == StepStatus.SKIPPED else "step_succeeded"
            notify(event, operation, reason=message)


def _finishing(ctx: StepContext) -> None:
    """Let the spec refresh its caches before the end is recorded (once, by the holder)."""
    spec = ctx.spec
    if spec is None or spec.finished is None or ctx.cache.get("finishing"):
        return
    ctx.cache["finishing"] = True
    if mine(ctx.operation).exists():
        spec.finished(ctx)


def cancel(ctx: StepContext, index: int) -> None:
    """End the operation as asked, at a step boundary, before anything irreversible."""
    operation = ctx.operation
    _finishing(ctx)
    now = timezone.now()
    with transaction.atomic():
        ended = mine(operation).update(
            status=OperationStatus.CANCELED,
            finished_at=now,
            lease_until=None,
            progress_message="Canceled before anything irreversible was done.",
        )
        if ended:
            OperationStep.objects.filter(
                operation_id=operation.pk, position__gte=index, finished_at__isnull=True
            ).update(status=StepStatus.CANCELED, finished_at=now, message="Canceled.")
            operation.refresh_from_db()
            notify("canceled", operation)
    ctx.cache["ended"] = bool(ended)


def succeed(ctx: StepContext, *, note: str = "") -> None:
    """The operation succeeded: its end, the spec's ``on_succeeded`` (a badge put in force)
    and the listeners' records are one transaction."""
    _finishing(ctx)
    with transaction.atomic():
        ended = mine(ctx.operation).update(
            status=OperationStatus.SUCCEEDED,
            finished_at=timezone.now(),
            progress_message=note or "Completed.",
            lease_until=None,
        )
        if ended:
            ctx.operation.refresh_from_db()
            if ctx.spec is not None and ctx.spec.on_succeeded is not None:
                ctx.spec.on_succeeded(ctx)
            notify("succeeded", ctx.operation, reason=note)
    ctx.cache["ended"] = bool(ended)


def fail(
    ctx: StepContext, error: Exception | None, *, summary: str = "", code: str = "Unknown"
) -> None:
    _finishing(ctx)
    operation = ctx.operation
    now = timezone.now()
    fields: dict[str, Any] = {
        "status": OperationStatus.FAILED,
        "finished_at": now,
        "lease_until": None,
        "progress_message": "",
    }
    if isinstance(error, azure.AzureError):
        fields.update(
            error_code=error.code or "",
            error_message=error.message or "",
            error_summary=error.sentence,
            request_id=error.request_id or "",
            correlation_id=error.correlation_id or "",
        )
    else:
        fields.update(error_code=code, error_summary=summary or "Azure reported a failure.")
    with transaction.atomic():
        ended = mine(operation).update(**fields)
        if ended and operation.step:
            OperationStep.objects.filter(
                operation_id=operation.pk, name=operation.step, finished_at__isnull=True
            ).update(
                status=StepStatus.FAILED,
                finished_at=now,
                message=(fields["error_summary"] or "")[:300],
                error_code=fields["error_code"],
                error_message=fields.get("error_message", ""),
                request_id=fields.get("request_id", ""),
                correlation_id=fields.get("correlation_id", ""),
            )
        if ended:
            operation.refresh_from_db()
            notify("failed", operation, reason=fields["error_summary"])
    ctx.cache["ended"] = bool(ended)
