"""Asking for a power action, carrying it out in a worker, and settling lost work.

An Operation row is written before any call to Azure and is the source of truth: the broker
may deliver a task twice (ORM) or lose it (Redis), so a task first claims its row with a
conditional UPDATE, stores the poller's continuation token as soon as Azure accepted, and a
scheduled reconciler re-drives anything whose worker vanished. The action is never sent twice
blindly: a task that takes over without a token reads Azure's state before sending again.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from contoso_images import azure
from vmops.choices import UNFINISHED_STATUSES, OperationKind, OperationStatus, PowerState
from vmops.models import Operation, VirtualMachine
from vmops.rules import TRANSITION_STATE, action_availability, already_done
from vmops.services.inventory import vm_read_live

logger = logging.getLogger(__name__)

BEGIN: dict[str, Callable[[str, str, str], str]] = {
    OperationKind.START: azure.vm_begin_start,
    OperationKind.POWER_OFF: azure.vm_begin_power_off,
    OperationKind.DEALLOCATE: azure.vm_begin_deallocate,
    OperationKind.RESTART: azure.vm_begin_restart,
}
#: Attempts (claims) after which an operation that keeps being interrupted is failed.
MAX_ATTEMPTS = 5
#: Seconds one status call may wait inside the gateway before the task records progress.
POLL_STEP_SECONDS = 3.0


def _poll_step() -> float:
    """Renew the lease well before it runs out, however short it is configured."""
    return min(POLL_STEP_SECONDS, _lease_seconds() / 3)


class ActionNotAllowed(Exception):
    """The VM's state makes the action invalid; the message is a sentence for the user."""


def _lease_seconds() -> int:
    return getattr(settings, "OPERATION_LEASE_SECONDS", 60)


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- Request (web process) ------------------------------------------------------------------


def vm_action_request(*, vm: VirtualMachine, kind: str, user: Any) -> tuple[Operation, bool]:
    """Create the operation and queue it after commit; a repeated click gets the same one.

    Returns (operation, created). The conditional unique constraint, not this check, is what
    guarantees one unfinished operation per VM when two requests race.
    """
    if kind not in BEGIN:
        raise ActionNotAllowed("Unknown action.")
    unfinished = vm_unfinished_operation(vm=vm)
    if unfinished is not None:
        return unfinished, False
    availability = action_availability(
        kind=kind, power_state=vm.power_state, generalized=vm.generalized, gone=bool(vm.gone_at)
    )
    if not availability.allowed:
        raise ActionNotAllowed(availability.reason)
    now = timezone.now()
    try:
        with transaction.atomic():
            operation = Operation.objects.create(
                vm=vm,
                kind=kind,
                requested_by=user,
                requested_at=now,
                last_enqueued_at=now,
                target_name=vm.name,
                target_resource_group=vm.resource_group,
                target_subscription_id=vm.subscription.subscription_id,
                parameters={"power_state_when_requested": vm.power_state},
            )
    except IntegrityError:
        unfinished = vm_unfinished_operation(vm=vm)
        if unfinished is None:
            raise
        return unfinished, False
    transaction.on_commit(lambda: enqueue_operation(operation.pk))
    return operation, True


@dataclass(frozen=True)
class BulkRequestResult:
    queued: int
    already: int  # VMs that already had an operation under way (it is kept)
    skipped: int  # VMs whose state no longer allows the action


def vms_deallocate_request(*, vms: list[VirtualMachine], user: Any) -> BulkRequestResult:
    """Deallocate several VMs: one operation each, none sent twice, invalid ones skipped."""
    queued = already = skipped = 0
    for vm in vms:
        try:
            _, created = vm_action_request(vm=vm, kind=OperationKind.DEALLOCATE, user=user)
        except ActionNotAllowed:
            skipped += 1
            continue
        queued += created
        already += not created
    return BulkRequestResult(queued=queued, already=already, skipped=skipped)


def vm_unfinished_operation(*, vm: VirtualMachine) -> Operation | None:
    return Operation.objects.filter(vm=vm, status__in=UNFINISHED_STATUSES).first()


def enqueue_operation(operation_id: int) -> None:
    from django_q.tasks import async_task

    from vmops.tasks import vm_operation_run as vm_operation_run_task

    async_task(
        vm_operation_run_task,
        operation_id,
        task_name=f"vm-operation-{operation_id}",
        group="vm-operations",
    )


# --- Execution (worker process) -------------------------------------------------------------


def operation_run(*, operation_id: int, budget_seconds: float | None = None) -> Operation | None:
    """Carry one operation to its end, or as far as the budget allows; None if not claimed."""
    operation = _claim(operation_id)
    if operation is None:
        return None
    if _interruptions(operation) > MAX_ATTEMPTS:
        _fail(
            operation,
            None,
            summary=f"Interrupted {MAX_ATTEMPTS} times; check the VM in Azure before retrying.",
        )
        operation.refresh_from_db()
        return operation
    budget = budget_seconds if budget_seconds is not None else settings.Q_TIMEOUT - 30
    try:
        _drive(operation, deadline=time.monotonic() + budget)
    except azure.AzureError as exc:
        if (exc.is_throttled or exc.code == "ConnectionFailed") and (
            _interruptions(operation) < MAX_ATTEMPTS
        ):
            _release(operation, retry_after=exc.retry_after or 30, note=exc.sentence)
        else:
            _fail(operation, exc)
    except Exception:
        # A bug or a database hiccup: record it rather than leave the VM locked by a
        # RUNNING row that every reconciler pass would hand to another doomed attempt.
        logger.exception("Operation %s crashed", operation.pk)
        if _interruptions(operation) >= MAX_ATTEMPTS:
            _fail(operation, None, summary="The dashboard failed to carry out this operation.")
        else:
            _release(operation, retry_after=30, note="Interrupted by an internal error; retrying.")
    operation.refresh_from_db()
    return operation


def _interruptions(operation: Operation) -> int:
    """Claims that were not planned: every claim beyond the first and the hand-offs."""
    return operation.attempts - operation.handoffs - 1


def _wait_slice_seconds() -> float:
    return getattr(settings, "OPERATION_WAIT_SLICE_SECONDS", 5)


def _claim(operation_id: int) -> Operation | None:
    """Take the operation with a compare-and-set; a live lease elsewhere means hands off."""
    now = timezone.now()
    lease = now + timedelta(seconds=_lease_seconds())
    claimed = Operation.objects.filter(pk=operation_id, status=OperationStatus.QUEUED).update(
        status=OperationStatus.RUNNING,
        started_at=Coalesce("started_at", Value(now)),  # kept across hand-offs
        attempts=F("attempts") + 1,
        lease_until=lease,
        worker=_worker_name(),
    )
    if not claimed:
        # A previous attempt died (its lease ran out): take over from where it stopped.
        claimed = Operation.objects.filter(
            Q(lease_until__lt=now) | Q(lease_until__isnull=True),
            pk=operation_id,
            status=OperationStatus.RUNNING,
        ).update(attempts=F("attempts") + 1, lease_until=lease, worker=_worker_name())
    if not claimed:
        return None
    return Operation.objects.select_related("vm__subscription").get(pk=operation_id)


def _drive(operation: Operation, *, deadline: float) -> None:
    vm = operation.vm
    subscription_id = vm.subscription.subscription_id
    if not operation.continuation_token:
        _mine(operation).update(progress_message="Checking the VM's current state in Azure.")
        vm_read_live(vm=vm)  # a VM deleted in Azure is marked gone, and the error raised
        if already_done(kind=operation.kind, power_state=vm.power_state):
            _succeed(
                operation,
                note=f"Azure already reported the VM as {vm.get_power_state_display().lower()}; "
                "nothing was sent.",
            )
            return
        if vm.power_state == TRANSITION_STATE[operation.kind] and operation.attempts > 1:
            # An earlier attempt was accepted but died before storing its token: watch the VM
            # instead of sending the action a second time.
            _watch_vm_state(operation, vm, deadline=deadline)
            return
        token = BEGIN[operation.kind](subscription_id, vm.resource_group, vm.name)
        now = timezone.now()
        _mine(operation).update(
            continuation_token=token,
            progress_message="Azure accepted the request.",
            lease_until=now + timedelta(seconds=_lease_seconds()),
        )
        operation.continuation_token = token
        vm.power_state = TRANSITION_STATE[operation.kind]
        vm.state_changed_at = vm.reported_at = now
        vm.save(update_fields=["power_state", "state_changed_at", "reported_at"])
    _wait(operation, vm, deadline=deadline)


def _wait(operation: Operation, vm: VirtualMachine, *, deadline: float) -> None:
    """Watch Azure for one slice of time, then hand the operation back to the queue.

    A worker never sits on one long deallocation until it ends: with a few workers and a bulk
    action on dozens of VMs, the operations take turns, so all of them are sent to Azure
    within a few slices instead of one after another.
    """
    subscription_id = vm.subscription.subscription_id
    kind = f"vm_{operation.kind}"
    slice_end = time.monotonic() + _wait_slice_seconds()
    while True:
        status = azure.operation_status(
            kind,
            operation.continuation_token,
            subscription_id=subscription_id,
            wait_seconds=_poll_step(),
        )
        if status.state == "succeeded":
            _refresh(vm)
            _succeed(operation)
            return
        if status.state == "failed":
            _refresh(vm)
            _fail(operation, status.error)
            return
        _renew(operation)
        if time.monotonic() >= deadline:
            _release(operation, retry_after=0, note="Still in progress in Azure.")
            return
        if time.monotonic() >= slice_end:
            _hand_off(operation)
            return


def _watch_vm_state(operation: Operation, vm: VirtualMachine, *, deadline: float) -> None:
    while time.monotonic() < deadline:
        vm_read_live(vm=vm)
        if vm.power_state != TRANSITION_STATE[operation.kind]:
            if already_done(kind=operation.kind, power_state=vm.power_state) or (
                operation.kind == OperationKind.RESTART and vm.power_state == PowerState.RUNNING
            ):
                _succeed(operation, note="Completed by an earlier attempt.")
            else:
                _mine(operation).update(
                    status=OperationStatus.FAILED,
                    finished_at=timezone.now(),
                    error_code="UnexpectedState",
                    error_summary=(
                        f"The VM ended {vm.get_power_state_display().lower()} instead; "
                        "check the VM in Azure."
                    ),
                    lease_until=None,
                )
            return
        _renew(operation)
        time.sleep(_poll_step())
    _release(operation, retry_after=0, note="Still in progress in Azure.")


def _refresh(vm: VirtualMachine) -> None:
    """Re-read the VM after its operation ended; a failed read only leaves the cache older."""
    try:
        vm_read_live(vm=vm)
    except azure.AzureError as exc:
        if not exc.is_not_found:
            logger.warning("Could not refresh %s after its operation: %s", vm, exc)


def _renew(operation: Operation) -> None:
    elapsed = int((timezone.now() - (operation.started_at or timezone.now())).total_seconds())
    _mine(operation).update(
        lease_until=timezone.now() + timedelta(seconds=_lease_seconds()),
        progress_message=f"Azure reports the operation in progress ({elapsed} s so far).",
    )


def _mine(operation: Operation):
    """The operation, only while this attempt still holds it: after a takeover, a late
    worker's writes match nothing, so an operation ends exactly once."""
    return Operation.objects.filter(
        pk=operation.pk, status=OperationStatus.RUNNING, attempts=operation.attempts
    )


def _succeed(operation: Operation, *, note: str = "") -> None:
    _mine(operation).update(
        status=OperationStatus.SUCCEEDED,
        finished_at=timezone.now(),
        progress_message=note or "Completed.",
        lease_until=None,
    )


def _fail(operation: Operation, error: Exception | None, *, summary: str = "") -> None:
    fields: dict[str, Any] = {
        "status": OperationStatus.FAILED,
        "finished_at": timezone.now(),
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
        fields.update(error_code="Unknown", error_summary=summary or "Azure reported a failure.")
    _mine(operation).update(**fields)


def _hand_off(operation: Operation) -> None:
    """Put the operation back in the queue with its token; the next claim resumes polling."""
    handed = _mine(operation).update(
        status=OperationStatus.QUEUED,
        lease_until=None,
        handoffs=F("handoffs") + 1,
        last_enqueued_at=timezone.now(),
    )
    if handed:
        enqueue_operation(operation.pk)


def _release(operation: Operation, *, retry_after: int, note: str) -> None:
    """Stop working on it for now; the reconciler picks it up once the lease has run out."""
    _mine(operation).update(
        lease_until=timezone.now() + timedelta(seconds=retry_after), progress_message=note
    )


# --- Reconciler (scheduled) -----------------------------------------------------------------


def operations_reconcile() -> dict[str, int]:
    """Re-queue operations whose task was lost or whose worker died.

    Safe to run any time and from several processes: a duplicate task finds the row claimed
    and does nothing, and a takeover resumes from the stored token.
    """
    now = timezone.now()
    grace = timedelta(seconds=getattr(settings, "OPERATION_REQUEUE_AFTER_SECONDS", 120))
    queued = list(
        Operation.objects.filter(
            status=OperationStatus.QUEUED, last_enqueued_at__lt=now - grace
        ).values_list("pk", flat=True)
    )
    expired = list(
        Operation.objects.filter(status=OperationStatus.RUNNING, lease_until__lt=now).values_list(
            "pk", flat=True
        )
    )
    for pk in [*queued, *expired]:
        Operation.objects.filter(pk=pk).update(last_enqueued_at=now)
        enqueue_operation(pk)
    return {"requeued": len(queued), "resumed": len(expired)}
