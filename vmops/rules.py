"""Which action the VM's current state allows, and why not when it doesn't.

Pure functions over the cached state, so the list, the detail page, the service and the tests
all agree. Azure still has the last word: the task reads the live state before acting.
"""

from __future__ import annotations

from dataclasses import dataclass

from vmops.choices import TRANSITIONAL_POWER_STATES, PowerAction, PowerState


@dataclass(frozen=True)
class Availability:
    allowed: bool
    reason: str = ""


ALLOWED = Availability(True)


def action_availability(
    *, kind: str, power_state: str, generalized: bool, gone: bool = False, busy_with: str = ""
) -> Availability:
    """Say whether `kind` may be requested now; the reason is shown next to a disabled button."""
    if gone:
        return Availability(False, "This VM no longer exists in Azure.")
    if busy_with:
        return Availability(False, f"{busy_with} is already in progress.")
    if power_state in TRANSITIONAL_POWER_STATES:
        return Availability(
            False, f"The VM is {PowerState(power_state).label.lower()}; wait for it."
        )
    if generalized:
        # A generalized VM can never run again; deallocating it only releases billed compute.
        if kind == PowerAction.DEALLOCATE and power_state == PowerState.STOPPED:
            return ALLOWED
        return Availability(
            False, "Generalized VMs cannot be started again; capture an image or delete the VM."
        )
    return _power_rule(kind, power_state)


def _power_rule(kind: str, power_state: str) -> Availability:
    if kind == PowerAction.START:
        if power_state == PowerState.RUNNING:
            return Availability(False, "The VM is already running.")
        return ALLOWED
    if kind == PowerAction.POWER_OFF:
        if power_state == PowerState.STOPPED:
            return Availability(False, "The VM is already stopped.")
        if power_state == PowerState.DEALLOCATED:
            return Availability(False, "The VM is deallocated; it is not running.")
        return ALLOWED
    if kind == PowerAction.DEALLOCATE:
        if power_state == PowerState.DEALLOCATED:
            return Availability(False, "The VM is already deallocated.")
        return ALLOWED
    if kind == PowerAction.RESTART:
        if power_state not in (PowerState.RUNNING, PowerState.UNKNOWN):
            return Availability(False, "Only a running VM can be restarted.")
        return ALLOWED
    return Availability(False, "Unknown action.")


#: The action a row offers first in each settled power state: what people most often want.
PRIMARY_ACTION = {
    PowerState.RUNNING: PowerAction.POWER_OFF,
    PowerState.STOPPED: PowerAction.DEALLOCATE,
    PowerState.DEALLOCATED: PowerAction.START,
    PowerState.UNKNOWN: PowerAction.START,
}


def primary_action(*, power_state: str, generalized: bool = False) -> str:
    """The kind a row shows most prominently ("" when the state has none)."""
    if generalized:
        return PowerAction.DEALLOCATE if power_state == PowerState.STOPPED else ""
    return PRIMARY_ACTION.get(power_state, "")  # type: ignore[call-overload]


def confirmation_question(*, kind: str, power_state: str, name: str) -> str:
    """What to ask before sending ``kind``; "" for an action that stays one click.

    A restart and the deallocation of a VM that may be running cut off whoever uses it, and
    stopping without deallocating keeps the bill running: each is asked, naming the VM, so
    one stray click does nothing. Deallocating a VM that is only stopped is not asked.
    """
    if kind == PowerAction.RESTART:
        return (
            f"Restart {name}? It goes offline for a minute or two; everyone connected to it is "
            "disconnected."
        )
    if kind == PowerAction.DEALLOCATE and power_state in (
        PowerState.RUNNING,
        PowerState.STARTING,
        PowerState.UNKNOWN,
    ):
        return (
            f"Deallocate {name}? It is running: it shuts down now and releases its compute "
            "(compute billing stops; a dynamic public IP address may change)."
        )
    if kind == PowerAction.POWER_OFF:
        return (
            f"Stop {name}? Stopping keeps it allocated: it stays billed for compute. "
            "Deallocate instead to stop compute charges (disks are billed either way)."
        )
    return ""
