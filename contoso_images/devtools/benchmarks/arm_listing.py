"""How fast the gateway lists a large subscription's VMs with their power states.

Seeds a throw-away emulator with many VMs (durations zero) and times one
``vm_list_with_power_state`` through the real SDK, counting the ARM requests it took: the
listing must cost ``ceil(n / page size)`` requests, never one per VM.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

from django.test import override_settings

from contoso_images import azure as gateway

LIST_PATH = "/providers/Microsoft.Compute/virtualMachines"


def run(*, vms: int = 10_000) -> list[tuple[str, str]]:
    """Return ``(label, value)`` rows for the benchmark command."""
    from contoso_images.arm_emulator import Emulator

    with tempfile.TemporaryDirectory(prefix="arm-bench-") as tmp:
        path = Path(tmp) / "arm.sqlite3"
        emu = Emulator(str(path))
        emu.reset()
        emu.seed_contoso_pilot(extra_vms=vms)
        emu.set_durations(all=0)
        subscription_id = emu.subscription_ids()[0]
        with override_settings(AZURE_MODE="emulator", AZURE_EMULATOR_STATE=str(path)):
            gateway.clear_client_cache()
            try:
                emu.clear_request_log()
                started = time.perf_counter()
                listed = gateway.vm_list_with_power_state(subscription_id)
                seconds = time.perf_counter() - started
                requests = [
                    e
                    for e in emu.request_log()
                    if e.method == "GET" and e.path.split("?")[0].endswith(LIST_PATH)
                ]
            finally:
                gateway.clear_client_cache()
        page_size = getattr(emu, "page_size", None)
    expected = math.ceil(len(listed) / page_size) if page_size else None
    return [
        ("VMs listed", f"{len(listed):,}"),
        ("ARM list requests", str(len(requests))),
        ("expected ceil(n / page size)", "n/a" if expected is None else str(expected)),
        ("seconds", f"{seconds:.2f}"),
        ("VMs per second", f"{len(listed) / seconds:,.0f}" if seconds else "n/a"),
    ]
