"""Seeding the emulator from ARM bodies recorded from real Azure.

Replaying a recording needs the resources it starts from. The recordings create their VMs
through ARM deployments and Microsoft.Network resources the emulator does not serve, so
a VM is seeded from the body a recorded ``GET …/virtualMachines/{vm}?$expand=instanceView``
returned instead: the body is kept as it is (less ``instanceView``, the ``resources`` of
extensions the emulator does not model, and the fields the emulator adds by api-version)
and the private state is read off the instance view.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any

_POWER = {
    "running": "running",
    "starting": "running",
    "stopped": "stopped",
    "stopping": "stopped",
    "deallocated": "deallocated",
    "deallocating": "deallocated",
}


def parse_time(text: str | None, default: float) -> float:
    """An ARM timestamp (up to 7 fractional digits) as epoch seconds."""
    if not text:
        return default
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(trimmed).timestamp()
    except ValueError:
        return default


def _status_time(statuses: list[dict[str, Any]], prefix: str, default: float) -> float:
    for status in statuses:
        if str(status.get("code", "")).startswith(prefix):
            return parse_time(status.get("time"), default)
    return default


def vm_from_recorded(
    body: dict[str, Any], now: float
) -> tuple[str, str, str, dict[str, Any], dict[str, Any]]:
    """``(subscription, resource group, name, body, emu)`` of a VM from its recorded body."""
    body = copy.deepcopy(body)
    parts = body["id"].split("/")
    sub, rg, name = parts[2], parts[4], parts[-1]
    body.pop("resources", None)
    props = body["properties"]
    view = props.pop("instanceView", None) or {}
    props["provisioningState"] = "Succeeded"
    linux = (props.get("osProfile") or {}).get("linuxConfiguration")
    if linux is not None:
        linux.pop("enableVMAgentPlatformUpdates", None)
    statuses = view.get("statuses") or []
    codes = [str(s.get("code", "")) for s in statuses]
    power = next(
        (_POWER.get(c.split("/", 1)[1], "running") for c in codes if c.startswith("PowerState/")),
        "running",
    )
    created = parse_time(props.get("timeCreated"), now)
    state_time = _status_time(statuses, "ProvisioningState/", created)
    agent = view.get("vmAgent") or {}
    storage = props["storageProfile"]
    sizes = {"os": storage["osDisk"].get("diskSizeGB")}
    sizes.update({str(d["lun"]): d.get("diskSizeGB") for d in storage.get("dataDisks") or []})
    emu: dict[str, Any] = {
        "power": power,
        "os_generalized": "OSState/generalized" in codes,
        "guest_generalized": "OSState/generalized" in codes,
        "generation": view.get("hyperVGeneration") or "V1",
        "computer_name": view.get("computerName"),
        "os_name": view.get("osName", ""),
        "os_version": view.get("osVersion", ""),
        "agent_version": agent.get("vmAgentVersion"),
        "agent_time": _status_time(agent.get("statuses") or [], "ProvisioningState/", state_time),
        "disk_sizes": {k: v for k, v in sizes.items() if v},
        "hibernated": False,
        "op": None,
        "deleting": False,
        "state_time": state_time,
    }
    return sub, rg, name, body, emu
