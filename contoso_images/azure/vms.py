"""Virtual machines: the inventory listing, one VM's detail, and its lifecycle actions.

Lifecycle actions return the continuation token as soon as ARM accepts them (202); nobody waits
for the LRO here. ``operations.operation_status`` resumes them from the token later.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from azure.mgmt.compute.operations._operations import build_virtual_machines_list_all_request

from contoso_images.azure import lro
from contoso_images.azure.clients import compute_client
from contoso_images.azure.errors import gateway_call
from contoso_images.azure.paging import raw_pages
from contoso_images.azure.raw import as_raw, integer, moment, obj, resource_fields, tags, text
from contoso_images.azure.types import (
    Disk,
    ImageReference,
    InstanceStatus,
    VirtualMachine,
    VirtualMachineDetail,
)

POWER_STATES = frozenset(
    {"running", "starting", "stopping", "stopped", "deallocating", "deallocated", "unknown"}
)

#: Sysprep through Run Command quits instead of shutting the guest down: Run Command waits for
#: its script, and a guest that powers itself off under it leaves the command hanging until
#: Azure's 90-minute limit. The pipeline deallocates the VM itself afterwards.
SYSPREP_COMMAND = r"%WINDIR%\system32\sysprep\sysprep.exe /generalize /oobe /quit /quiet /mode:vm"
DEPROVISION_COMMAND = "sudo waagent -deprovision+user -force"


# --- conversion ----------------------------------------------------------------------------


def _statuses(instance_view: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(s) for s in instance_view.get("statuses") or [] if isinstance(s, Mapping)]


def _status_suffix(statuses: list[dict[str, Any]], prefix: str) -> str | None:
    """The part after ``prefix`` of the first status code that starts with it (never by index)."""
    prefix = prefix.lower()
    for status in statuses:
        code = text(status, "code")
        if code.lower().startswith(prefix):
            return code[len(prefix) :]
    return None


def power_state_of(statuses: list[dict[str, Any]]) -> str:
    state = (_status_suffix(statuses, "PowerState/") or "unknown").lower()
    return state if state in POWER_STATES else "unknown"


def image_reference_of(raw: Mapping[str, Any]) -> ImageReference | None:
    if not raw:
        return None
    return ImageReference(
        publisher=text(raw, "publisher"),
        offer=text(raw, "offer"),
        sku=text(raw, "sku"),
        version=text(raw, "version"),
        exact_version=text(raw, "exactVersion"),
        id=text(raw, "id")
        or text(raw, "sharedGalleryImageId")
        or text(raw, "communityGalleryImageId"),
    )


def vm_from_raw(raw: Mapping[str, Any]) -> VirtualMachine:
    props = obj(raw, "properties")
    view = obj(props, "instanceView")
    statuses = _statuses(view)
    storage = obj(props, "storageProfile")
    provisioning = text(props, "provisioningState")
    if not provisioning:
        suffix = _status_suffix(statuses, "ProvisioningState/") or ""
        provisioning = suffix.split("/", 1)[0].capitalize()
    return VirtualMachine(
        **resource_fields(raw),
        size=text(obj(props, "hardwareProfile"), "vmSize"),
        os_type=text(obj(storage, "osDisk"), "osType"),
        image_reference=image_reference_of(obj(storage, "imageReference")),
        hyper_v_generation=text(view, "hyperVGeneration"),
        power_state=power_state_of(statuses),
        provisioning_state=provisioning,
        generalized=(_status_suffix(statuses, "OSState/") or "").lower() == "generalized",
        tags=tags(raw),
        time_created=moment(props.get("timeCreated")),
    )


def _status_from_raw(raw: Mapping[str, Any]) -> InstanceStatus:
    return InstanceStatus(
        code=text(raw, "code"),
        level=text(raw, "level"),
        display_status=text(raw, "displayStatus"),
        message=text(raw, "message"),
        time=moment(raw.get("time")),
    )


def _disk(raw: Mapping[str, Any], kind: str) -> Disk:
    managed = obj(raw, "managedDisk")
    return Disk(
        name=text(raw, "name"),
        kind=kind,
        lun=integer(raw, "lun") if kind == "data" else None,
        size_gb=integer(raw, "diskSizeGB"),
        storage_account_type=text(managed, "storageAccountType"),
        caching=text(raw, "caching"),
        managed_disk_id=text(managed, "id"),
        delete_option=text(raw, "deleteOption") or "Detach",
    )


def detail_from_raw(raw: Mapping[str, Any]) -> VirtualMachineDetail:
    props = obj(raw, "properties")
    view = obj(props, "instanceView")
    storage = obj(props, "storageProfile")
    os_profile = obj(props, "osProfile")
    disks = [_disk(obj(storage, "osDisk"), "os")] if obj(storage, "osDisk") else []
    disks += [_disk(d, "data") for d in storage.get("dataDisks") or []]
    nics = obj(props, "networkProfile").get("networkInterfaces") or []
    return VirtualMachineDetail(
        vm=vm_from_raw(raw),
        computer_name=text(view, "computerName") or text(os_profile, "computerName"),
        os_name=text(view, "osName"),
        os_version=text(view, "osVersion"),
        vm_agent_version=text(obj(view, "vmAgent"), "vmAgentVersion"),
        vm_agent_status=_agent_status(obj(view, "vmAgent")),
        statuses=tuple(_status_from_raw(s) for s in _statuses(view)),
        disks=tuple(disks),
        admin_username=text(os_profile, "adminUsername"),
        network_interface_ids=tuple(text(n, "id") for n in nics if text(n, "id")),
        network_interface_delete_options=tuple(
            (text(n, "id"), text(obj(n, "properties"), "deleteOption") or "Detach")
            for n in nics
            if text(n, "id")
        ),
    )


def _agent_status(agent: Mapping[str, Any]) -> str:
    """The VM agent's own display status ("Ready", "Not Ready"), "" when Azure shows none."""
    statuses = _statuses(agent)
    return text(statuses[0], "displayStatus") if statuses else ""


def run_command_result_from_raw(raw: Mapping[str, Any] | None) -> tuple[InstanceStatus, ...]:
    return tuple(_status_from_raw(s) for s in (raw or {}).get("value") or [])


# --- reads ---------------------------------------------------------------------------------


def vm_pages_with_power_state(subscription_id: str) -> Iterator[list[VirtualMachine]]:
    """Every VM of the subscription with its power state, one list per ARM page.

    One paged ``list_all(statusOnly=true)`` (the string ``"true"``: a bool serializes as
    ``True``, which ARM ignores): ARM's way to get all power states of a subscription;
    never one instance-view call per VM. The pages come through the client's pipeline
    without SDK models (``paging.py``) and are parsed as they are asked for, so a sync that
    writes each page holds one page. A page that fails raises ``AzureError`` after the
    pages before it. No shared retry budget (it could not be reset from another context):
    each page's retries have their own, as for any request outside a gateway call.
    """
    request = build_virtual_machines_list_all_request(
        subscription_id=subscription_id, status_only="true"
    )
    for page in raw_pages(compute_client(subscription_id), request):
        yield [vm_from_raw(raw) for raw in page]


def iter_vms_with_power_state(subscription_id: str) -> Iterator[VirtualMachine]:
    """Every VM of the subscription with its power state (:func:`vm_pages_with_power_state`,
    one VM at a time)."""
    for page in vm_pages_with_power_state(subscription_id):
        yield from page


@gateway_call
def vm_list_with_power_state(subscription_id: str) -> list[VirtualMachine]:
    return list(iter_vms_with_power_state(subscription_id))


@gateway_call
def vm_get(subscription_id: str, resource_group: str, name: str) -> VirtualMachineDetail:
    vm = compute_client(subscription_id).virtual_machines.get(
        resource_group, name, expand="instanceView"
    )
    return detail_from_raw(as_raw(vm))


# --- lifecycle actions ---------------------------------------------------------------------


@gateway_call
def vm_begin_start(subscription_id: str, resource_group: str, name: str) -> str:
    return lro.begin(
        compute_client(subscription_id).virtual_machines.begin_start, resource_group, name
    )


@gateway_call
def vm_begin_power_off(subscription_id: str, resource_group: str, name: str) -> str:
    """Power off (Stopped, still allocated and still billed for compute)."""
    ops = compute_client(subscription_id).virtual_machines
    return lro.begin(ops.begin_power_off, resource_group, name)


@gateway_call
def vm_begin_deallocate(subscription_id: str, resource_group: str, name: str) -> str:
    """Deallocate (Stopped (deallocated): compute billing stops, disks are still billed)."""
    ops = compute_client(subscription_id).virtual_machines
    return lro.begin(ops.begin_deallocate, resource_group, name)


@gateway_call
def vm_begin_restart(subscription_id: str, resource_group: str, name: str) -> str:
    """Restart. Like every action it is sent once per call (see retry.py): a second restart
    is a second outage, so the caller finds out from the VM whether a request whose answer
    was lost was accepted."""
    ops = compute_client(subscription_id).virtual_machines
    return lro.begin(ops.begin_restart, resource_group, name)


@gateway_call
def vm_begin_run_command(
    subscription_id: str, resource_group: str, name: str, *, os_type: str
) -> str:
    """Run the in-guest generalization: sysprep on Windows, ``waagent -deprovision`` on Linux.

    Irreversible inside the guest; afterwards the VM shuts itself down (Windows) or must be
    stopped, deallocated and marked generalized.
    """
    if os_type.lower() == "windows":
        body = {"commandId": "RunPowerShellScript", "script": [SYSPREP_COMMAND]}
    elif os_type.lower() == "linux":
        body = {"commandId": "RunShellScript", "script": [DEPROVISION_COMMAND]}
    else:
        raise ValueError(f"os_type must be 'Windows' or 'Linux', not {os_type!r}")
    ops = compute_client(subscription_id).virtual_machines
    return lro.begin(ops.begin_run_command, resource_group, name, body)


@gateway_call
def vm_begin_delete(
    subscription_id: str, resource_group: str, name: str, *, force: bool = False
) -> str:
    """Delete the VM; its disks and NICs go with it or stay behind as their deleteOption says
    (``managed_disks`` lists the disks that stayed, still billed). Read the end with
    ``operation_status("vm_delete", ...)``.

    ``forceDeletion`` is always sent: from api-version 2024-11-01 Azure force-deletes (no
    graceful shutdown) when it is left out and every disk is marked Delete, so it is
    ``false`` unless ``force`` asks for it."""
    ops = compute_client(subscription_id).virtual_machines
    return lro.begin(ops.begin_delete, resource_group, name, force_deletion=force)


@gateway_call
def vm_generalize(subscription_id: str, resource_group: str, name: str) -> None:
    """Mark the VM generalized in Azure (synchronous; it can never be started again)."""
    compute_client(subscription_id).virtual_machines.generalize(resource_group, name)
