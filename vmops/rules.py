"""Whether an action may run on a VM now, and why not when it may not.

Every action on a VM (a power action, a capture) first passes the same guards: the VM still
exists in Azure, nothing else is under way on it, and it is not between two power states.
Then the action's own rule judges the state. Pure functions over the cached state, so the
list, the VM page, the services and the operations' pre-checks all agree; Azure still has
the last word, since each step reads the live state before acting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vmops.choices import TRANSITIONAL_POWER_STATES, PowerState
from vmops.models import VirtualMachine


@dataclass(frozen=True)
class Availability:
    allowed: bool
    reason: str = ""


ALLOWED = Availability(True)


@dataclass(frozen=True)
class VmState:
    """What the rules judge: a VM's cached state, and what is under way on it."""

    power_state: str
    generalized: bool = False
    #: Deleted in Azure (the inventory keeps it, marked).
    gone: bool = False
    #: The label of the operation under way on the VM ("" when none).
    busy_with: str = ""

    @classmethod
    def of(cls, vm: VirtualMachine, *, busy_with: str = "") -> VmState:
        return cls(
            power_state=vm.power_state,
            generalized=vm.generalized,
            gone=bool(vm.gone_at),
            busy_with=busy_with,
        )


#: An action's own rule: why it cannot run in this state, or "" when it can.
Rule = Callable[[VmState], str]


def availability(state: VmState, rule: Rule) -> Availability:
    """The shared guards, then the action's rule; the reason is shown next to a disabled
    button, on a refused request and in the audit record."""
    if state.gone:
        reason = "This VM no longer exists in Azure."
    elif state.busy_with:
        reason = f"{state.busy_with} is already in progress."
    elif state.power_state in TRANSITIONAL_POWER_STATES:
        reason = f"The VM is {PowerState(state.power_state).label.lower()}; wait for it."
    else:
        reason = rule(state)
    return Availability(not reason, reason)
