"""How emulated managed disks (DiskRP, ``Microsoft.Compute/disks``) are stored and shaped.

A VM's OS disk and its empty data disks are disks of their own: created with the VM,
``managedBy`` it while attached (``diskState: Attached``), deleted with it when their
``deleteOption`` says ``Delete`` and otherwise left behind ``Unattached`` (and still
billed). The body follows the DiskRP ``Disk`` model (azure-mgmt-compute 39); which fields a
real GET carries and in which order is not recorded here (docs/emulator-fidelity.md).
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import clock

KIND_DISK = "disk"
DISK_TYPE = "Microsoft.Compute/disks"
GIB = 1024**3
# Premium SSD tiers by size (the P-tier a size falls in; Azure's disk pricing page).
_PREMIUM_TIERS = ((4, "P1"), (8, "P2"), (16, "P3"), (32, "P4"), (64, "P6"), (128, "P10"))
_TIER_DEFAULT = "P15"
SKU_TIERS = {
    "Premium_LRS": "Premium",
    "StandardSSD_LRS": "Standard",
    "Standard_LRS": "Standard",
    "Premium_ZRS": "Premium",
    "StandardSSD_ZRS": "Standard",
    "UltraSSD_LRS": "Ultra",
    "PremiumV2_LRS": "Premium",
}


def disk_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{DISK_TYPE}/{name}"


def _guid(*parts: str) -> str:
    h = hashlib.sha256("/".join(parts).lower().encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _tier(size_gb: int) -> str:
    for limit, tier in _PREMIUM_TIERS:
        if size_gb <= limit:
            return tier
    return _TIER_DEFAULT


def disk_body(
    *,
    sub: str,
    rg: str,
    name: str,
    location: str,
    size_gb: int,
    sku: str,
    created: float,
    creation: dict[str, Any],
    managed_by: str | None,
    os_type: str | None = None,
    generation: str | None = None,
    tags: dict[str, str] | None = None,
    security_type: str | None = None,
) -> dict[str, Any]:
    """A managed disk; ``creation`` is its ``creationData`` (``{"createOption": "Empty"}``,
    or ``FromImage`` with the image it was made from)."""
    rid = disk_id(sub, rg, name)
    body: dict[str, Any] = {"name": name, "id": rid, "type": DISK_TYPE, "location": location}
    if tags:
        body["tags"] = tags
    if managed_by:
        body["managedBy"] = managed_by
    body["sku"] = {"name": sku, "tier": SKU_TIERS.get(sku, "Standard")}
    props: dict[str, Any] = {}
    if os_type:
        props["osType"] = os_type
    if generation:
        props["hyperVGeneration"] = generation
    props["creationData"] = creation
    props["diskSizeGB"] = size_gb
    if sku.startswith("Premium"):
        props["diskIOPSReadWrite"] = 500
        props["diskMBpsReadWrite"] = 100
    props["encryption"] = {"type": "EncryptionAtRestWithPlatformKey"}
    if security_type == "TrustedLaunch":
        props["securityProfile"] = {"securityType": "TrustedLaunch"}
    props["networkAccessPolicy"] = "AllowAll"
    props["publicNetworkAccess"] = "Enabled"
    props["timeCreated"] = clock.iso(created)
    props["provisioningState"] = "Succeeded"
    props["diskState"] = "Attached" if managed_by else "Unattached"
    props["diskSizeBytes"] = size_gb * GIB
    props["uniqueId"] = _guid(rid)
    if sku.startswith("Premium"):
        props["tier"] = _tier(size_gb)
    body["properties"] = props
    return body


def detach(body: dict[str, Any]) -> None:
    """The VM that used the disk is gone: the disk stays, unattached."""
    body.pop("managedBy", None)
    body["properties"]["diskState"] = "Unattached"


def marketplace_image_id(
    sub: str, location: str, publisher: str, offer: str, sku: str, version: str
) -> str:
    """The Marketplace image a disk was created from, as DiskRP names it."""
    return (
        f"/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/{location}/Publishers/"
        f"{publisher}/ArtifactTypes/VMImage/Offers/{offer}/Skus/{sku}/Versions/{version}"
    )
