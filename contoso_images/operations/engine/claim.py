"""Who holds an operation: the claim, its lease, and the writes only the holder may make.

A conditional UPDATE on (status, attempts) decides who owns an operation: a worker claims a
queued row, or takes over a running one whose lease ran out (its worker died). Every later
write goes through ``mine``, which matches only while this attempt still holds the row, so
after a takeover a late worker's writes match nothing and an operation ends exactly once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from contoso_images import azure
from contoso_images.operations.engine import timing
from contoso_images.operations.models import Operation, OperationStatus
from contoso_images.operations.registry import StepContext

#: Claims after a crash (not planned pauses) after which the operation is settled from what
#: Azure shows, without sending anything more.
MAX_ATTEMPTS = 5


def claim(operation_id: int) -> Operation | None:
    """Take the operation with a compare-and-set; a live lease elsewhere means hands off."""
    now = timezone.now()
    lease = now + timedelta(seconds=timing.lease_seconds())
    claimed = Operation.objects.filter(pk=operation_id, status=OperationStatus.QUEUED).update(
        status=OperationStatus.RUNNING,
        started_at=Coalesce("started_at", Value(now)),  # kept across hand-offs
        attempts=F("attempts") + 1,
        lease_until=lease,
        worker=timing.worker_name(),
    )
    if not claimed:
        # A previous attempt died (its lease ran out): take over from where it stopped.
        claimed = Operation.objects.filter(
            Q(lease_until__lt=now) | Q(lease_until__isnull=True),
            pk=operation_id,
            status=OperationStatus.RUNNING,
        ).update(attempts=F("attempts") + 1, lease_until=lease, worker=timing.worker_name())
    if not claimed:
        return None
    return Operation.objects.get(pk=operation_id)


def mine(operation: Operation) -> QuerySet[Operation]:
    """The operation, only while this attempt still holds it: after a takeover, a late
    worker's writes match nothing, so an operation ends exactly once."""
    return Operation.objects.filter(
        pk=operation.pk, status=OperationStatus.RUNNING, attempts=operation.attempts
    )


def interruptions(operation: Operation) -> int:
    """Claims that were not planned: every claim beyond the first and the hand-offs."""
    return operation.attempts - operation.handoffs - 1


def overdue(operation: Operation) -> bool:
    started = operation.started_at or operation.requested_at
    return timezone.now() - started > timedelta(seconds=timing.give_up_seconds())


def report(operation: Operation, message: str) -> None:
    mine(operation).update(progress_message=message[:300])


def renew(operation: Operation, *, message: str = "") -> None:
    elapsed = int((timezone.now() - (operation.started_at or timezone.now())).total_seconds())
    mine(operation).update(
        lease_until=timezone.now() + timedelta(seconds=timing.lease_seconds()),
        progress_message=message
        or f"Azure reports the operation in progress ({elapsed} s so far).",
    )


def keep_token(operation: Operation, token: str) -> None:
    """Azure accepted the request: its continuation token is what a takeover resumes from."""
    mine(operation).update(
        continuation_token=token,
        progress_message="Azure accepted the request.",
        lease_until=timezone.now() + timedelta(seconds=timing.lease_seconds()),
    )
    operation.continuation_token = token


def hand_off(ctx: StepContext) -> None:
    """Put the operation back in the queue with its token; the next claim resumes polling.

    The row is queued here; the task is sent by ``run`` once this attempt has stopped
    (``ctx.cache["handed_off"]``), so nothing of this attempt runs beside the next one.
    """
    operation = ctx.operation
    handed = mine(operation).update(
        status=OperationStatus.QUEUED,
        lease_until=None,
        handoffs=F("handoffs") + 1,
        last_enqueued_at=timezone.now(),
    )
    ctx.cache["handed_off"] = bool(handed)


def release(operation: Operation, *, retry_after: int, note: str, planned: bool = False) -> None:
    """Stop working on it for now; the reconciler picks it up once the lease has run out.

    A planned release (Azure throttled us, could not be reached, or the task's time budget
    ran out) is a pause like a hand-off, not an interruption: it does not count towards
    MAX_ATTEMPTS."""
    fields: dict[str, Any] = {
        "lease_until": timezone.now() + timedelta(seconds=retry_after),
        "progress_message": note[:300],
    }
    if planned:
        fields["handoffs"] = F("handoffs") + 1
    mine(operation).update(**fields)


def pause(operation: Operation, error: azure.AzureError) -> None:
    """A planned release for as long as Azure asked (429, 503), or a while when it could not
    be reached or gave no Retry-After."""
    release(
        operation,
        retry_after=error.retry_after or timing.retry_seconds(),
        note=error.sentence,
        planned=True,
    )
