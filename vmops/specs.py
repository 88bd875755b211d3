"""The operations vmops runs on the shared engine: one per power action (``vmops.power``).

Each power action's spec becomes one :class:`OperationSpec` with one :class:`PowerStep`,
which reads the VM's live power state before sending, sends the action through the gateway
call its spec names, and watches the VM until it shows the action over.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.utils import timezone

from contoso_images import azure
from contoso_images.operations.models import Operation
from contoso_images.operations.registry import Observation, OperationSpec, Step, StepContext
from vmops.models import VM_TYPE, VirtualMachine
from vmops.power import POWER_ACTIONS, PowerActionSpec
from vmops.rules import VmState
from vmops.services.inventory import vm_read_live, vm_settled_by_operation


def operation_vm(operation: Operation) -> VirtualMachine:
    """The cached VM an operation acts on (found by its ARM id)."""
    return VirtualMachine.objects.select_related("subscription").get(azure_id=operation.target_key)


def _vm(ctx: StepContext) -> VirtualMachine:
    if "vm" not in ctx.cache:
        ctx.cache["vm"] = operation_vm(ctx.operation)
    vm: VirtualMachine = ctx.cache["vm"]
    return vm


class PowerStep(Step):
    """Send one power action and watch the VM's power state until Azure finished it."""

    def __init__(self, action: PowerActionSpec) -> None:
        self.action = action
        self.name = action.value
        self.label = action.label
        self.result_kind = f"vm_{action.value}"

    def observe(self, ctx: StepContext) -> Observation:
        vm = _vm(ctx)
        if not ctx.watching:
            ctx.report("Checking the VM's current state in Azure.")
        detail = vm_read_live(vm=vm)  # a VM deleted in Azure is marked gone, and raises
        ctx.cache["detail"] = detail
        observation = self._judge(ctx, vm, detail)
        if observation.done and ctx.sent is not None:
            ctx.cache["went_through"] = True
        # The cache row is as fresh as it gets only if nothing is left to happen to the VM.
        ctx.cache["vm_fresh"] = observation.done
        return observation

    def _judge(
        self, ctx: StepContext, vm: VirtualMachine, detail: azure.VirtualMachineDetail
    ) -> Observation:
        state = vm.power_state
        baseline = (ctx.sent or {}).get("baseline") or {}
        if ctx.watching:
            if state == self.action.transition:
                ctx.cache["saw_transition"] = True
                return Observation(in_flight=True)
            if state in self.action.ends_in:
                if (
                    self.action.ends_as_it_began
                    and not ctx.cache.get("saw_transition")
                    and not _changed_since(detail, baseline)
                ):
                    # Running as before the restart, under the same provisioning stamp, and
                    # never seen restarting: no restart reached the VM. Settled from the
                    # resource, that is "not sent", not "done".
                    return Observation(
                        note="Azure shows no trace of the request: the VM's provisioning "
                        "status was not stamped anew."
                    )
                return Observation(done=True)
            return Observation(
                unexpected=f"The VM ended {vm.get_power_state_display().lower()} instead; "
                "check the VM in Azure."
            )
        if state in self.action.done_in:
            return Observation(
                done=True,
                note=f"Azure already reported the VM as {vm.get_power_state_display().lower()}; "
                "nothing was sent.",
            )
        if state == self.action.transition and (ctx.sent is not None or ctx.is_takeover):
            # A request that may have left is under way: watch it, never send a second one.
            ctx.cache["saw_transition"] = True
            return Observation(in_flight=True)
        if (
            ctx.sent is not None
            and state in self.action.ends_in
            and _changed_since(detail, baseline)
        ):
            # An action that ends as it began (a restart) leaves no state behind, but Azure's
            # provisioning status was stamped anew after the request left: it arrived, and
            # is over.
            return Observation(done=True)
        return Observation()

    def baseline(self, ctx: StepContext) -> dict[str, Any]:
        detail = ctx.cache.get("detail")
        return {"provisioning_time": _provisioning_time(detail) if detail else ""}

    def begin(self, ctx: StepContext) -> str | None:
        vm = _vm(ctx)
        return self.action.begin(vm.subscription.subscription_id, vm.resource_group, vm.name)

    def succeeded(self, ctx: StepContext, result: object | None) -> None:
        # Azure finished what we sent: the VM went through a change, dated when refreshed.
        ctx.cache["went_through"] = True

    def accepted(self, ctx: StepContext) -> None:
        vm = _vm(ctx)
        now = timezone.now()
        vm.power_state = self.action.transition
        vm.state_changed_at = vm.reported_at = now
        vm.save(update_fields=["power_state", "state_changed_at", "reported_at"])
        ctx.cache["vm_fresh"] = False


def _provisioning_time(detail: azure.VirtualMachineDetail) -> str:
    """When Azure last stamped the VM's provisioning status (each operation restamps it)."""
    for status in detail.statuses:
        if status.code.lower().startswith("provisioningstate/") and status.time:
            return status.time.isoformat()
    return ""


def _changed_since(detail: azure.VirtualMachineDetail, baseline: dict[str, Any]) -> bool:
    before = baseline.get("provisioning_time") or ""
    now = _provisioning_time(detail)
    return bool(before and now and now != before)


def refresh_vm(ctx: StepContext) -> None:
    """Re-read the VM after its operation ended; a failed read only leaves the cache older."""
    if ctx.cache.get("vm_fresh"):
        if ctx.cache.get("went_through") and "vm" in ctx.cache:
            vm_settled_by_operation(vm=ctx.cache["vm"], now=timezone.now())
        return
    try:
        vm = _vm(ctx)
    except VirtualMachine.DoesNotExist:
        return
    # A VM deleted in Azure is marked gone by the read; any other failure shows up later.
    with contextlib.suppress(azure.AzureError):
        vm_read_live(vm=vm)
    if ctx.cache.get("went_through") and not vm.gone_at:
        # Even a Restart (Running, Starting, Running) is a change the dashboard watched.
        vm_settled_by_operation(vm=vm, now=timezone.now())


def power_operation(action: PowerActionSpec) -> OperationSpec:
    """The operation the engine runs for a power action, as its spec declares it."""

    def precheck(vm: VirtualMachine, parameters: dict[str, Any]) -> str:
        return action.availability(VmState.of(vm)).reason

    return OperationSpec(
        kind=action.kind,
        label=action.label,
        permission=action.permission,
        target_type=VM_TYPE,
        precheck=precheck,
        steps=(PowerStep(action),),
        finished=refresh_vm,
    )


POWER_SPECS = tuple(power_operation(action) for action in POWER_ACTIONS)
