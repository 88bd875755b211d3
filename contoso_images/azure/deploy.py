"""Deploying VMs from catalog images and deleting them, and what a deployment needs to know
first: which sizes a region offers (Resource SKUs), how much vCPU quota is left (usages),
which subnets exist (virtual networks), and which managed disks a delete left behind.

Writes go out once (``retry.py``): a create PUT whose answer was lost is not resent, because
Azure may have created the VM already; the caller looks at the VM before trying again. The
create is sent with ``If-None-Match: *``, so an existing VM of that name is refused instead of
being updated in place. Deleting a VM is ``vms.vm_begin_delete``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.core import MatchConditions

from contoso_images.azure import lro
from contoso_images.azure.clients import compute_client, network_client
from contoso_images.azure.errors import gateway_call
from contoso_images.azure.raw import as_raw, integer, moment, obj, resource_fields, tags, text
from contoso_images.azure.types import (
    ManagedDisk,
    ResourceSku,
    Subnet,
    Usage,
    VirtualNetwork,
    VmCreateResult,
    VmCreateSpec,
)
from contoso_images.azure.vms import image_reference_of

#: The only ``networkApiVersion`` the Compute specification allows for NICs it creates.
NETWORK_API_VERSION = "2020-11-01"
NIC_CONFIGURATION = "nic"


# --- create ----------------------------------------------------------------------------------


def _image_reference(spec: VmCreateSpec) -> dict[str, str]:
    image = spec.image
    if image.id:
        return {"id": image.id}
    if not (image.publisher and image.offer and image.sku):
        raise ValueError("the image needs an id, or a publisher, offer and sku")
    return {
        "publisher": image.publisher,
        "offer": image.offer,
        "sku": image.sku,
        "version": image.version or "latest",
    }


def _os_profile(spec: VmCreateSpec, name: str) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "computerName": spec.computer_name or name,
        "adminUsername": spec.admin_username,
    }
    if spec.admin_password:
        profile["adminPassword"] = spec.admin_password
    if spec.os_type.lower() == "linux":
        linux: dict[str, Any] = {"disablePasswordAuthentication": not spec.admin_password}
        if spec.ssh_public_key:
            linux["ssh"] = {
                "publicKeys": [
                    {
                        "path": f"/home/{spec.admin_username}/.ssh/authorized_keys",
                        "keyData": spec.ssh_public_key,
                    }
                ]
            }
        profile["linuxConfiguration"] = linux
    elif spec.os_type.lower() == "windows":
        profile["windowsConfiguration"] = {"provisionVMAgent": True, "enableAutomaticUpdates": True}
    else:
        raise ValueError(f"os_type must be 'Windows' or 'Linux', not {spec.os_type!r}")
    return profile


def _network_profile(spec: VmCreateSpec) -> dict[str, Any]:
    if bool(spec.subnet_id) == bool(spec.nic_id):
        raise ValueError("give exactly one of subnet_id (a new NIC) and nic_id (an existing one)")
    if spec.nic_id:
        return {
            "networkInterfaces": [
                {
                    "id": spec.nic_id,
                    "properties": {"primary": True, "deleteOption": spec.nic_delete_option},
                }
            ]
        }
    return {
        "networkApiVersion": NETWORK_API_VERSION,
        "networkInterfaceConfigurations": [
            {
                "name": NIC_CONFIGURATION,
                "properties": {
                    "primary": True,
                    "deleteOption": spec.nic_delete_option,
                    "ipConfigurations": [
                        {"name": "ipconfig1", "properties": {"subnet": {"id": spec.subnet_id}}}
                    ],
                },
            }
        ],
    }


def create_body(name: str, spec: VmCreateSpec) -> dict[str, Any]:
    """The PUT body (REST shape, as the specification's create examples write it)."""
    os_disk: dict[str, Any] = {
        "createOption": "FromImage",
        "caching": "ReadWrite",
        "deleteOption": spec.os_disk_delete_option,
    }
    if spec.os_disk_size_gb:
        os_disk["diskSizeGB"] = spec.os_disk_size_gb
    if spec.os_disk_storage_account_type:
        os_disk["managedDisk"] = {"storageAccountType": spec.os_disk_storage_account_type}
    data_disks = []
    for disk in spec.data_disks:
        item: dict[str, Any] = {
            "lun": disk.lun,
            "createOption": "Empty",
            "diskSizeGB": disk.size_gb,
            "caching": disk.caching,
            "deleteOption": disk.delete_option,
        }
        if disk.storage_account_type:
            item["managedDisk"] = {"storageAccountType": disk.storage_account_type}
        data_disks.append(item)
    properties: dict[str, Any] = {
        "hardwareProfile": {"vmSize": spec.size},
        "storageProfile": {
            "imageReference": _image_reference(spec),
            "osDisk": os_disk,
            "dataDisks": data_disks,
        },
        "osProfile": _os_profile(spec, name),
        "networkProfile": _network_profile(spec),
    }
    if spec.security_type == "TrustedLaunch":
        properties["securityProfile"] = {
            "securityType": "TrustedLaunch",
            "uefiSettings": {"secureBootEnabled": spec.secure_boot, "vTpmEnabled": spec.vtpm},
        }
    elif spec.security_type:
        properties["securityProfile"] = {"securityType": spec.security_type}
    body: dict[str, Any] = {"location": spec.location, "properties": properties}
    if spec.plan:
        body["plan"] = {k: spec.plan[k] for k in ("name", "product", "publisher") if k in spec.plan}
    if spec.tags:
        body["tags"] = dict(spec.tags)
    return body


@gateway_call
def vm_begin_create(
    subscription_id: str, resource_group: str, name: str, spec: VmCreateSpec
) -> str:
    """PUT a new VM (``If-None-Match: *``) and return the continuation token at once.

    Read the finished creation with ``operation_status("vm_create", token, ...)``: its result
    is a :class:`VmCreateResult`. Azure's refusals (image not found or not in the region, a
    plan or its terms missing, a size the image cannot boot or that is restricted, quota,
    computer name, password, SSH) come back as ``AzureError`` with ARM's code.
    """
    ops = compute_client(subscription_id).virtual_machines
    return lro.begin(
        ops.begin_create_or_update,
        resource_group,
        name,
        create_body(name, spec),
        match_condition=MatchConditions.IfMissing,
    )


def vm_create_result_from_raw(raw: Mapping[str, Any]) -> VmCreateResult:
    props = obj(raw, "properties")
    storage = obj(props, "storageProfile")
    reference = image_reference_of(obj(storage, "imageReference"))
    nics = obj(props, "networkProfile").get("networkInterfaces") or []
    return VmCreateResult(
        id=text(raw, "id"),
        name=text(raw, "name"),
        provisioning_state=text(props, "provisioningState"),
        image_reference=reference,
        exact_version=reference.exact_version if reference else "",
        vm_id=text(props, "vmId"),
        os_disk_id=text(obj(storage, "osDisk", "managedDisk"), "id"),
        network_interface_ids=tuple(text(n, "id") for n in nics if text(n, "id")),
    )


# --- sizes and quota -------------------------------------------------------------------------


def _capabilities(raw: Mapping[str, Any]) -> dict[str, str]:
    return {
        text(c, "name"): text(c, "value")
        for c in raw.get("capabilities") or []
        if isinstance(c, Mapping)
    }


def _restriction(raw: Mapping[str, Any], location: str) -> str:
    """The reason a size cannot be created in ``location`` ("" when it can). A ``Zone``
    restriction only rules out some zones, so the size stays usable in the region."""
    for item in raw.get("restrictions") or []:
        if not isinstance(item, Mapping) or text(item, "type").lower() != "location":
            continue
        places = [str(v).lower() for v in item.get("values") or []]
        places += [str(v).lower() for v in obj(item, "restrictionInfo").get("locations") or []]
        if location.lower() in places:
            return text(item, "reasonCode") or "Restricted"
    return ""


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


def resource_sku_from_raw(raw: Mapping[str, Any], location: str) -> ResourceSku:
    caps = _capabilities(raw)
    reason = _restriction(raw, location)
    generations = tuple(g.strip() for g in caps.get("HyperVGenerations", "V1").split(",") if g)
    return ResourceSku(
        name=text(raw, "name"),
        family=text(raw, "family"),
        vcpus=int(_number(caps.get("vCPUs", "0"))),
        memory_gb=_number(caps.get("MemoryGB", "0")),
        hyper_v_generations=generations,
        architecture=caps.get("CpuArchitectureType", "x64"),
        max_data_disks=int(_number(caps.get("MaxDataDiskCount", "0"))),
        premium_io=caps.get("PremiumIO", "").lower() == "true",
        restricted=bool(reason),
        restriction_reason=reason,
    )


@gateway_call
def resource_skus(subscription_id: str, location: str) -> list[ResourceSku]:
    """The VM sizes of a region for this subscription (one listing, filtered by location as
    Azure allows); restricted sizes are included with ``restricted=True``."""
    items = compute_client(subscription_id).resource_skus.list(filter=f"location eq '{location}'")
    result = []
    for item in items:
        raw = as_raw(item)
        if text(raw, "resourceType").lower() == "virtualmachines":
            result.append(resource_sku_from_raw(raw, location))
    return result


@gateway_call
def compute_usages(subscription_id: str, location: str) -> list[Usage]:
    """Every compute quota counter of a region, with its current use and limit. A create of
    size S needs S's vCPUs free in "cores" and in S's family (quota counts deallocated VMs
    too)."""
    result = []
    for item in compute_client(subscription_id).usage.list(location):
        raw = as_raw(item)
        name = obj(raw, "name")
        result.append(
            Usage(
                name=text(name, "value"),
                display_name=text(name, "localizedValue"),
                current=integer(raw, "currentValue") or 0,
                limit=integer(raw, "limit") or 0,
            )
        )
    return result


# --- networks --------------------------------------------------------------------------------


def virtual_network_from_raw(raw: Mapping[str, Any]) -> VirtualNetwork:
    props = obj(raw, "properties")
    subnets = tuple(
        Subnet(
            id=text(s, "id"),
            name=text(s, "name"),
            address_prefix=text(obj(s, "properties"), "addressPrefix")
            or ",".join(obj(s, "properties").get("addressPrefixes") or []),
        )
        for s in props.get("subnets") or []
        if isinstance(s, Mapping)
    )
    return VirtualNetwork(
        **resource_fields(raw),
        address_prefixes=tuple(obj(props, "addressSpace").get("addressPrefixes") or ()),
        subnets=subnets,
        tags=tags(raw),
    )


@gateway_call
def virtual_networks(subscription_id: str) -> list[VirtualNetwork]:
    """Every virtual network of the subscription with its subnets (embedded in the listing,
    so one paged call serves a subnet picker)."""
    items = network_client(subscription_id).virtual_networks.list_all()
    return [virtual_network_from_raw(as_raw(v)) for v in items]


# --- managed disks ---------------------------------------------------------------------------


def managed_disk_from_raw(raw: Mapping[str, Any]) -> ManagedDisk:
    props = obj(raw, "properties")
    creation = obj(props, "creationData")
    source = (
        text(obj(creation, "galleryImageReference"), "id")
        or text(obj(creation, "imageReference"), "id")
        or text(creation, "sourceResourceId")
    )
    return ManagedDisk(
        **resource_fields(raw),
        size_gb=integer(props, "diskSizeGB"),
        sku=text(obj(raw, "sku"), "name"),
        state=text(props, "diskState"),
        managed_by=text(raw, "managedBy"),
        os_type=text(props, "osType"),
        provisioning_state=text(props, "provisioningState"),
        image_source_id=source,
        time_created=moment(props.get("timeCreated")),
        tags=tags(raw),
    )


@gateway_call
def managed_disks(subscription_id: str, resource_group: str | None = None) -> list[ManagedDisk]:
    """Managed disks of the subscription (or one resource group); ``managed_by == ""`` are
    the ones no VM uses any more, still billed."""
    ops = compute_client(subscription_id).disks
    items = ops.list() if resource_group is None else ops.list_by_resource_group(resource_group)
    return [managed_disk_from_raw(as_raw(d)) for d in items]


@gateway_call
def disk_get(subscription_id: str, resource_group: str, name: str) -> ManagedDisk:
    return managed_disk_from_raw(
        as_raw(compute_client(subscription_id).disks.get(resource_group, name))
    )


@gateway_call
def disk_begin_delete(subscription_id: str, resource_group: str, name: str) -> str:
    """Delete a managed disk (Azure refuses one a VM still uses); continuation token."""
    ops = compute_client(subscription_id).disks
    return lro.begin(ops.begin_delete, resource_group, name)
