"""Small helpers shared by test modules (fixtures live in conftest.py, helpers here)."""

from __future__ import annotations

from typing import Any

from contoso_images.operations.models import Operation

#: Headers of an htmx request.
HX = {"HX-Request": "true"}


def vm_in_state(inventory: dict[str, Any], power_state: str, *, generalized: bool = False) -> Any:
    """The first synced VM in a power state (the pilot tenant seeds every state)."""
    for vm in sorted(inventory.values(), key=lambda v: v.name):
        if vm.power_state == power_state and vm.generalized == generalized and not vm.gone_at:
            return vm
    raise LookupError(f"no VM is {power_state} (generalized={generalized})")


def operations_of(vm: Any) -> Any:
    """The operations recorded on a VM (a queryset)."""
    return Operation.objects.filter(target_key=vm.azure_id)


def arm_posts(emulator: Any, verb: str) -> list[Any]:
    """The emulator's logged POSTs whose path ends with ``/<verb>``."""
    return [
        e
        for e in emulator.request_log()
        if e.method == "POST" and e.path.split("?")[0].lower().endswith(f"/{verb.lower()}")
    ]
