"""Carrying a claimed operation through its spec's steps, reading Azure before every request.

A request is never sent twice blindly: every step reads Azure before sending (``observe``), a
"sent" marker with a baseline is stored before a request leaves, and a worker that takes
over without a token watches what Azure shows instead of sending again. A worker watches one
operation for a slice of time, then hands it back to the queue so that all operations take
turns on the workers.
"""

from __future__ import annotations

import logging
import time

from contoso_images import azure
from contoso_images.operations.engine import crash, record, timing
from contoso_images.operations.engine.claim import (
    MAX_ATTEMPTS,
    hand_off,
    interruptions,
    keep_token,
    pause,
    release,
    renew,
)
from contoso_images.operations.models import Operation, StepStatus
from contoso_images.operations.registry import (
    Observation,
    OperationSpec,
    Step,
    StepContext,
    StepFailed,
)

logger = logging.getLogger(__name__)

#: Status reads in a row that fail before the engine asks the resource itself how it is.
STATUS_FAILURES_BEFORE_RESOURCE_CHECK = 3
#: Requests whose answer was lost, in one attempt, before the attempt pauses and tries later.
LOST_ANSWERS_PER_ATTEMPT = 3
#: What the record says of a step whose request left before an interruption (a crash or a
#: lost answer) and which Azure then showed done: what is known, no more.
EARLIER_ATTEMPT = "The request was sent before an interruption; Azure now shows it done."


def run_spec(ctx: StepContext, spec: OperationSpec, *, deadline: float) -> None:
    operation = ctx.operation
    try:
        drive(ctx, spec, deadline=deadline)
    except StepFailed as exc:
        record.fail(ctx, None, summary=str(exc), code=exc.code)
    except azure.AzureError as exc:
        if exc.is_transient:
            # Azure could not be read or reached for now: a pause, not a failure.
            pause(operation, exc)
        else:
            record.fail(ctx, exc)
    except Exception:
        # A bug or a database hiccup: record it rather than leave the target locked by a
        # RUNNING row that every reconciler pass would hand to another doomed attempt.
        logger.exception("Operation %s crashed", operation.pk)
        if interruptions(operation) >= MAX_ATTEMPTS:
            record.fail(ctx, None, summary="The dashboard failed to carry out this operation.")
        else:
            release(operation, retry_after=30, note="Interrupted by an internal error; retrying.")


def settle_without_sending(
    ctx: StepContext, spec: OperationSpec, *, deadline: float, may_send: bool = True
) -> None:
    """The last word on an operation whose workers kept dying (or that ran too long).

    Succeed if Azure shows the last step done. If Azure shows no trace at all of the step's
    request (none was accepted: no token; the step's read finds nothing changed since the
    "sent" marker), the workers died before it left: it is sent once more, on one last try,
    unless ``may_send`` is false (the operation is overdue: a restart a day late is not what
    anyone asked for). Otherwise, or when the last try was had, fail saying what is known.
    """
    operation = ctx.operation
    index = step_index(spec, operation)
    step = spec.steps[index]
    ctx.sent = record.sent_marker(operation, step)
    ctx.watching = ctx.sent is not None or bool(operation.continuation_token)
    try:
        observation = step.observe(ctx)
    except azure.AzureError:
        observation = Observation(wait=True)  # unreadable: it shows nothing either way
    ctx.watching = False
    if observation.done and index == len(spec.steps) - 1:
        if operation.step != step.name:
            record.enter(ctx, step, index)
        record.step_ended(operation, index, StepStatus.SUCCEEDED, "Azure shows it done.")
        record.succeed(
            ctx, note="Azure shows it done, though the dashboard was interrupted while watching it."
        )
        return
    if (
        may_send
        and step.sends
        and not operation.continuation_token
        and _shows_no_trace(observation)
        and record.take_last_try(operation, step)
    ):
        ctx.report(
            f"The dashboard was interrupted before '{step.label}' reached Azure, which shows "
            "no trace of it: sending it once more."
        )
        run_spec(ctx, spec, deadline=deadline)
        return
    shown = " Azure shows it still under way." if observation.in_flight else ""
    record.fail(
        ctx,
        None,
        code="Interrupted",
        summary=f"The dashboard was interrupted too often during '{step.label}'.{shown} "
        "Check the resource in Azure before retrying.",
    )


def _shows_no_trace(observation: Observation) -> bool:
    """Azure shows the step neither done, nor under way, nor ended otherwise: still to send."""
    return not (
        observation.done or observation.in_flight or observation.unexpected or observation.wait
    )


def step_index(spec: OperationSpec, operation: Operation) -> int:
    names = [step.name for step in spec.steps]
    return names.index(operation.step) if operation.step in names else 0


def drive(ctx: StepContext, spec: OperationSpec, *, deadline: float) -> None:
    operation = ctx.operation
    index = step_index(spec, operation)
    while index < len(spec.steps):
        step = spec.steps[index]
        if operation.step != step.name and not record.enter(ctx, step, index):
            record.cancel(ctx, index)
            return
        ctx.sent = record.sent_marker(operation, step)
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
    record.succeed(ctx, note=ctx.cache.get("note", ""))


def _send(ctx: StepContext, step: Step, index: int, *, deadline: float) -> str:
    """Read Azure, then send the step's request unless Azure shows it done or under way.

    Returns "done" (nothing to wait for), "sent" (a token to watch) or "stop" (the operation
    ended or paused). A "sent" marker is stored before the request leaves, so whoever comes
    next knows the request may have arrived; a request whose answer was lost is looked for
    in Azure before it is sent again.
    """
    operation = ctx.operation
    lost = 0
    slice_end = time.monotonic() + timing.wait_slice_seconds()
    while True:
        observation = step.observe(ctx)
        if observation.wait:
            renew(operation, message=observation.note)
            if time.monotonic() >= deadline:
                release(operation, retry_after=0, note=observation.note, planned=True)
                return "stop"
            if time.monotonic() >= slice_end:
                hand_off(ctx)
                return "stop"
            time.sleep(timing.poll_step())
            continue
        if observation.done:
            earlier = ctx.sent is not None
            note = EARLIER_ATTEMPT if earlier else observation.note
            status = StepStatus.SUCCEEDED if earlier or not step.sends else StepStatus.SKIPPED
            record.step_ended(operation, index, status, note)
            ctx.cache["note"] = note
            return "done"
        if observation.unexpected:
            record.fail(ctx, None, summary=observation.unexpected, code="UnexpectedState")
            return "stop"
        if observation.in_flight:
            outcome = _watch(ctx, step, index, deadline=deadline)
            if outcome == "done":
                ctx.cache["note"] = EARLIER_ATTEMPT
            return "done" if outcome == "done" else "stop"
        record.mark_sent(ctx, step)
        crash.point("before_request", operation)
        try:
            token = step.begin(ctx)
        except azure.AzureError as exc:
            if exc.is_throttled:
                # Refused for now (429 means it was not accepted): come back when Azure says.
                pause(operation, exc)
                return "stop"
            if exc.is_transient:
                lost += 1
                if lost > LOST_ANSWERS_PER_ATTEMPT:
                    pause(operation, exc)
                    return "stop"
                ctx.report(
                    f"Azure's answer did not arrive ({exc.code}); checking whether it "
                    "accepted the request before sending it again."
                )
                time.sleep(timing.poll_step())
                continue
            # A refusal, unless what Azure refuses is our own earlier request under way.
            again = step.observe(ctx)
            if again.in_flight or again.done:
                continue
            record.fail(ctx, exc)
            return "stop"
        crash.point("after_accept", operation)
        if token is None:
            note = ctx.cache.pop("step_note", "")
            record.step_ended(operation, index, StepStatus.SUCCEEDED, note)
            ctx.cache["note"] = note
            return "done"
        keep_token(operation, token)
        step.accepted(ctx)
        return "sent"


def _wait(ctx: StepContext, step: Step, index: int, *, deadline: float) -> str:
    """Watch Azure for one slice of time, then hand the operation back to the queue.

    A worker never sits on one long deallocation until it ends: with a few workers and a bulk
    action on dozens of VMs, the operations take turns, so all of them are sent to Azure
    within a few slices instead of one after another. A failure to read the operation's
    status, for whatever reason, is not a failure of the operation: the engine keeps
    watching, and after a few failed reads asks the resource itself. Returns "done" when the
    step succeeded, "failed" or "paused" otherwise.
    """
    operation = ctx.operation
    slice_end = time.monotonic() + timing.wait_slice_seconds()
    unread = 0
    while True:
        try:
            status = azure.operation_status(
                step.result_kind,
                operation.continuation_token,
                subscription_id=operation.target_subscription_id,
                wait_seconds=timing.poll_step(),
            )
        except azure.AzureError as exc:
            # Reading is observation, whatever the answer (a 5xx, a 404, a 400, a 401 or
            # 403): it says nothing of the operation Azure accepted. Only Azure's own
            # Failed or Canceled (a status read) fails it, or a refusal of the request.
            unread += 1
            if exc.is_not_found or unread >= STATUS_FAILURES_BEFORE_RESOURCE_CHECK:
                settled = _settle_from_resource(ctx, step, index, status_gone=exc.is_not_found)
                if settled:
                    return settled
            renew(
                operation,
                message=f"Azure did not say how the operation is going ({exc.code}); "
                "still watching.",
            )
            time.sleep(min(timing.poll_step(), 0.5 * 2**unread))
        else:
            unread = 0
            crash.point("while_watching", operation)
            if status.state == "succeeded":
                crash.point("before_result", operation)
                step.succeeded(ctx, status.result)
                record.step_ended(
                    operation, index, StepStatus.SUCCEEDED, ctx.cache.pop("step_note", "")
                )
                return "done"
            if status.state == "failed":
                record.fail(ctx, status.error)
                return "failed"
            renew(operation)
        if time.monotonic() >= deadline:
            release(operation, retry_after=0, note="Still in progress in Azure.", planned=True)
            return "paused"
        if time.monotonic() >= slice_end:
            hand_off(ctx)
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
        record.step_ended(ctx.operation, index, StepStatus.SUCCEEDED, note)
        ctx.cache["note"] = note
        return "done"
    if observation.unexpected:
        record.fail(ctx, None, summary=observation.unexpected, code="UnexpectedState")
        return "failed"
    if status_gone and not observation.in_flight:
        record.fail(
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
    slice_end = time.monotonic() + timing.wait_slice_seconds()
    try:
        while time.monotonic() < deadline:
            try:
                observation = step.observe(ctx)
            except azure.AzureError as exc:
                if not exc.is_transient:
                    raise
                observation = Observation(in_flight=True)
            if observation.done:
                record.step_ended(ctx.operation, index, StepStatus.SUCCEEDED, EARLIER_ATTEMPT)
                return "done"
            if not observation.in_flight:
                record.fail(
                    ctx,
                    None,
                    summary=observation.unexpected
                    or "Azure no longer shows the request under way.",
                    code="UnexpectedState",
                )
                return "failed"
            renew(ctx.operation, message=observation.note)
            if time.monotonic() >= slice_end:
                hand_off(ctx)
                return "paused"
            time.sleep(timing.poll_step())
        release(ctx.operation, retry_after=0, note="Still in progress in Azure.", planned=True)
        return "paused"
    finally:
        ctx.watching = False
