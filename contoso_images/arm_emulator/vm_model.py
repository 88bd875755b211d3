"""How an emulated VM is stored and how it is rendered as ARM JSON.

A VM row keeps the REST body (``properties`` without ``instanceView``) and private
state in ``emu``: the steady power state (running/stopped/deallocated), whether Azure
marked it generalized (``os_generalized``, set only by POST generalize) or the guest ran
sysprep/waagent (``guest_generalized``), whether ``deallocate?hibernate=true`` left it
hibernated (``hibernated``), and the pending operation if any. The instance
view is derived from that state at read time, so a pending "start" shows
``PowerState/starting`` + provisioning ``Updating`` until it settles (azure-facts §2).
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import clock
from .state import Resource

VM_TYPE = "Microsoft.Compute/virtualMachines"

# operation kind -> PowerState shown while it runs
TRANSITIONAL = {
    "start": "starting",
    "restart": "starting",
    "power_off": "stopping",
    "deallocate": "deallocating",
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
AGENT_VERSION = "2.7.41491.1102"
# Shown next to PowerState/deallocated for a hibernated VM. The code and displayStatus are
# unverified (azure-facts §2.1: "exact code HibernationState/Hibernated is unverified").
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
    return "Updating" if emu.get("op") else "Succeeded"


def _status(code: str, display: str, time: float | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"code": code, "level": "Info", "displayStatus": display}
    if time is not None:
        item["time"] = clock.iso(time)
    return item


def instance_view(res: Resource) -> dict[str, Any]:
    """The VM instance view (shape of arm-examples VirtualMachine_Get_InstanceView.json)."""
    emu = res.emu
    body = res.body
    props = body["properties"]
    power = current_power(emu)
    prov = provisioning_state(emu)
    since = float(emu.get("state_time") or 0)
    statuses = [_status(f"ProvisioningState/{prov.lower()}", _prov_display(prov), since)]
    if emu.get("os_generalized"):
        statuses.append(_status("OSState/generalized", "VM generalized"))
    statuses.append(_status(f"PowerState/{power}", POWER_DISPLAY.get(power, power)))
    if power == "deallocated" and emu.get("hibernated"):
        statuses.append(_status(HIBERNATED_CODE, HIBERNATED_DISPLAY))
    view: dict[str, Any] = {"platformUpdateDomain": 0, "platformFaultDomain": 0}
    if power == "running":
        view["computerName"] = props["osProfile"]["computerName"]
        view["osName"] = emu.get("os_name", "")
        view["osVersion"] = emu.get("os_version", "")
        view["vmAgent"] = {
            "vmAgentVersion": AGENT_VERSION,
            "statuses": [
                {
                    **_status("ProvisioningState/succeeded", "Ready", since),
                    "message": "GuestAgent is running and accepting new configurations.",
                }
            ],
            "extensionHandlers": [],
        }
    os_disk = props["storageProfile"]["osDisk"]
    view["disks"] = [
        {
            "name": os_disk["name"],
            "statuses": [_status("ProvisioningState/succeeded", "Provisioning succeeded", since)],
        }
    ]
    view["hyperVGeneration"] = emu.get("generation", "V1")
    view["isVMInStandbyPool"] = False
    view["statuses"] = statuses
    return view


def _prov_display(state: str) -> str:
    return "Provisioning succeeded" if state == "Succeeded" else state


def render(res: Resource, *, with_instance_view: bool) -> dict[str, Any]:
    """The VM resource body; ``properties.instanceView`` only when asked for."""
    body = dict(res.body)
    props = dict(body["properties"])
    props["provisioningState"] = provisioning_state(res.emu)
    if with_instance_view:
        props["instanceView"] = instance_view(res)
    body["properties"] = props
    return body
