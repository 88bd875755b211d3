"""The pilot tenant's networks, disks, NICs and Marketplace terms (called by ``seed.seed``).

Each subscription has a network resource group with one virtual network per region it
uses; every seeded VM gets the managed OS disk and the NIC its body names, in a subnet of
its region, so deleting a seeded VM cascades like deleting a created one. Production has
accepted the terms of the Bitnami and Rocky Linux plans its VMs use; Development has
accepted none, so a VM from a plan image there is refused until someone accepts them.
"""

from __future__ import annotations

import ipaddress
import json
import sqlite3
from typing import Any

from . import disk_model, handlers_agreements, network_model, regions
from .lookup import KIND_VM
from .recorded import parse_time
from .state import insert_many

PROD = "7d3c1a52-8f0e-4b6a-9c21-3e5f7a9b0c11"
DEV = "a1b2c3d4-5e6f-4a8b-9c0d-112233445566"
NETWORK_GROUPS = [(PROD, "rg-network-prod", "westeurope"), (DEV, "rg-network-dev", "eastus")]
# (sub, resource group, vnet, region, address space, [(subnet, prefix)])
VNETS: list[tuple[str, str, str, str, str, list[tuple[str, str]]]] = [
    (
        PROD,
        "rg-network-prod",
        "vnet-prod-westeurope",
        "westeurope",
        "10.10.0.0/16",
        [
            ("snet-web", "10.10.0.0/20"),
            ("snet-data", "10.10.16.0/20"),
            ("snet-images", "10.10.32.0/20"),
        ],
    ),
    (
        PROD,
        "rg-network-prod",
        "vnet-prod-northeurope",
        "northeurope",
        "10.20.0.0/16",
        [("snet-build", "10.20.0.0/20")],
    ),
    (
        PROD,
        "rg-network-prod",
        "vnet-prod-eastus",
        "eastus",
        "10.30.0.0/16",
        [("snet-default", "10.30.0.0/24")],
    ),
    (
        PROD,
        "rg-network-prod",
        "vnet-prod-uksouth",
        "uksouth",
        "10.40.0.0/16",
        [("snet-default", "10.40.0.0/24")],
    ),
    (
        DEV,
        "rg-network-dev",
        "vnet-dev-eastus",
        "eastus",
        "10.50.0.0/16",
        [("snet-dev", "10.50.0.0/24")],
    ),
    (
        DEV,
        "rg-network-dev",
        "vnet-dev-westus2",
        "westus2",
        "10.60.0.0/16",
        [("snet-sandbox", "10.60.0.0/24")],
    ),
]
# The subnet a resource group's VMs sit in (else the first subnet of their region's VNet).
GROUP_SUBNETS = {"rg-web-prod": "snet-web", "rg-data-prod": "snet-data", "rg-images": "snet-images"}
# (sub, publisher, offer, plan) whose terms the subscription accepted.
ACCEPTED_TERMS = [
    (PROD, "bitnami", "mysql", "mysql"),
    (PROD, "bitnami", "mongodb", "mongodb"),
    (PROD, "bitnami", "cassandra", "cassandra"),
    (PROD, "resf", "rockylinux-x86_64", "9-base"),
]
NETWORK_TAGS = {"owner": "network-team", "costCenter": "CC-0100"}


def seed_extras(conn: sqlite3.Connection, now: float) -> dict[str, int]:
    """Add networks, the seeded VMs' disks and NICs, and accepted terms (inside the seed's
    write transaction, after the VMs are inserted). Returns counts by kind."""
    conn.executemany(
        "INSERT INTO resource_groups (sub, name_lc, name, location) VALUES (?, ?, ?, ?)",
        [(s, rg.lower(), rg, loc) for s, rg, loc in NETWORK_GROUPS],
    )
    vnets: dict[tuple[str, str], dict[str, Any]] = {}
    for sub, rg, name, region, space, subnets in VNETS:
        vnets[(sub, region)] = network_model.vnet_body(
            sub, rg, name, region, space, subnets, dict(NETWORK_TAGS)
        )
    next_host: dict[str, dict[str, int]] = {}
    rows: list[tuple[Any, ...]] = []
    vms = conn.execute(
        "SELECT sub, rg_lc, body, emu FROM resources WHERE kind = ? ORDER BY seq", (KIND_VM,)
    ).fetchall()
    for sub, rg, body_json, emu_json in vms:
        body = json.loads(body_json)
        rows.append(_os_disk(sub, rg, body, json.loads(emu_json)))
        vnet = vnets.get((sub, regions.normalize(body["location"])))
        if vnet is not None:
            rows.append(_nic(sub, rg, body, vnet, next_host))
    for sub, region in vnets:
        vnet = vnets[(sub, region)]
        rg = vnet["id"].split("/")[4]
        rows.append(
            (
                network_model.KIND_VNET,
                sub,
                rg,
                "",
                vnet["name"],
                vnet,
                {"op": None, "next_host": next_host.get(vnet["id"], {})},
            )
        )
    insert_many(conn, rows)
    for sub, publisher, offer, plan in ACCEPTED_TERMS:
        handlers_agreements.set_accepted(conn, sub, publisher, offer, plan, True, now)
    return {
        "virtual_networks": len(vnets),
        "network_interfaces": sum(1 for r in rows if r[0] == network_model.KIND_NIC),
        "disks": sum(1 for r in rows if r[0] == disk_model.KIND_DISK),
    }


def _os_disk(sub: str, rg: str, vm: dict[str, Any], emu: dict[str, Any]) -> tuple[Any, ...]:
    props = vm["properties"]
    os_disk = props["storageProfile"]["osDisk"]
    ref = props["storageProfile"].get("imageReference") or {}
    location = regions.normalize(vm["location"])
    if ref.get("id"):
        key = "galleryImageReference" if "/galleries/" in ref["id"].lower() else "imageReference"
        # A definition id was resolved to a version when the VM was made.
        image_id = (emu.get("image") or {}).get("gallery_version_id") or ref["id"]
        creation = {"createOption": "FromImage", key: {"id": image_id}}
    else:
        creation = {
            "createOption": "FromImage",
            "imageReference": {
                "id": disk_model.marketplace_image_id(
                    sub,
                    location,
                    ref.get("publisher", ""),
                    ref.get("offer", ""),
                    ref.get("sku", ""),
                    ref.get("exactVersion") or ref.get("version", ""),
                )
            },
        }
    disk_id = os_disk["managedDisk"]["id"]
    body = disk_model.disk_body(
        sub=sub,
        rg=disk_id.split("/")[4],
        name=os_disk["name"],
        location=location,
        size_gb=int(os_disk.get("diskSizeGB") or 30),
        sku=os_disk["managedDisk"].get("storageAccountType") or "Premium_LRS",
        created=_created(props),
        creation=creation,
        managed_by=vm["id"],
        os_type=os_disk["osType"],
        generation="V2" if "securityProfile" in props else "V1",
        tags=vm.get("tags") or None,
        security_type=(props.get("securityProfile") or {}).get("securityType"),
    )
    return (disk_model.KIND_DISK, sub, rg, "", os_disk["name"], body, {"op": None})


def _created(props: dict[str, Any]) -> float:
    return parse_time(props.get("timeCreated"), 0.0)


def _nic(
    sub: str,
    rg: str,
    vm: dict[str, Any],
    vnet: dict[str, Any],
    next_host: dict[str, dict[str, int]],
) -> tuple[Any, ...]:
    nic_id = vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"]
    name = nic_id.rsplit("/", 1)[1]
    subnets = vnet["properties"]["subnets"]
    wanted = GROUP_SUBNETS.get(rg.lower())
    subnet = next((s for s in subnets if s["name"] == wanted), subnets[0])
    counters = next_host.setdefault(vnet["id"], {})
    host = counters.get(subnet["name"], network_model.FIRST_HOST)
    counters[subnet["name"]] = host + 1
    network = ipaddress.ip_network(subnet["properties"]["addressPrefix"])
    address = str(network.network_address + host)
    config = network_model.ip_configuration(
        nic_id, "ipconfig1", subnet["id"], address, primary=True
    )
    body = network_model.nic_body(
        sub,
        nic_id.split("/")[4],
        name,
        vm["location"],
        [config],
        accelerated=True,
        vm_id=vm["id"],
        tags=vm.get("tags") or None,
    )
    return (network_model.KIND_NIC, sub, rg, "", name, body, {"op": None})
