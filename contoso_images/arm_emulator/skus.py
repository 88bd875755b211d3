"""What a subscription may create where: Resource SKUs, their restrictions, and vCPU quota.

Every VM size of ``catalog.VM_SIZES`` is a Resource SKU (``Microsoft.Compute/skus``) in
every physical region, with the capabilities Azure lists as strings (``"V1,V2"``,
``"3.5"``) and its quota family (``standardDSv5Family``: the same string as the usage
counter). A few sizes are restricted (``NotAvailableForSubscription``) in one region, and a
few families have a tight vCPU quota, so that a batch of creates can run out of it.

Quota is counted as Azure counts it: every VM of the subscription in the region, allocated
or deallocated ("Quota is calculated based on the total number of cores in use both
allocated and deallocated", Azure's quotas page), against two limits that must both have
room: the regional total (``cores``, "Total Regional vCPUs") and the size's family.
Limits can be changed per subscription, region and counter with ``Emulator.set_quota``.

Sources and what is invented: docs/emulator-fidelity.md, "Resource SKUs and quota".
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import catalog, errors, regions
from .lookup import KIND_VM


@dataclass(frozen=True)
class SizeInfo:
    """What a size's SKU says besides its vCPUs, memory and disks (``catalog.VM_SIZES``)."""

    family: str
    generations: tuple[str, ...]
    architecture: str = "x64"
    premium_io: bool = True
    acus: int = 195


_BOTH = ("V1", "V2")
SIZE_INFO: dict[str, SizeInfo] = {
    "Standard_B1s": SizeInfo("standardBSFamily", _BOTH, acus=100),
    "Standard_B1ms": SizeInfo("standardBSFamily", _BOTH, acus=100),
    "Standard_B2s": SizeInfo("standardBSFamily", _BOTH, acus=100),
    "Standard_B2ms": SizeInfo("standardBSFamily", _BOTH, acus=100),
    "Standard_B4ms": SizeInfo("standardBSFamily", _BOTH, acus=100),
    "Standard_B2ls_v2": SizeInfo("standardBsv2Family", _BOTH, acus=100),
    "Standard_B2s_v2": SizeInfo("standardBsv2Family", _BOTH, acus=100),
    "Standard_DS1_v2": SizeInfo("standardDSv2Family", _BOTH, acus=210),
    "Standard_D2s_v3": SizeInfo("standardDSv3Family", _BOTH, acus=160),
    "Standard_D2s_v5": SizeInfo("standardDSv5Family", _BOTH),
    "Standard_D4s_v5": SizeInfo("standardDSv5Family", _BOTH),
    "Standard_D8s_v5": SizeInfo("standardDSv5Family", _BOTH),
    "Standard_D2as_v5": SizeInfo("standardDASv5Family", _BOTH),
    "Standard_E2s_v5": SizeInfo("standardESv5Family", _BOTH),
    "Standard_E4s_v5": SizeInfo("standardESv5Family", _BOTH),
    "Standard_F2s_v2": SizeInfo("standardFSv2Family", _BOTH),
    "Standard_A2_v2": SizeInfo("standardAv2Family", ("V1",), premium_io=False, acus=100),
    "Standard_D1_v2": SizeInfo("standardDv2Family", ("V1",), premium_io=False, acus=210),
    "Standard_D2ps_v5": SizeInfo("standardDPSv5Family", ("V2",), architecture="Arm64"),
}
# The usage counter's localizedValue per family ("Standard BS Family vCPUs" and "Standard
# DSv3 Family vCPUs" are quoted in public material; the others follow their pattern).
FAMILY_DISPLAY: dict[str, str] = {
    "standardBSFamily": "Standard BS Family vCPUs",
    "standardBsv2Family": "Standard Bsv2 Family vCPUs",
    "standardDSv2Family": "Standard DSv2 Family vCPUs",
    "standardDSv3Family": "Standard DSv3 Family vCPUs",
    "standardDSv5Family": "Standard DSv5 Family vCPUs",
    "standardDASv5Family": "Standard DASv5 Family vCPUs",
    "standardESv5Family": "Standard ESv5 Family vCPUs",
    "standardFSv2Family": "Standard FSv2 Family vCPUs",
    "standardAv2Family": "Standard Av2 Family vCPUs",
    "standardDv2Family": "Standard Dv2 Family vCPUs",
    "standardDPSv5Family": "Standard DPSv5 Family vCPUs",
}
CORES = "cores"
# Counters listed before the families, with their default limits (the defaults of a
# pay-as-you-go subscription are not documented per counter; these are plausible).
FIXED_COUNTERS: tuple[tuple[str, str, int], ...] = (
    ("availabilitySets", "Availability Sets", 2500),
    (CORES, "Total Regional vCPUs", 100),
    ("virtualMachines", "Virtual Machines", 25000),
    ("virtualMachineScaleSets", "Virtual Machine Scale Sets", 2500),
)
DEFAULT_FAMILY_LIMIT = 100

# (size, region) -> reasonCode, for every subscription: a size this tenant cannot create in
# that region (Azure restricts per subscription; the pilot's two subscriptions are alike).
RESTRICTED: dict[tuple[str, str], str] = {
    ("Standard_D8s_v5", "westeurope"): "NotAvailableForSubscription",
    ("Standard_E4s_v5", "westus2"): "NotAvailableForSubscription",
}
# (subscription, region, counter) -> limit: the pilot's tight spots. Production in West
# Europe has 6 DSv5 and 2 BS vCPUs to spare; Development in East US has 5 regional vCPUs.
SEEDED_LIMITS: dict[tuple[str, str, str], int] = {
    ("7d3c1a52-8f0e-4b6a-9c21-3e5f7a9b0c11", "westeurope", "standardDSv5Family"): 20,
    ("7d3c1a52-8f0e-4b6a-9c21-3e5f7a9b0c11", "westeurope", "standardBSFamily"): 10,
    ("a1b2c3d4-5e6f-4a8b-9c0d-112233445566", "eastus", CORES): 10,
}
LIMITS_KEY = "quota_limits"  # meta key of the limits set with Emulator.set_quota


def info(size: str) -> SizeInfo | None:
    return SIZE_INFO.get(canonical_size(size) or "")


def canonical_size(size: str) -> str | None:
    """The size's name as Azure spells it (sizes are matched case-insensitively)."""
    for name in catalog.VM_SIZES:
        if name.lower() == size.lower():
            return name
    return None


def restriction(size: str, region: str) -> str | None:
    """The reasonCode that keeps ``size`` out of ``region``, or None."""
    name = canonical_size(size) or size
    return RESTRICTED.get((name, regions.normalize(region)))


# --- Resource SKUs ------------------------------------------------------------------------


def _fmt(number: float) -> str:
    return f"{number:g}"


def sku_json(name: str, region: str) -> dict[str, Any]:
    """One ``ResourceSku`` of resourceType virtualMachines, shaped as the specification's
    ``ListAvailableResourceSkusForARegion`` example (capability values are strings)."""
    cores, gib, disks, temp = catalog.VM_SIZES[name]
    meta = SIZE_INFO[name]
    capabilities = [
        ("MaxResourceVolumeMB", str(temp * 1024)),
        ("OSVhdSizeMB", "1047552"),
        ("vCPUs", str(cores)),
        ("MemoryPreservingMaintenanceSupported", "True"),
        ("HyperVGenerations", ",".join(meta.generations)),
        ("MemoryGB", _fmt(gib)),
        ("MaxDataDiskCount", str(disks)),
        ("CpuArchitectureType", meta.architecture),
        ("LowPriorityCapable", "True"),
        ("PremiumIO", str(meta.premium_io)),
        ("VMDeploymentTypes", "IaaS"),
        ("vCPUsAvailable", str(cores)),
        ("ACUs", str(meta.acus)),
        ("vCPUsPerCore", "1" if meta.architecture == "Arm64" or cores == 1 else "2"),
        ("EphemeralOSDiskSupported", str(temp > 0)),
        ("EncryptionAtHostSupported", "True"),
        ("AcceleratedNetworkingEnabled", str(cores >= 2)),
        ("RdmaEnabled", "False"),
        ("MaxNetworkInterfaces", "2"),
    ]
    reason = RESTRICTED.get((name, region))
    restrictions = []
    if reason:
        restrictions.append(
            {
                "type": "Location",
                "values": [region],
                "restrictionInfo": {"locations": [region]},
                "reasonCode": reason,
            }
        )
    return {
        "resourceType": "virtualMachines",
        "name": name,
        "tier": "Standard",
        "size": name.removeprefix("Standard_"),
        "family": meta.family,
        "locations": [region],
        "locationInfo": [{"location": region, "zones": ["1", "2", "3"], "zoneDetails": []}],
        "capabilities": [{"name": n, "value": v} for n, v in capabilities],
        "restrictions": restrictions,
    }


def skus_in(location: str | None) -> list[dict[str, Any]]:
    """Every SKU in ``location`` (a region name), or in every physical region."""
    if location is None:
        names = [r.name for r in regions.REGIONS.values() if r.physical]
    else:
        region = regions.normalize(location)
        names = [region] if regions.is_physical(region) else []
    return [sku_json(size, region) for region in names for size in catalog.VM_SIZES]


# --- quota --------------------------------------------------------------------------------


def _limit_key(sub: str, region: str, counter: str) -> str:
    return f"{sub.lower()}|{regions.normalize(region)}|{counter}"


def stored_limits(conn: sqlite3.Connection) -> dict[str, int]:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (LIMITS_KEY,)).fetchone()
    return {} if row is None else {k: int(v) for k, v in json.loads(row[0]).items()}


def limit(conn: sqlite3.Connection, sub: str, region: str, counter: str) -> int:
    """The limit of ``counter`` (``cores``, a family, ...) for the subscription and region."""
    region = regions.normalize(region)
    set_by_hand = stored_limits(conn).get(_limit_key(sub, region, counter))
    if set_by_hand is not None:
        return set_by_hand
    seeded = SEEDED_LIMITS.get((sub.lower(), region, counter))
    if seeded is not None:
        return seeded
    for name, _, default in FIXED_COUNTERS:
        if name == counter:
            return default
    return DEFAULT_FAMILY_LIMIT


def usage(conn: sqlite3.Connection, sub: str, region: str) -> dict[str, int]:
    """Current value of every counter for the subscription's VMs in ``region``: VMs in any
    state count (allocated and deallocated), a VM being created counts, one being deleted
    still counts until it is gone."""
    region = regions.normalize(region)
    rows = conn.execute(
        "SELECT json_extract(body, '$.location'), "
        "json_extract(body, '$.properties.hardwareProfile.vmSize'), COUNT(*) "
        "FROM resources WHERE kind = ? AND sub = ? GROUP BY 1, 2",
        (KIND_VM, sub.lower()),
    ).fetchall()
    counts: dict[str, int] = {CORES: 0, "virtualMachines": 0}
    for location, size, n in rows:
        if regions.normalize(str(location or "")) != region:
            continue
        counts["virtualMachines"] += n
        name = canonical_size(str(size or ""))
        if name is None:
            continue
        vcpus = catalog.VM_SIZES[name][0] * n
        counts[CORES] += vcpus
        family = SIZE_INFO[name].family
        counts[family] = counts.get(family, 0) + vcpus
    return counts


def usages_json(conn: sqlite3.Connection, sub: str, region: str) -> list[dict[str, Any]]:
    """The ``Usage`` list of a region: the fixed counters, then one per family."""
    current = usage(conn, sub, region)
    counters = [(n, d) for n, d, _ in FIXED_COUNTERS] + list(FAMILY_DISPLAY.items())
    return [
        {
            "limit": limit(conn, sub, region, name),
            "unit": "Count",
            "currentValue": current.get(name, 0),
            "name": {"value": name, "localizedValue": display},
        }
        for name, display in counters
    ]


def check_quota(conn: sqlite3.Connection, sub: str, region: str, size: str) -> None:
    """409 OperationNotAllowed when one more VM of ``size`` does not fit in its family's
    vCPU quota, or in the regional total (the family is checked first)."""
    name = canonical_size(size)
    if name is None:
        return
    need = catalog.VM_SIZES[name][0]
    current = usage(conn, sub, region)
    family = SIZE_INFO[name].family
    for counter in (family, CORES):
        allowed = limit(conn, sub, region, counter)
        used = current.get(counter, 0)
        if used + need > allowed:
            raise quota_exceeded(sub, region, counter, allowed, used, need)


def quota_exceeded(
    sub: str, region: str, counter: str, allowed: int, used: int, need: int
) -> errors.ArmError:
    """Today's wording (cloud-barista/cb-tumblebug quotes it with a 409): the regional
    counter is named "Total Regional Cores", a family by its counter name; the location is
    the region's display name without spaces (``KoreaCentral`` in the quote)."""
    regional = counter == CORES
    what = "Total Regional Cores" if regional else f"{counter} Cores"
    location = regions.display(region).replace(" ", "")
    new_limit = used + need
    quota = (
        "%7B%22location%22:%22" + quote(location) + "%22,%22providerId%22:%22Microsoft.Compute"
        "%22,%22resourceName%22:%22" + counter + "%22,%22quotaRequest%22:%7B%22properties%22:"
        "%7B%22limit%22:" + str(new_limit) + ",%22unit%22:%22Count%22,%22name%22:%7B%22value"
        "%22:%22" + counter + "%22%7D%7D%7D%7D"
    )
    link = (
        "https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/"
        f"Parameters/%7B%22subscriptionId%22:%22{sub}%22,%22command%22:%22openQuotaApproval"
        f"Blade%22,%22quotas%22:[{quota}]%7D"
    )
    page = "regional-quota-requests" if regional else "per-vm-quota-requests"
    return errors.ArmError(
        409,
        "OperationNotAllowed",
        f"Operation could not be completed as it results in exceeding approved {what} quota. "
        f"Additional details - Deployment Model: Resource Manager, Location: {location}, "
        f"Current Limit: {allowed}, Current Usage: {used}, Additional Required: {need}, "
        f"(Minimum) New Limit Required: {new_limit}. Setup Alerts when Quota reaches "
        "threshold. Learn more at https://aka.ms/quotamonitoringalerting . Submit a request "
        f"for Quota increase at {link} by specifying parameters listed in the ‘Details’ "
        "section for deployment to succeed. Please read more about quota limits at "
        f"https://docs.microsoft.com/en-us/azure/azure-supportability/{page}",
    )


def sku_not_available(resource_id: str, size: str, region: str, sub: str) -> errors.ArmError:
    """409 SkuNotAvailable, the documented template without zones (the size is restricted
    in the whole region, not in some zones)."""
    return errors.ArmError(
        409,
        "SkuNotAvailable",
        f"The requested size for resource '{resource_id}' is currently not available in "
        f"location '{regions.normalize(region)}' for subscription '{sub}'. Please try "
        "another size or deploy to a different location or zones. See "
        "https://aka.ms/azureskunotavailable for details.",
        target="hardwareProfile.vmSize",
    )
