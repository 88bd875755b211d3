"""Asking for an operation: checked, written before any call to Azure, queued after commit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from contoso_images.core.errors import ActionRefused
from contoso_images.operations import engine, registry
from contoso_images.operations.models import (
    UNFINISHED_STATUSES,
    Operation,
    OperationStep,
)
from contoso_images.operations.registry import Target


def operation_request(
    *,
    kind: str,
    target: Target,
    subject: Any,
    user: Any,
    parameters: dict[str, Any] | None = None,
) -> tuple[Operation, bool]:
    """Create the operation and queue it after commit; a repeated click gets the same one.

    Returns (operation, created). ``subject`` is what the spec's pre-check judges (a VM row).
    The conditional unique constraint, not the check here, is what guarantees one unfinished
    operation per target when two requests race.
    """
    spec = registry.get(kind)
    if user is not None and not user.has_perm(spec.permission):
        raise PermissionDenied(f"Your role does not allow {spec.label.lower()}.")
    unfinished = unfinished_operation(target_key=target.key)
    if unfinished is not None:
        return unfinished, False
    parameters = dict(parameters or {})
    reason = spec.precheck(subject, parameters)
    if reason:
        raise ActionRefused(reason)
    now = timezone.now()
    try:
        with transaction.atomic():
            operation = Operation.objects.create(
                kind=kind,
                requested_by=user,
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
            OperationStep.objects.bulk_create(
                OperationStep(operation=operation, position=i, name=step.name, label=step.label)
                for i, step in enumerate(spec.steps)
            )
    except IntegrityError:
        unfinished = unfinished_operation(target_key=target.key)
        if unfinished is None:
            raise
        return unfinished, False
    transaction.on_commit(lambda: engine.enqueue(operation.pk))
    return operation, True


def unfinished_operation(*, target_key: str) -> Operation | None:
    return Operation.objects.filter(target_key=target_key, status__in=UNFINISHED_STATUSES).first()
