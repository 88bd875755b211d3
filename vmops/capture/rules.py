"""Whether a VM's cached state allows a capture now, and why not when it does not.

A capture passes the guards every action on a VM shares (``vmops.rules``: the VM exists, is
free and settled), then its own rule: a generalized VM can only become a generalized image.
The VM page's button, the wizard and the operation's pre-check agree; the capture's first
step reads Azure again before acting.
"""

from __future__ import annotations

from vmops.capture.choices import CaptureKind
from vmops.rules import Availability, VmState, availability


def capture_availability(*, kind: str, state: VmState) -> Availability:
    def rule(vm: VmState) -> str:
        if vm.generalized and not CaptureKind(kind).generalized:
            return "A generalized VM can only be captured as a generalized image."
        return ""

    return availability(state, rule)
