"""Asking for power actions on VMs; the shared engine carries them out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contoso_images.core.errors import ActionRefused
from contoso_images.operations.models import Operation
from contoso_images.operations.services import operation_request, unfinished_operation
from vmops.choices import PowerAction
from vmops.models import VirtualMachine


def vm_action_request(*, vm: VirtualMachine, kind: str, user: Any) -> tuple[Operation, bool]:
    """Ask for a power action; returns (operation, created), the one under way if any."""
    if kind not in PowerAction.values:
        raise ActionRefused("Unknown action.")
    return operation_request(
        kind=PowerAction(kind).operation_kind,
        target=vm.target,
        subject=vm,
        user=user,
        parameters={"power_state_when_requested": vm.power_state},
    )


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
            _, created = vm_action_request(vm=vm, kind=PowerAction.DEALLOCATE, user=user)
        except ActionRefused:
            skipped += 1
            continue
        queued += created
        already += not created
    return BulkRequestResult(queued=queued, already=already, skipped=skipped)


def vm_unfinished_operation(*, vm: VirtualMachine) -> Operation | None:
    return unfinished_operation(target_key=vm.azure_id)
