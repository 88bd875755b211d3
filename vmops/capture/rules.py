"""Whether a VM's cached state allows a capture now, and why not when it does not.

Pure, like vmops.rules: the VM page's button, the wizard and the operation's pre-check
agree. The capture's first step reads Azure again before acting.
"""

from __future__ import annotations

from vmops.capture.choices import CaptureKind
from vmops.choices import TRANSITIONAL_POWER_STATES, PowerState
from vmops.rules import ALLOWED, Availability


def capture_availability(
    *, kind: str, power_state: str, generalized: bool, gone: bool = False, busy_with: str = ""
) -> Availability:
    if gone:
        return Availability(False, "This VM no longer exists in Azure.")
    if busy_with:
        return Availability(False, f"{busy_with} is already in progress.")
    if power_state in TRANSITIONAL_POWER_STATES:
        return Availability(
            False, f"The VM is {PowerState(power_state).label.lower()}; wait for it."
        )
    if kind == CaptureKind.GALLERY_SPECIALIZED and generalized:
        return Availability(False, "A generalized VM can only be captured as a generalized image.")
    return ALLOWED
