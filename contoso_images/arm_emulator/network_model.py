"""How emulated Microsoft.Network resources are stored and shaped: virtual networks (their
subnets embedded, as Azure lists them) and network interfaces.

Shapes follow the specification's examples (``VirtualNetworkListAll``, ``SubnetList``,
``NetworkInterfaceCreate``, Network api-version 2024-07-01). A NIC gets the next free
private address of its subnet (Azure keeps the first four of a range, so the first NIC
has ``.4``); which address Azure hands out is not observable and is invented here. A NIC
attached to a VM names it in ``properties.virtualMachine``. Subnets do not list the
ip configurations that use them (Azure does; not kept, so that ten thousand seeded NICs
do not rewrite one subnet body).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import sqlite3
from typing import Any
from urllib.parse import unquote

from . import errors, regions
from .state import Resource, get_resource, save_resource

KIND_VNET = "vnet"
KIND_NIC = "nic"
VNET_TYPE = "Microsoft.Network/virtualNetworks"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
NIC_TYPE = "Microsoft.Network/networkInterfaces"
FIRST_HOST = 4  # Azure reserves the network address and the next three

_SUBNET_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.Network/virtualNetworks/(?P<vnet>[^/]+)/subnets/(?P<subnet>[^/]+)$",
    re.IGNORECASE,
)
_NIC_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.Network/networkInterfaces/(?P<nic>[^/]+)$",
    re.IGNORECASE,
)


def network_id(sub: str, rg: str, *segments: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/" + "/".join(
        segments
    )


def etag(*parts: str) -> str:
    """A stable ``W/"guid"`` etag (Azure's change with every write; not tracked here)."""
    h = hashlib.sha256("/".join(parts).lower().encode()).hexdigest()
    return f'W/"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"'


def guid(*parts: str) -> str:
    h = hashlib.sha256(("guid/" + "/".join(parts)).lower().encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# --- virtual networks -------------------------------------------------------------------


def subnet_body(vnet_id: str, name: str, prefix: str) -> dict[str, Any]:
    sid = f"{vnet_id}/subnets/{name}"
    return {
        "name": name,
        "id": sid,
        "etag": etag(sid),
        "properties": {
            "provisioningState": "Succeeded",
            "addressPrefix": prefix,
            "delegations": [],
            "privateEndpointNetworkPolicies": "Disabled",
            "privateLinkServiceNetworkPolicies": "Enabled",
        },
        "type": SUBNET_TYPE,
    }


def vnet_body(
    sub: str,
    rg: str,
    name: str,
    location: str,
    space: str,
    subnets: list[tuple[str, str]],
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A virtual network with ``subnets`` (``(name, prefix)`` each) embedded."""
    rid = network_id(sub, rg, "virtualNetworks", name)
    body: dict[str, Any] = {
        "name": name,
        "id": rid,
        "etag": etag(rid),
        "type": VNET_TYPE,
        "location": location,
    }
    if tags:
        body["tags"] = tags
    body["properties"] = {
        "provisioningState": "Succeeded",
        "resourceGuid": guid(rid),
        "addressSpace": {"addressPrefixes": [space]},
        "dhcpOptions": {"dnsServers": []},
        "subnets": [subnet_body(rid, n, p) for n, p in subnets],
        "virtualNetworkPeerings": [],
        "enableDdosProtection": False,
    }
    return body


def parse_subnet_id(subnet_id: str) -> tuple[str, str, str, str] | None:
    """``(sub, rg, vnet, subnet)`` of a subnet id, else None."""
    m = _SUBNET_ID.match(subnet_id.rstrip("/"))
    if not m:
        return None
    return m["sub"], unquote(m["rg"]), unquote(m["vnet"]), unquote(m["subnet"])


def parse_nic_id(nic_id: str) -> tuple[str, str, str] | None:
    """``(sub, rg, nic)`` of a network interface id, else None."""
    m = _NIC_ID.match(nic_id.rstrip("/"))
    if not m:
        return None
    return m["sub"], unquote(m["rg"]), unquote(m["nic"])


def find_subnet(conn: sqlite3.Connection, subnet_id: str) -> tuple[Resource, dict[str, Any]] | None:
    """The virtual network and the subnet (its embedded body) an id names, or None."""
    parsed = parse_subnet_id(subnet_id)
    if parsed is None:
        return None
    sub, rg, vnet_name, subnet_name = parsed
    vnet = get_resource(conn, KIND_VNET, sub, rg, vnet_name)
    if vnet is None:
        return None
    for subnet in vnet.body["properties"]["subnets"]:
        if subnet["name"].lower() == subnet_name.lower():
            return vnet, subnet
    return None


def invalid_reference(referenced: str, referencing: str) -> errors.ArmError:
    """400 InvalidResourceReference: a subnet that does not exist or is in another region
    (MicrosoftDocs/azure-docs#81734, Azure/azure-cli#8569 quote it)."""
    return errors.ArmError(
        400,
        "InvalidResourceReference",
        f"Resource {referenced} referenced by resource {referencing} was not found. Please "
        "make sure that the referenced resource exists, and that both resources are in the "
        "same region.",
    )


def require_subnet(
    conn: sqlite3.Connection, subnet_id: str, location: str, nic_id: str
) -> tuple[Resource, dict[str, Any]]:
    """The subnet a NIC in ``location`` would use, or Azure's InvalidResourceReference."""
    found = find_subnet(conn, subnet_id)
    if found is None or regions.normalize(found[0].body["location"]) != regions.normalize(location):
        raise invalid_reference(subnet_id, nic_id)
    return found


def next_address(conn: sqlite3.Connection, vnet: Resource, subnet: dict[str, Any]) -> str:
    """The next private address of ``subnet`` (kept in the VNet's private state)."""
    network = ipaddress.ip_network(subnet["properties"]["addressPrefix"], strict=False)
    used = vnet.emu.setdefault("next_host", {})
    host = int(used.get(subnet["name"], FIRST_HOST))
    if host >= network.num_addresses - 1:
        raise errors.ArmError(
            400,
            "SubnetIsFull",
            f"Subnet {subnet['name']} with address prefix {network} does not have enough "
            "capacity for 1 IP addresses.",
        )
    used[subnet["name"]] = host + 1
    save_resource(conn, vnet)
    return str(network.network_address + host)


# --- network interfaces -----------------------------------------------------------------


def ip_configuration(
    nic_id: str,
    name: str,
    subnet_id: str,
    address: str,
    *,
    primary: bool,
    version: str = "IPv4",
) -> dict[str, Any]:
    cid = f"{nic_id}/ipConfigurations/{name}"
    return {
        "name": name,
        "id": cid,
        "etag": etag(cid),
        "type": f"{NIC_TYPE}/ipConfigurations",
        "properties": {
            "provisioningState": "Succeeded",
            "privateIPAddress": address,
            "privateIPAllocationMethod": "Dynamic",
            "subnet": {"id": subnet_id},
            "primary": primary,
            "privateIPAddressVersion": version,
        },
    }


def nic_body(
    sub: str,
    rg: str,
    name: str,
    location: str,
    ip_configurations: list[dict[str, Any]],
    *,
    accelerated: bool = False,
    ip_forwarding: bool = False,
    vm_id: str | None = None,
    tags: dict[str, str] | None = None,
    nsg_id: str | None = None,
) -> dict[str, Any]:
    rid = network_id(sub, rg, "networkInterfaces", name)
    body: dict[str, Any] = {
        "name": name,
        "id": rid,
        "etag": etag(rid),
        "type": NIC_TYPE,
        "location": location,
    }
    if tags:
        body["tags"] = tags
    props: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "resourceGuid": guid(rid),
        "ipConfigurations": ip_configurations,
        "dnsSettings": {"dnsServers": [], "appliedDnsServers": []},
        "enableAcceleratedNetworking": accelerated,
        "vnetEncryptionSupported": False,
        "enableIPForwarding": ip_forwarding,
        "primary": True,
        "nicType": "Standard",
    }
    if nsg_id:
        props["networkSecurityGroup"] = {"id": nsg_id}
    if vm_id:
        props["virtualMachine"] = {"id": vm_id}
    body["properties"] = props
    return body


def attach(nic: Resource, vm_id: str | None) -> None:
    """Name the VM that uses ``nic`` (None: it is free again)."""
    props = nic.body["properties"]
    if vm_id is None:
        props.pop("virtualMachine", None)
    else:
        props["virtualMachine"] = {"id": vm_id}


def nic_in_use(nic_id: str, vm_id: str) -> errors.ArmError:
    """400 NicInUse, quoted in terraform and packer logs (Network answers 400, not 409)."""
    return errors.ArmError(
        400,
        "NicInUse",
        f"Network Interface {nic_id} is used by existing resource {vm_id}. In order to delete "
        "the network interface, it must be dissociated from the resource. To learn more, see "
        "aka.ms/deletenic.",
    )
