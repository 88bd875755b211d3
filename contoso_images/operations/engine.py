"""Carrying operations out in workers, step by step, and settling lost work.

An Operation row is written before any call to Azure and is the source of truth: the broker
may deliver a task twice (ORM) or lose it (Redis), so a task first claims its row with a
conditional UPDATE, stores the poller's continuation token as soon as Azure accepted, and a
scheduled reconciler re-drives anything whose worker vanished. A request is never sent twice
blindly: every step reads Azure before sending, and a worker that takes over without a token
watches what Azure shows instead of sending again.

Only the attempt that holds the row writes to it (``_mine``: status and attempt number must
still match), so an operation ends exactly once even when a late worker wakes up.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from contoso_images import azure
from contoso_images.operations import registry
from contoso_images.operations.models import (
    Operation,
    OperationStatus,
    OperationStep,
    StepStatus,
)
from contoso_images.operations.registry import (
    Observation,
    OperationEvent,
    OperationSpec,
    Step,
    StepContext,
    StepFailed,
)

logger = logging.getLogger(__name__)

#: The django-q2 task that runs one operation (a dotted path, so nothing here imports tasks).
TASK = "contoso_images.operations.tasks.operation_run_task"
FAN_OUT_TASK = "contoso_images.operations.tasks.operations_enqueue_task"
#: Claims after a crash (not planned pauses) after which the operation is settled from what
#: Azure shows, without sending anything more.
MAX_ATTEMPTS = 5
#: Seconds one status call may wait inside the gateway before the task records progress.
POLL_STEP_SECONDS = 3.0
#: Status reads in a row that fail before the engine asks the resource itself how it is.
STATUS_FAILURES_BEFORE_RESOURCE_CHECK = 3
#: Requests whose answer was lost, in one attempt, before the attempt pauses and tries later.
LOST_ANSWERS_PER_ATTEMPT = 3
#: What the record says of a step whose request left before an interruption (a crash or a
#: lost answer) and which Azure then showed done: what is known, no more.
EARLIER_ATTEMPT = "The request was sent before an interruption; Azure now shows it done."
#: The environment variable naming a crash plan (tests only; see ``_crash_point``).
CRASH_PLAN = "CONTOSO_CRASH_PLAN"
#: The points where a worker can die, in the order a step passes them.
CRASH_POINTS = (
    "before_request",
    "after_accept",
    "while_watching",
    "before_result",
    "during_handoff",
)


def enqueue(operation_id: int) -> None:
    """Queue a task for the operation (callers make sure its row is committed first)."""
    from django_q.tasks import async_task

    async_task(TASK, operation_id, task_name=f"operation-{operation_id}", group="operations")


#: Above this many, a request queues one task that queues the rest: each queued task is a
#: write to the broker, and a thousand of them made a multi-select request take seconds.
FAN_OUT_ABOVE = 20


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


def _lease_seconds() -> int:
    return int(getattr(settings, "OPERATION_LEASE_SECONDS", 60))


def _wait_slice_seconds() -> float:
    return float(getattr(settings, "OPERATION_WAIT_SLICE_SECONDS", 5))


def _poll_step() -> float:
    """Renew the lease well before it runs out, however short it is configured."""
    step = float(getattr(settings, "OPERATION_POLL_SECONDS", POLL_STEP_SECONDS))
    return min(step, _lease_seconds() / 3)


def _retry_seconds() -> int:
    """How long to pause when Azure failed without saying when to come back."""
    return int(getattr(settings, "OPERATION_RETRY_SECONDS", 30))


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- Running one operation ------------------------------------------------------------------


def run(*, operation_id: int, budget_seconds: float | None = None) -> Operation | None:
    """Carry one operation to its end, or as far as the budget allows; None if not claimed."""
    operation = _claim(operation_id)
    if operation is None:
        return None
    spec = registry.find(operation.kind)
    ctx = StepContext(operation, report=lambda message: _report(operation, message), spec=spec)
    if spec is None:
        _fail(
            ctx, None, summary=f"This dashboard does not know operations of kind {operation.kind}."
        )
    elif _interruptions(operation) > MAX_ATTEMPTS or _overdue(operation):
        _settle_without_sending(ctx, spec)
    else:
        budget = budget_seconds if budget_seconds is not None else settings.Q_TIMEOUT - 30
        _run_spec(ctx, spec, deadline=time.monotonic() + budget)
    operation.refresh_from_db()
    return operation


def _overdue(operation: Operation) -> bool:
    limit = getattr(settings, "OPERATION_GIVE_UP_AFTER_SECONDS", 24 * 3600)
    started = operation.started_at or operation.requested_at
    return timezone.now() - started > timedelta(seconds=limit)


def _run_spec(ctx: StepContext, spec: OperationSpec, *, deadline: float) -> None:
    operation = ctx.operation
    try:
        _drive(ctx, spec, deadline=deadline)
    except StepFailed as exc:
        _fail(ctx, None, summary=str(exc), code=exc.code)
    except azure.AzureError as exc:
        if exc.is_transient:
            # Azure could not be read or reached for now: a pause, not a failure.
            _release(
                operation,
                retry_after=exc.retry_after or _retry_seconds(),
                note=exc.sentence,
                planned=True,
            )
        else:
            _fail(ctx, exc)
    except Exception:
        # A bug or a database hiccup: record it rather than leave the target locked by a
        # RUNNING row that every reconciler pass would hand to another doomed attempt.
        logger.exception("Operation %s crashed", operation.pk)
        if _interruptions(operation) >= MAX_ATTEMPTS:
            _fail(ctx, None, summary="The dashboard failed to carry out this operation.")
        else:
            _release(operation, retry_after=30, note="Interrupted by an internal error; retrying.")


def _settle_without_sending(ctx: StepContext, spec: OperationSpec) -> None:
    """The last word on an operation whose workers kept dying (or that ran too long): send
    nothing more; succeed if Azure shows the last step done, else fail saying what is known."""
    operation = ctx.operation
    index = _step_index(spec, operation)
    step = spec.steps[index]
    ctx.sent = _sent_marker(operation, step)
    ctx.watching = ctx.sent is not None or bool(operation.continuation_token)
    try:
        observation = step.observe(ctx)
    except azure.AzureError:
        observation = Observation()
    ctx.watching = False
    if observation.done and index == len(spec.steps) - 1:
        if operation.step != step.name:
            _enter(ctx, step, index)
        _step_ended(operation, index, StepStatus.SUCCEEDED, "Azure shows it done.")
        _succeed(
            ctx, note="Azure shows it done, though the dashboard was interrupted while watching it."
        )
        return
    shown = " Azure shows it still under way." if observation.in_flight else ""
    _fail(
        ctx,
        None,
        code="Interrupted",
        summary=f"The dashboard was interrupted too often during '{step.label}'.{shown} "
        "Check the resource in Azure before retrying.",
    )


def _interruptions(operation: Operation) -> int:
    """Claims that were not planned: every claim beyond the first and the hand-offs."""
    return operation.attempts - operation.handoffs - 1


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
    return Operation.objects.get(pk=operation_id)


def _step_index(spec: OperationSpec, operation: Operation) -> int:
    names = [step.name for step in spec.steps]
    return names.index(operation.step) if operation.step in names else 0


def _drive(ctx: StepContext, spec: OperationSpec, *, deadline: float) -> None:
    operation = ctx.operation
    index = _step_index(spec, operation)
    while index < len(spec.steps):
        step = spec.steps[index]
        if operation.step != step.name and not _enter(ctx, step, index):
            _cancel(ctx, spec, index)
            return
        ctx.sent = _sent_marker(operation, step)
        if not operation.continuation_token:
            outcome = _send(ctx, step, index, deadline=deadline)
            if outcome == "stop":
                return
            if outcome == "done":
                index += 1
                continue
        if _wait(ctx, step, index, deadline=deadline) != "done":
            return
        ctx.cache["note"] = ""
        index += 1
    _succeed(ctx, note=ctx.cache.get("note", ""))


def _send(ctx: StepContext, step: Step, index: int, *, deadline: float) -> str:
    """Read Azure, then send the step's request unless Azure shows it done or under way.

    Returns "done" (nothing to wait for), "sent" (a token to watch) or "stop" (the operation
    ended or paused). A "sent" marker is stored before the request leaves, so whoever comes
    next knows the request may have arrived; a request whose answer was lost is looked for
    in Azure before it is sent again.
    """
    operation = ctx.operation
    lost = 0
    slice_end = time.monotonic() + _wait_slice_seconds()
    while True:
        observation = step.observe(ctx)
        if observation.wait:
            _renew(operation, message=observation.note)
            if time.monotonic() >= deadline:
                _release(operation, retry_after=0, note=observation.note, planned=True)
                return "stop"
            if time.monotonic() >= slice_end:
                _hand_off(operation)
                return "stop"
            time.sleep(_poll_step())
            continue
        if observation.done:
            earlier = ctx.sent is not None
            note = EARLIER_ATTEMPT if earlier else observation.note
            status = StepStatus.SUCCEEDED if earlier or not step.sends else StepStatus.SKIPPED
            _step_ended(operation, index, status, note)
            ctx.cache["note"] = note
            return "done"
        if observation.unexpected:
            _fail(ctx, None, summary=observation.unexpected, code="UnexpectedState")
            return "stop"
        if observation.in_flight:
            outcome = _watch(ctx, step, index, deadline=deadline)
            if outcome == "done":
                ctx.cache["note"] = EARLIER_ATTEMPT
            return "done" if outcome == "done" else "stop"
        _mark_sent(ctx, step)
        _crash_point("before_request", operation)
        try:
            token = step.begin(ctx)
        except azure.AzureError as exc:
            if exc.is_throttled:
                # Refused for now (429 means it was not accepted): come back when Azure says.
                _release(
                    operation,
                    retry_after=exc.retry_after or _retry_seconds(),
                    note=exc.sentence,
                    planned=True,
                )
                return "stop"
            if exc.is_transient:
                lost += 1
                if lost > LOST_ANSWERS_PER_ATTEMPT:
                    _release(
                        operation,
                        retry_after=exc.retry_after or _retry_seconds(),
                        note=exc.sentence,
                        planned=True,
                    )
                    return "stop"
                ctx.report(
                    f"Azure's answer did not arrive ({exc.code}); checking whether it "
                    "accepted the request before sending it again."
                )
                time.sleep(_poll_step())
                continue
            # A refusal, unless what Azure refuses is our own earlier request under way.
            again = step.observe(ctx)
            if again.in_flight or again.done:
                continue
            _fail(ctx, exc)
            return "stop"
        _crash_point("after_accept", operation)
        if token is None:
            note = ctx.cache.pop("step_note", "")
            _step_ended(operation, index, StepStatus.SUCCEEDED, note)
            ctx.cache["note"] = note
            return "done"
        _mine(operation).update(
            continuation_token=token,
            progress_message="Azure accepted the request.",
            lease_until=timezone.now() + timedelta(seconds=_lease_seconds()),
        )
        operation.continuation_token = token
        step.accepted(ctx)
        return "sent"


def _sent_marker(operation: Operation, step: Step) -> dict[str, Any] | None:
    marker = (operation.state or {}).get("sent", {}).get(step.name)
    return marker if isinstance(marker, dict) else None


def _mark_sent(ctx: StepContext, step: Step) -> None:
    """Remember, before the request leaves, that it may arrive (with what Azure showed)."""
    operation = ctx.operation
    marker = {"at": timezone.now().isoformat(), "baseline": step.baseline(ctx)}
    state = dict(operation.state or {})
    state["sent"] = {**state.get("sent", {}), step.name: marker}
    _mine(operation).update(state=state)
    operation.state = state
    ctx.sent = marker


def _enter(ctx: StepContext, step: Step, index: int) -> bool:
    """Start a step (the previous step's token is done with). False when the operation was
    asked to stop and nothing irreversible has started: the caller cancels it then.

    Entering an irreversible step and asking to cancel are both conditional UPDATEs on the
    same row, so exactly one of them wins: a cancel is never half-honoured.
    """
    operation = ctx.operation
    now = timezone.now()
    fields: dict[str, Any] = {"step": step.name, "continuation_token": ""}
    mine = _mine(operation)
    if not operation.irreversible_step:
        mine = mine.filter(cancel_requested_at__isnull=True)
        if step.is_irreversible(ctx):
            fields["irreversible_step"] = step.name
    with transaction.atomic():
        entered = mine.update(**fields)
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


def _cancel(ctx: StepContext, spec: OperationSpec, index: int) -> None:
    """End the operation as asked, at a step boundary, before anything irreversible."""
    operation = ctx.operation
    _finishing(ctx)
    now = timezone.now()
    with transaction.atomic():
        ended = _mine(operation).update(
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
            _notify("canceled", operation)
    ctx.cache["ended"] = bool(ended)


def _step_ended(operation: Operation, index: int, status: str, message: str) -> None:
    with transaction.atomic():
        if _mine(operation).exists():
            OperationStep.objects.filter(operation_id=operation.pk, position=index).update(
                status=status, finished_at=timezone.now(), message=message[:300]
            )
            event = "step_skipped" if status == StepStatus.SKIPPED else "step_succeeded"
            _notify(event, operation, reason=message)


def _notify(name: str, operation: Operation, *, reason: str = "") -> None:
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


def _wait(ctx: StepContext, step: Step, index: int, *, deadline: float) -> str:
    """Watch Azure for one slice of time, then hand the operation back to the queue.

    A worker never sits on one long deallocation until it ends: with a few workers and a bulk
    action on dozens of VMs, the operations take turns, so all of them are sent to Azure
    within a few slices instead of one after another. A failure to read the operation's
    status is not a failure of the operation: the engine keeps watching, and after a few
    failed reads asks the resource itself. Returns "done" when the step succeeded, "failed"
    or "paused" otherwise.
    """
    operation = ctx.operation
    slice_end = time.monotonic() + _wait_slice_seconds()
    unread = 0
    while True:
        try:
            status = azure.operation_status(
                step.result_kind,
                operation.continuation_token,
                subscription_id=operation.target_subscription_id,
                wait_seconds=_poll_step(),
            )
        except azure.AzureError as exc:
            if not (exc.is_transient or exc.is_not_found):
                raise
            unread += 1
            if exc.is_not_found or unread >= STATUS_FAILURES_BEFORE_RESOURCE_CHECK:
                settled = _settle_from_resource(ctx, step, index, status_gone=exc.is_not_found)
                if settled:
                    return settled
            _renew(
                operation,
                message=f"Azure did not say how the operation is going ({exc.code}); "
                "still watching.",
            )
            time.sleep(min(_poll_step(), 0.5 * 2**unread))
        else:
            unread = 0
            _crash_point("while_watching", operation)
            if status.state == "succeeded":
                _crash_point("before_result", operation)
                step.succeeded(ctx, status.result)
                _step_ended(operation, index, StepStatus.SUCCEEDED, ctx.cache.pop("step_note", ""))
                return "done"
            if status.state == "failed":
                _fail(ctx, status.error)
                return "failed"
            _renew(operation)
        if time.monotonic() >= deadline:
            _release(operation, retry_after=0, note="Still in progress in Azure.", planned=True)
            return "paused"
        if time.monotonic() >= slice_end:
            _hand_off(operation)
            return "paused"


def _settle_from_resource(ctx: StepContext, step: Step, index: int, *, status_gone: bool) -> str:
    """Azure's operation status cannot be read: ask the resource how it is. Returns "done" or
    "failed" when the resource settles it, "" when it cannot tell (keep watching)."""
    ctx.watching = True
    try:
        observation = step.observe(ctx)
    except azure.AzureError:
        observation = Observation()
    finally:
        ctx.watching = False
    if observation.done:
        step.succeeded(ctx, None)
        note = "Azure's status for the operation could not be read; the resource shows it done."
        _step_ended(ctx.operation, index, StepStatus.SUCCEEDED, note)
        ctx.cache["note"] = note
        return "done"
    if observation.unexpected:
        _fail(ctx, None, summary=observation.unexpected, code="UnexpectedState")
        return "failed"
    if status_gone and not observation.in_flight:
        _fail(
            ctx,
            None,
            code="OutcomeUnknown",
            summary="Azure no longer has a record of this operation and the resource does "
            "not show how it ended; check it in Azure.",
        )
        return "failed"
    return ""


def _watch(ctx: StepContext, step: Step, index: int, *, deadline: float) -> str:
    """An earlier attempt's request is under way in Azure, without a token: watch what Azure
    shows until the step is done or turns out otherwise."""
    ctx.watching = True
    slice_end = time.monotonic() + _wait_slice_seconds()
    try:
        while time.monotonic() < deadline:
            try:
                observation = step.observe(ctx)
            except azure.AzureError as exc:
                if not exc.is_transient:
                    raise
                observation = Observation(in_flight=True)
            if observation.done:
                _step_ended(ctx.operation, index, StepStatus.SUCCEEDED, EARLIER_ATTEMPT)
                return "done"
            if not observation.in_flight:
                _fail(
                    ctx,
                    None,
                    summary=observation.unexpected
                    or "Azure no longer shows the request under way.",
                    code="UnexpectedState",
                )
                return "failed"
            _renew(ctx.operation, message=observation.note)
            if time.monotonic() >= slice_end:
                _hand_off(ctx.operation)
                return "paused"
            time.sleep(_poll_step())
        _release(ctx.operation, retry_after=0, note="Still in progress in Azure.", planned=True)
        return "paused"
    finally:
        ctx.watching = False


def _report(operation: Operation, message: str) -> None:
    _mine(operation).update(progress_message=message[:300])


def _renew(operation: Operation, *, message: str = "") -> None:
    elapsed = int((timezone.now() - (operation.started_at or timezone.now())).total_seconds())
    _mine(operation).update(
        lease_until=timezone.now() + timedelta(seconds=_lease_seconds()),
        progress_message=message
        or f"Azure reports the operation in progress ({elapsed} s so far).",
    )


def _mine(operation: Operation) -> QuerySet[Operation]:
    """The operation, only while this attempt still holds it: after a takeover, a late
    worker's writes match nothing, so an operation ends exactly once."""
    return Operation.objects.filter(
        pk=operation.pk, status=OperationStatus.RUNNING, attempts=operation.attempts
    )


def _finishing(ctx: StepContext) -> None:
    """Let the spec refresh its caches before the end is recorded (once, by the holder)."""
    spec = ctx.spec
    if spec is None or spec.finished is None or ctx.cache.get("finishing"):
        return
    ctx.cache["finishing"] = True
    if _mine(ctx.operation).exists():
        spec.finished(ctx)


def _succeed(ctx: StepContext, *, note: str = "") -> None:
    _finishing(ctx)
    with transaction.atomic():
        ended = _mine(ctx.operation).update(
            status=OperationStatus.SUCCEEDED,
            finished_at=timezone.now(),
            progress_message=note or "Completed.",
            lease_until=None,
        )
        if ended:
            ctx.operation.refresh_from_db()
            _notify("succeeded", ctx.operation, reason=note)
    ctx.cache["ended"] = bool(ended)


def _fail(
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
        ended = _mine(operation).update(**fields)
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
            _notify("failed", operation, reason=fields["error_summary"])
    ctx.cache["ended"] = bool(ended)


def _hand_off(operation: Operation) -> None:
    """Put the operation back in the queue with its token; the next claim resumes polling."""
    handed = _mine(operation).update(
        status=OperationStatus.QUEUED,
        lease_until=None,
        handoffs=F("handoffs") + 1,
        last_enqueued_at=timezone.now(),
    )
    if handed:
        _crash_point("during_handoff", operation)
        enqueue(operation.pk)


def _release(operation: Operation, *, retry_after: int, note: str, planned: bool = False) -> None:
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
    _mine(operation).update(**fields)


def _crash_point(name: str, operation: Operation) -> None:
    """Die here if the test's crash plan says so (the crash-point tests; inert otherwise).

    ``CONTOSO_CRASH_PLAN`` names a file of ``<operation id> <point> [<step>]`` lines; the
    first worker to reach a listed point (in that step, when one is named) kills itself with
    SIGKILL, once (a marker file records it), as the OOM killer or a lost host would.
    """
    plan = os.environ.get(CRASH_PLAN)
    if not plan:
        return
    wanted = {f"{operation.pk} {name}", f"{operation.pk} {name} {operation.step}"}
    try:
        with open(plan) as lines:
            if not wanted.intersection(line.strip() for line in lines):
                return
        fd = os.open(f"{plan}.{operation.pk}.{name}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except (FileExistsError, FileNotFoundError):
        return
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


# --- Reconciler (scheduled) -----------------------------------------------------------------


def reconcile() -> dict[str, int]:
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
        enqueue(pk)
    return {"requeued": len(queued), "resumed": len(expired)}
