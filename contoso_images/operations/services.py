"""Asking for an operation: checked, written before any call to Azure, queued after commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from contoso_images.core.errors import ActionRefused
from contoso_images.core.users import Person, signed_in
from contoso_images.operations import engine, registry
from contoso_images.operations.models import (
    UNFINISHED_STATUSES,
    Operation,
    OperationStep,
)
from contoso_images.operations.registry import OperationEvent, Target
from contoso_images.operations.selectors import unfinished_by_target


def operation_request(
    *,
    kind: str,
    target: Target,
    subject: Any,
    user: Person,
    parameters: dict[str, Any] | None = None,
) -> tuple[Operation, bool]:
    """Create the operation and queue it after commit; a repeated click gets the same one.

    Returns (operation, created). ``subject`` is what the spec's pre-check judges (a VM row).
    Asking for another kind while one is under way on the target raises ActionRefused.
    The conditional unique constraint, not the check here, is what guarantees one unfinished
    operation per target when two requests race.
    """
    spec = registry.get(kind)
    if user is not None and not user.has_perm(spec.permission):
        reason = f"Your role does not allow {spec.label.lower()}."
        _refused(kind, target, user, reason)
        raise PermissionDenied(reason)
    unfinished = unfinished_operation(target_key=target.key)
    if unfinished is not None:
        return _same_or_refused(unfinished, kind, target, user), False
    parameters = dict(parameters or {})
    reason = spec.precheck(subject, parameters)
    if reason:
        _refused(kind, target, user, reason)
        raise ActionRefused(reason)
    try:
        with transaction.atomic():
            operation = _new_operation(kind, target, user, parameters, now=timezone.now())
            operation.save(force_insert=True)
            OperationStep.objects.bulk_create(_steps_of(spec, [operation]))
            registry.notify(
                OperationEvent(
                    name="requested", kind=kind, target=target, user=user, operation=operation
                )
            )
    except IntegrityError:
        unfinished = unfinished_operation(target_key=target.key)
        if unfinished is None:
            raise
        return _same_or_refused(unfinished, kind, target, user), False
    transaction.on_commit(lambda: engine.enqueue(operation.pk))
    return operation, True


def _new_operation(
    kind: str, target: Target, user: Person, parameters: dict[str, Any], *, now: datetime
) -> Operation:
    """The row of an operation asked for now on ``target`` (not saved yet: alone or in bulk)."""
    return Operation(
        kind=kind,
        requested_by=signed_in(user),
        requested_at=now,
        last_enqueued_at=now,
        target_id=target.id,
        target_key=target.key,
        target_type=target.type,
        target_name=target.name,
        target_resource_group=target.resource_group,
        target_subscription_id=target.subscription_id,
        parameters=parameters,
    )


def _steps_of(spec: registry.OperationSpec, operations: list[Operation]) -> list[OperationStep]:
    """Each operation's steps as its spec lists them, waiting."""
    return [
        OperationStep(operation=operation, position=i, name=step.name, label=step.label)
        for operation in operations
        for i, step in enumerate(spec.steps)
    ]


def _same_or_refused(unfinished: Operation, kind: str, target: Target, user: Person) -> Operation:
    """A repeated click gets the operation under way; another action on a busy target is
    refused, with the reason, and the refusal is recorded (it is never dropped in silence)."""
    if unfinished.kind == kind:
        return unfinished
    reason = _busy_reason(unfinished, kind, target)
    _refused(kind, target, user, reason)
    raise ActionRefused(reason)


def _busy_reason(unfinished: Operation, kind: str, target: Target) -> str:
    return (
        f"{unfinished.label} of {target.name} is already in progress; "
        f"{registry.get(kind).label} was not sent. Try again when it has finished."
    )


def unfinished_operation(*, target_key: str) -> Operation | None:
    return Operation.objects.filter(target_key=target_key, status__in=UNFINISHED_STATUSES).first()


#: Refusals announced inside a caller's transaction (see refusals_outlive_rollback).
_pending_refusals: ContextVar[list[OperationEvent] | None] = ContextVar(
    "pending_refusals", default=None
)


@contextmanager
def refusals_outlive_rollback() -> Iterator[None]:
    """Put this around a caller's ``transaction.atomic()`` that calls operation_request.

    A refusal is recorded where it happens, inside that transaction, and then rolls it back
    with the refusal's own record. Announced again once the transaction is gone, the refusal
    is kept: who asked for what, and why it was refused.
    """
    pending: list[OperationEvent] = []
    token = _pending_refusals.set(pending)
    try:
        yield
    except (ActionRefused, PermissionDenied):
        _pending_refusals.reset(token)
        for event in pending:
            registry.notify(event)
        raise
    except BaseException:
        _pending_refusals.reset(token)
        raise
    else:
        _pending_refusals.reset(token)


def _refused(kind: str, target: Target, user: Person, reason: str) -> None:
    event = OperationEvent(name="refused", kind=kind, target=target, user=user, reason=reason)
    registry.notify(event)
    pending = _pending_refusals.get()
    if pending is not None:
        pending.append(event)


@dataclass(frozen=True)
class RequestItem:
    """One target of a request for many: what to act on, and what the pre-check judges."""

    target: Target
    subject: Any
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ManyResult:
    created: list[Operation]
    #: Targets that already had this operation under way: it is kept, nothing new is made.
    already: list[Operation]
    #: Targets refused, with the reason: busy with another operation, or the pre-check said no.
    refused: list[tuple[Target, str]]


def operation_request_many(*, kind: str, items: list[RequestItem], user: Person) -> ManyResult:
    """Ask for the same operation on many targets in one transaction (a multi-select).

    A thousand VMs cost a handful of queries: busy targets are found in one, the operations
    and their steps are inserted in bulk, and each is queued after commit. Each one then runs
    on the engine like any other, taking turns on the workers between polls.
    """
    spec = registry.get(kind)
    if user is not None and not user.has_perm(spec.permission):
        reason = f"Your role does not allow {spec.label.lower()}."
        for item in items:
            _refused(kind, item.target, user, reason)
        raise PermissionDenied(reason)
    busy = unfinished_by_target(item.target.key for item in items)
    already: list[Operation] = []
    refused: list[tuple[Target, str]] = []
    wanted: list[RequestItem] = []
    seen: set[str] = set()
    for item in items:
        key = item.target.key
        if key in seen:
            continue
        seen.add(key)
        if key in busy:
            if busy[key].kind == kind:
                already.append(busy[key])
            else:
                refused.append((item.target, _busy_reason(busy[key], kind, item.target)))
            continue
        reason = spec.precheck(item.subject, dict(item.parameters))
        if reason:
            refused.append((item.target, reason))
            continue
        wanted.append(item)
    registry.notify_many(
        [
            OperationEvent(name="refused", kind=kind, target=target, user=user, reason=reason)
            for target, reason in refused
        ]
    )
    try:
        created = _create_many(spec, kind, wanted, user)
    except IntegrityError:
        # Another request got to one of these targets first: ask one by one instead.
        created = []
        for item in wanted:
            try:
                operation, was_created = operation_request(
                    kind=kind,
                    target=item.target,
                    subject=item.subject,
                    user=user,
                    parameters=item.parameters,
                )
            except ActionRefused as exc:
                # Busy with another kind now, or the pre-check said no: skipped with the
                # reason, like a one-click refusal (operation_request has recorded it).
                refused.append((item.target, str(exc)))
                continue
            (created if was_created else already).append(operation)
        return ManyResult(created=created, already=already, refused=refused)
    ids = [operation.pk for operation in created]
    transaction.on_commit(lambda: engine.enqueue_many(ids))
    return ManyResult(created=created, already=already, refused=refused)


def _create_many(
    spec: registry.OperationSpec, kind: str, items: list[RequestItem], user: Person
) -> list[Operation]:
    if not items:
        return []
    now = timezone.now()
    with transaction.atomic():
        created = Operation.objects.bulk_create(
            _new_operation(kind, item.target, user, dict(item.parameters), now=now)
            for item in items
        )
        OperationStep.objects.bulk_create(_steps_of(spec, created))
        registry.notify_many(
            [
                OperationEvent(
                    name="requested",
                    kind=kind,
                    target=operation.target,
                    user=user,
                    operation=operation,
                )
                for operation in created
            ]
        )
    return created


def operation_cancel(*, operation: Operation, user: Person) -> Operation:
    """Ask the engine to stop an operation at its next step boundary.

    Refused once a step that cannot be undone has started (the engine marks that with the
    same kind of conditional UPDATE, so a cancel either wins before it or is refused), and
    once the operation has ended. Asking twice is harmless.
    """
    spec = registry.get(operation.kind)
    if user is not None and not user.has_perm(spec.permission):
        reason = f"Your role does not allow canceling {spec.label.lower()}."
        _cancel_refused(operation, user, reason)
        raise PermissionDenied(reason)
    with transaction.atomic():  # no cancel without its record
        asked = Operation.objects.filter(
            pk=operation.pk,
            status__in=UNFINISHED_STATUSES,
            irreversible_step="",
            cancel_requested_at__isnull=True,
        ).update(cancel_requested_at=timezone.now(), cancel_requested_by=user)
        operation.refresh_from_db()
        if asked:
            registry.notify(
                OperationEvent(
                    name="cancel_requested",
                    kind=operation.kind,
                    target=operation.target,
                    user=user,
                    operation=operation,
                )
            )
            return operation
    if not operation.is_unfinished:
        reason = f"{spec.label} of {operation.target_name} has already ended."
        _cancel_refused(operation, user, reason)
        raise ActionRefused(reason)
    if operation.irreversible_step:
        started = next(
            (step.label for step in spec.steps if step.name == operation.irreversible_step),
            operation.irreversible_step,
        )
        reason = (
            f"'{started}' has started and cannot be undone, so {spec.label.lower()} of "
            f"{operation.target_name} can no longer be canceled."
        )
        _cancel_refused(operation, user, reason)
        raise ActionRefused(reason)
    return operation  # asked before


def _cancel_refused(operation: Operation, user: Person, reason: str) -> None:
    registry.notify(
        OperationEvent(
            name="refused",
            kind=f"{operation.kind}.cancel",
            target=operation.target,
            user=user,
            operation=operation,
            reason=reason,
        )
    )
