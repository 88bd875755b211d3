"""How an emulated VM is stored and how it is rendered as ARM JSON.

A VM row keeps the REST body (``properties`` without ``instanceView``) and private
state in ``emu``: the steady power state (running/stopped/deallocated), whether Azure
marked it generalized (``os_generalized``, set only by POST generalize) or the guest ran
sysprep/waagent (``guest_generalized``), whether ``deallocate?hibernate=true`` left it
hibernated (``hibernated``), and the pending operation if any. The instance
view is derived from that state at read time, so a pending "start" shows
``PowerState/starting`` + provisioning ``Updating`` until it settles.

What a read shows follows the recorded traffic (docs/emulator-fidelity.md, "VMs"):

- a VM that holds its allocation (running, or stopped but allocated) keeps
  ``computerName``, ``osName``, ``osVersion`` and ``vmAgent`` in its instance view; a
  deallocated one shows only its disks, its generation and its statuses;
- a deallocated VM's managed disks have no ``diskSizeGB`` and no
  ``managedDisk.storageAccountType`` in the VM body (blob disks keep their size);
- ``ProvisioningState/*`` carries the time of the last change: when an operation is
  accepted, and when it settles (recorded: the settle time);
- some fields depend on the api-version (``versions.py``): Linux
  ``enableVMAgentPlatformUpdates``, ``patchSettings.assessmentMode``, the ``Standard``
  ``securityProfile``.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from . import clock, versions
from .state import Resource

VM_TYPE = "Microsoft.Compute/virtualMachines"

# operation kind -> PowerState shown while it runs
TRANSITIONAL = {
    "start": "starting",
    "restart": "starting",
    "power_off": "stopping",
    "deallocate": "deallocating",
    "create": "starting",  # a create starts the VM (handlers_deploy)
}
POWER_DISPLAY = {
    "starting": "VM starting",
    "running": "VM running",
    "stopping": "VM stopping",
    "stopped": "VM stopped",
    "deallocating": "VM deallocating",
    "deallocated": "VM deallocated",
    "unknown": "VM status unknown",
}
AGENT_VERSION = "2.9.1.1"
AGENT_MESSAGE = "Guest Agent is running"
# Shown next to PowerState/deallocated for a hibernated VM. The code and displayStatus are
# not observed (docs/emulator-fidelity.md).
HIBERNATED_CODE = "HibernationState/Hibernated"
HIBERNATED_DISPLAY = "VM hibernated"


def vm_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{VM_TYPE}/{name}"


def _hex(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _guid(*parts: str) -> str:
    h = _hex(*parts)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def new_vm(
    *,
    sub: str,
    rg: str,
    name: str,
    location: str,
    size: str,
    os_type: str,
    image: dict[str, str],
    generation: str,
    tags: dict[str, str],
    power: str,
    created: float,
    os_name: str,
    os_version: str,
    os_generalized: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build ``(body, emu)`` for a VM created from a Marketplace image reference."""
    rid = vm_id(sub, rg, name)
    disk = f"{name}_OsDisk_1_{_hex(rid)[:32]}"
    disk_id = (
        f"/subscriptions/{sub}/resourceGroups/{rg.upper()}/providers/Microsoft.Compute/disks/{disk}"
    )
    windows = os_type == "Windows"
    os_profile: dict[str, Any] = {
        "computerName": name[:15] if windows else name,
        "adminUsername": "azureadmin",
        "secrets": [],
        "allowExtensionOperations": True,
        "requireGuestProvisionSignal": True,
    }
    if windows:
        os_profile["windowsConfiguration"] = {
            "provisionVMAgent": True,
            "enableAutomaticUpdates": True,
            "patchSettings": {"patchMode": "AutomaticByOS", "assessmentMode": "ImageDefault"},
        }
    else:
        os_profile["linuxConfiguration"] = {
            "disablePasswordAuthentication": True,
            "provisionVMAgent": True,
            "patchSettings": {"patchMode": "ImageDefault", "assessmentMode": "ImageDefault"},
        }
    properties: dict[str, Any] = {
        "vmId": _guid(rid),
        "hardwareProfile": {"vmSize": size},
        "storageProfile": {
            "imageReference": {
                "publisher": image["publisher"],
                "offer": image["offer"],
                "sku": image["sku"],
                "version": "latest",
                "exactVersion": image["version"],
            },
            "osDisk": {
                "osType": os_type,
                "name": disk,
                "createOption": "FromImage",
                "caching": "ReadWrite",
                "managedDisk": {"storageAccountType": "Premium_LRS", "id": disk_id},
                "deleteOption": "Delete",
                "diskSizeGB": 127 if windows else 30,
            },
            "dataDisks": [],
        },
        "osProfile": os_profile,
        "networkProfile": {
            "networkInterfaces": [
                {
                    "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/"
                    f"Microsoft.Network/networkInterfaces/{name}-nic",
                    "properties": {"deleteOption": "Delete"},
                }
            ]
        },
        "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
        "provisioningState": "Succeeded",
        "timeCreated": clock.iso(created),
    }
    if generation == "V2":
        properties["securityProfile"] = {
            "securityType": "TrustedLaunch",
            "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
        }
    body = {
        "name": name,
        "id": rid,
        "type": VM_TYPE,
        "location": location,
        "tags": tags,
        "properties": properties,
    }
    emu = {
        "power": power,
        "os_generalized": os_generalized,
        "guest_generalized": os_generalized,
        "generation": generation,
        "os_name": os_name,
        "os_version": os_version,
        "hibernated": False,
        "op": None,
        "deleting": False,
        "state_time": created,
    }
    return body, emu


def current_power(emu: dict[str, Any]) -> str:
    """The PowerState shown now: transitional while a power operation is pending."""
    op = emu.get("op")
    if op and op["kind"] in TRANSITIONAL:
        return TRANSITIONAL[op["kind"]]
    return str(emu.get("power") or "unknown")


def provisioning_state(emu: dict[str, Any]) -> str:
    if emu.get("deleting"):
        return "Deleting"
    op = emu.get("op")
    if op:
        return "Creating" if op["kind"] == "create" else "Updating"
    return "Failed" if emu.get("failed") else "Succeeded"


def _status(code: str, display: str, time: float | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"code": code, "level": "Info", "displayStatus": display}
    if time is not None:
        item["time"] = clock.iso(time)
    return item


def holds_allocation(emu: dict[str, Any]) -> bool:
    """Whether the VM is on a host: its steady state is not deallocated (a pending start
    from deallocated is not there yet; a pending deallocation still is)."""
    return emu.get("power") != "deallocated"


def _disks(props: dict[str, Any]) -> list[dict[str, Any]]:
    storage = props["storageProfile"]
    return [storage["osDisk"], *(storage.get("dataDisks") or [])]


def instance_view(res: Resource) -> dict[str, Any]:
    """The VM instance view, in the recorded key order."""
    emu = res.emu
    props = res.body["properties"]
    power = current_power(emu)
    prov = provisioning_state(emu)
    since = float(emu.get("state_time") or 0)
    statuses = []
    if emu.get("os_generalized"):
        statuses.append(_status("OSState/generalized", "VM generalized"))
    statuses.append(_status(f"ProvisioningState/{prov.lower()}", _prov_display(prov), since))
    statuses.append(_status(f"PowerState/{power}", POWER_DISPLAY.get(power, power)))
    if power == "deallocated" and emu.get("hibernated"):
        statuses.append(_status(HIBERNATED_CODE, HIBERNATED_DISPLAY))
    view: dict[str, Any] = {}
    if holds_allocation(emu):
        view["computerName"] = emu.get("computer_name") or props["osProfile"]["computerName"]
        view["osName"] = emu.get("os_name", "")
        view["osVersion"] = emu.get("os_version", "")
        view["vmAgent"] = {
            "vmAgentVersion": emu.get("agent_version") or AGENT_VERSION,
            "statuses": [
                {
                    **_status("ProvisioningState/succeeded", "Ready"),
                    "message": AGENT_MESSAGE,
                    "time": clock.iso(float(emu.get("agent_time") or since)),
                }
            ],
            "extensionHandlers": [],
        }
    disk_time = float(emu.get("disk_time") or since)
    view["disks"] = [
        {
            "name": disk["name"],
            "statuses": [
                _status("ProvisioningState/succeeded", "Provisioning succeeded", disk_time)
            ],
        }
        for disk in _disks(props)
    ]
    view["hyperVGeneration"] = emu.get("generation", "V1")
    view["statuses"] = statuses
    return view


def _prov_display(state: str) -> str:
    return "Provisioning succeeded" if state == "Succeeded" else state


def render(
    res: Resource, *, with_instance_view: bool, api: str | None = None, owned: bool = False
) -> dict[str, Any]:
    """The VM resource body as ``api`` shows it; ``properties.instanceView`` only when
    asked for.

    ``owned``: the caller gives ``res`` up (a row a listing just loaded, rendered once and
    dropped), so its body is shaped in place. Copying every body cost a listing of 100,000
    VMs more than its JSON did; any other caller keeps ``res`` intact (it may save it)."""
    body = res.body if owned else copy.deepcopy(res.body)
    props = body["properties"]
    props["provisioningState"] = provisioning_state(res.emu)
    if not holds_allocation(res.emu):
        for disk in _disks(props):
            managed = disk.get("managedDisk")
            if managed is not None:
                disk.pop("diskSizeGB", None)
                managed.pop("storageAccountType", None)
    _api_view(props, api)
    if with_instance_view:
        view = instance_view(res)
        props["instanceView"] = view
        if "timeCreated" in props:  # the recorded order puts instanceView before it
            props["timeCreated"] = props.pop("timeCreated")
    return body


def _api_view(props: dict[str, Any], api: str | None) -> None:
    """Add or drop the fields that exist only for some api-versions."""
    os_profile = props.get("osProfile") or {}
    linux = os_profile.get("linuxConfiguration")
    for config in (linux, os_profile.get("windowsConfiguration")):
        patch = (config or {}).get("patchSettings")
        if patch is not None and not versions.at_least(api, versions.VM_ASSESSMENT_MODE):
            patch.pop("assessmentMode", None)
    if linux is not None:
        if versions.between(api, versions.VM_AGENT_PLATFORM_UPDATES):
            linux.setdefault("enableVMAgentPlatformUpdates", False)
        else:
            linux.pop("enableVMAgentPlatformUpdates", None)
    if "securityProfile" not in props and versions.at_least(
        api, versions.VM_STANDARD_SECURITY_TYPE
    ):
        props["securityProfile"] = {"securityType": "Standard"}
