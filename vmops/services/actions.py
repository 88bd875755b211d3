"""Asking for power actions on VMs, one or many at once; the shared engine carries them out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from contoso_images.core.errors import ActionRefused
from contoso_images.core.users import Person, signed_in
from contoso_images.operations.models import Operation
from contoso_images.operations.selectors import unfinished_by_target
from contoso_images.operations.services import (
    RequestItem,
    operation_request,
    operation_request_many,
    unfinished_operation,
)
from vmops.models import BulkAction, VirtualMachine
from vmops.power import is_power_action, power_action
from vmops.rules import VmState


def vm_action_request(*, vm: VirtualMachine, kind: str, user: Person) -> tuple[Operation, bool]:
    """Ask for a power action; returns (operation, created), the one under way if any.

    Raises ActionRefused (recorded by the engine) when the state or another operation under
    way forbids it, and PermissionDenied (recorded too) when the user's role does.
    """
    if not is_power_action(kind):
        raise ActionRefused("Unknown action.")
    return operation_request(
        kind=power_action(kind).kind,
        target=vm.target,
        subject=vm,
        user=user,
        parameters=_parameters(vm),
    )


def _parameters(vm: VirtualMachine) -> dict[str, Any]:
    return {"power_state_when_requested": vm.power_state}


def vm_unfinished_operation(*, vm: VirtualMachine) -> Operation | None:
    return unfinished_operation(target_key=vm.azure_id)


# --- Many VMs at once (multi-select) --------------------------------------------------------

#: What a selected VM gets: a new operation, the one already under way, or nothing (why).
QUEUED, ALREADY, SKIPPED = "queued", "already", "skipped"


@dataclass(frozen=True)
class PlanItem:
    """What one selected VM will get (the dry run) or got (the request)."""

    vm: VirtualMachine
    outcome: str
    reason: str = ""
    operation: Operation | None = None


def vms_action_plan(*, vms: list[VirtualMachine], kind: str) -> list[PlanItem]:
    """The dry run of a multi-select: what each VM would get now, by the rules the request
    applies (the state, and what is under way), in one query. Nothing is written."""
    action = power_action(kind)
    busy = unfinished_by_target(vm.azure_id for vm in vms)
    plan = []
    for vm in vms:
        operation = busy.get(vm.azure_id)
        if operation is not None and operation.kind == action.kind:
            plan.append(
                PlanItem(vm, ALREADY, f"{operation.label} is already in progress.", operation)
            )
            continue
        availability = action.availability(
            VmState.of(vm, busy_with=operation.label if operation is not None else "")
        )
        if availability.allowed:
            plan.append(PlanItem(vm, QUEUED))
        else:
            plan.append(PlanItem(vm, SKIPPED, availability.reason, operation))
    return plan


def vms_action_request(
    *, vms: list[VirtualMachine], kind: str, user: Person, selection: str
) -> BulkAction:
    """Ask for one power action on many VMs in one transaction and record what each got.

    A thousand VMs cost a fixed number of queries (the engine creates the operations in bulk
    and queues them after commit); each then runs like a one-click action, taking turns on
    the workers between polls. A VM busy with another operation is skipped with the reason,
    like a one-click request would be refused.
    """
    action = power_action(kind)
    items = [RequestItem(target=vm.target, subject=vm, parameters=_parameters(vm)) for vm in vms]
    with transaction.atomic():
        result = operation_request_many(kind=action.kind, items=items, user=user)
        got: dict[str, tuple[str, str, int | None]] = {}
        for operation in result.created:
            got[operation.target_key] = (QUEUED, "", operation.pk)
        for operation in result.already:
            reason = f"{operation.label} is already in progress."
            got[operation.target_key] = (ALREADY, reason, operation.pk)
        for target, reason in result.refused:
            got[target.key] = (SKIPPED, reason, None)
        return BulkAction.objects.create(
            kind=action.value,
            requested_by=signed_in(user),
            requested_at=timezone.now(),
            selection=selection[:500],
            items=[_item_record(vm, got.get(vm.azure_id)) for vm in vms],
        )


def _item_record(vm: VirtualMachine, got: tuple[str, str, int | None] | None) -> dict[str, Any]:
    outcome, reason, operation = got or (SKIPPED, "Not sent.", None)
    return {
        "vm": vm.pk,
        "name": vm.name,
        "resource_group": vm.resource_group,
        "subscription": str(vm.subscription),
        "outcome": outcome,
        "reason": reason,
        "operation": operation,
    }


@dataclass(frozen=True)
class BulkCounts:
    queued: int
    already: int  # VMs that already had the same operation under way (it is kept)
    skipped: int  # VMs whose state (or another operation) does not allow the action


def bulk_action_counts(bulk: BulkAction) -> BulkCounts:
    """How many VMs of a multi-select got each outcome when it was asked for."""
    outcomes = [item["outcome"] for item in bulk.items]
    return BulkCounts(
        queued=outcomes.count(QUEUED),
        already=outcomes.count(ALREADY),
        skipped=outcomes.count(SKIPPED),
    )
