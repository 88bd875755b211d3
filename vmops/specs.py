"""The kinds of operation vmops runs on the shared engine: the four power actions.

Each power action is one :class:`OperationSpec`: its label, the permission it needs, the rule
that says whether the VM's state allows it, and one :class:`PowerStep` that knows the gateway
call that sends it, the power states that show it done and the one Azure shows meanwhile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from contoso_images import azure
from contoso_images.operations.models import Operation
from contoso_images.operations.registry import Observation, OperationSpec, Step, StepContext
from vmops.choices import PowerAction, PowerState
from vmops.models import VM_TYPE, VirtualMachine
from vmops.rules import action_availability
from vmops.services.inventory import vm_read_live

OPERATE = "vmops.operate_virtualmachine"

Begin = Callable[[str, str, str], str]


def operation_vm(operation: Operation) -> VirtualMachine:
    """The cached VM an operation acts on (found by its ARM id)."""
    return VirtualMachine.objects.select_related("subscription").get(azure_id=operation.target_key)


def _vm(ctx: StepContext) -> VirtualMachine:
    if "vm" not in ctx.cache:
        ctx.cache["vm"] = operation_vm(ctx.operation)
    return ctx.cache["vm"]


class PowerStep(Step):
    """Send one power action and watch the VM's power state until Azure finished it."""

    def __init__(
        self,
        action: PowerAction,
        *,
        begin: Begin,
        done_states: tuple[PowerState, ...],
        transition: PowerState,
    ) -> None:
        self.action = action
        self.name = action.value
        self.label = action.label
        self.result_kind = f"vm_{action.value}"
        self.send = begin
        #: Live power states in which Azure already shows what the action would produce.
        self.done_states = done_states
        #: The power state Azure shows while the action runs.
        self.transition = transition

    def shows_done(self, power_state: str) -> bool:
        return power_state in self.done_states

    def observe(self, ctx: StepContext) -> Observation:
        vm = _vm(ctx)
        if not ctx.watching:
            ctx.report("Checking the VM's current state in Azure.")
        detail = vm_read_live(vm=vm)  # a VM deleted in Azure is marked gone, and raises
        ctx.cache["detail"] = detail
        observation = self._judge(ctx, vm, detail)
        # The cache row is as fresh as it gets only if nothing is left to happen to the VM.
        ctx.cache["vm_fresh"] = observation.done
        return observation

    def _judge(
        self, ctx: StepContext, vm: VirtualMachine, detail: azure.VirtualMachineDetail
    ) -> Observation:
        state = vm.power_state
        if ctx.watching:
            if state == self.transition:
                return Observation(in_flight=True)
            # A restart shows "running" again once it is over, like a start.
            if self.shows_done(state) or (
                self.action == PowerAction.RESTART and state == PowerState.RUNNING
            ):
                return Observation(done=True)
            return Observation(
                unexpected=f"The VM ended {vm.get_power_state_display().lower()} instead; "
                "check the VM in Azure."
            )
        if self.shows_done(state):
            return Observation(
                done=True,
                note=f"Azure already reported the VM as {vm.get_power_state_display().lower()}; "
                "nothing was sent.",
            )
        if state == self.transition and (ctx.sent is not None or ctx.is_takeover):
            # A request that may have left is under way: watch it, never send a second one.
            return Observation(in_flight=True)
        if (
            self.action == PowerAction.RESTART
            and ctx.sent is not None
            and state == PowerState.RUNNING
            and _changed_since(detail, ctx.sent.get("baseline") or {})
        ):
            # A restart leaves no state behind, but Azure's provisioning status was stamped
            # anew after the request left: it arrived, and is over.
            return Observation(done=True)
        return Observation()

    def baseline(self, ctx: StepContext) -> dict[str, Any]:
        detail = ctx.cache.get("detail")
        return {"provisioning_time": _provisioning_time(detail) if detail else ""}

    def begin(self, ctx: StepContext) -> str | None:
        vm = _vm(ctx)
        return self.send(vm.subscription.subscription_id, vm.resource_group, vm.name)

    def accepted(self, ctx: StepContext) -> None:
        vm = _vm(ctx)
        now = timezone.now()
        vm.power_state = self.transition
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


def power_precheck(action: PowerAction) -> Callable[[Any, dict[str, Any]], str]:
    def precheck(vm: VirtualMachine, parameters: dict[str, Any]) -> str:
        return action_availability(
            kind=action,
            power_state=vm.power_state,
            generalized=vm.generalized,
            gone=bool(vm.gone_at),
        ).reason

    return precheck


def refresh_vm(ctx: StepContext) -> None:
    """Re-read the VM after its operation ended; a failed read only leaves the cache older."""
    if ctx.cache.get("vm_fresh"):
        return
    try:
        vm = _vm(ctx)
    except VirtualMachine.DoesNotExist:
        return
    # A VM deleted in Azure is marked gone by the read; any other failure shows up later.
    with contextlib.suppress(azure.AzureError):
        vm_read_live(vm=vm)


START = OperationSpec(
    kind=PowerAction.START.operation_kind,
    label=PowerAction.START.label,
    permission=OPERATE,
    target_type=VM_TYPE,
    precheck=power_precheck(PowerAction.START),
    steps=(
        PowerStep(
            PowerAction.START,
            begin=azure.vm_begin_start,
            done_states=(PowerState.RUNNING,),
            transition=PowerState.STARTING,
        ),
    ),
    finished=refresh_vm,
)
POWER_OFF = OperationSpec(
    kind=PowerAction.POWER_OFF.operation_kind,
    label=PowerAction.POWER_OFF.label,
    permission=OPERATE,
    target_type=VM_TYPE,
    precheck=power_precheck(PowerAction.POWER_OFF),
    steps=(
        PowerStep(
            PowerAction.POWER_OFF,
            begin=azure.vm_begin_power_off,
            # A deallocated VM is not running either: stopping it has nothing left to do.
            done_states=(PowerState.STOPPED, PowerState.DEALLOCATED),
            transition=PowerState.STOPPING,
        ),
    ),
    finished=refresh_vm,
)
DEALLOCATE = OperationSpec(
    kind=PowerAction.DEALLOCATE.operation_kind,
    label=PowerAction.DEALLOCATE.label,
    permission=OPERATE,
    target_type=VM_TYPE,
    precheck=power_precheck(PowerAction.DEALLOCATE),
    steps=(
        PowerStep(
            PowerAction.DEALLOCATE,
            begin=azure.vm_begin_deallocate,
            done_states=(PowerState.DEALLOCATED,),
            transition=PowerState.DEALLOCATING,
        ),
    ),
    finished=refresh_vm,
)
RESTART = OperationSpec(
    kind=PowerAction.RESTART.operation_kind,
    label=PowerAction.RESTART.label,
    permission=OPERATE,
    target_type=VM_TYPE,
    precheck=power_precheck(PowerAction.RESTART),
    steps=(
        PowerStep(
            PowerAction.RESTART,
            begin=azure.vm_begin_restart,
            done_states=(),  # a running VM still needs its restart
            transition=PowerState.STARTING,
        ),
    ),
    finished=refresh_vm,
)

POWER_SPECS = (START, POWER_OFF, DEALLOCATE, RESTART)


def power_spec(action: str) -> OperationSpec:
    return {spec.kind: spec for spec in POWER_SPECS}[PowerAction(action).operation_kind]
