"""The "Contoso pilot" scenario: what a first run of the dashboard shows.

Two subscriptions, a handful of resource groups, VMs in every power state (including
transitional ones and three left only *Stopped* — still billed), one VM already
generalized, a Compute Gallery with replicated versions, a few managed images. The
Marketplace and VM sizes are static (``catalog.py``). ``extra_vms`` adds generated VMs
with deterministic names for scale tests; everything is inserted with ``executemany``.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from . import gallery_publishing, seed_deploy, vm_model
from .clock import iso
from .handlers_galleries import definition_body, gallery_body
from .lookup import (
    KIND_GALLERY,
    KIND_GALLERY_IMAGE,
    KIND_GALLERY_VERSION,
    KIND_IMAGE,
    KIND_VM,
    TYPE_NAMES,
)
from .regions import display as region_display
from .state import RESOURCE_TABLES, insert_many
from .wire import new_id

TENANT_ID = "4a1c2b3d-6e7f-4081-92a3-b4c5d6e7f809"
PROD = "7d3c1a52-8f0e-4b6a-9c21-3e5f7a9b0c11"
DEV = "a1b2c3d4-5e6f-4a8b-9c0d-112233445566"
SUBSCRIPTIONS = [
    (PROD, "Contoso Pilot – Production"),
    (DEV, "Contoso Pilot – Development"),
]
RESOURCE_GROUPS = [
    (PROD, "rg-web-prod", "westeurope"),
    (PROD, "rg-data-prod", "westeurope"),
    (PROD, "rg-build", "northeurope"),
    (PROD, "rg-images", "westeurope"),
    (DEV, "rg-dev", "eastus"),
    (DEV, "rg-sandbox", "westus2"),
]
RG_LOCATION = {(s, rg): loc for s, rg, loc in RESOURCE_GROUPS}

# image key -> (publisher, offer, sku, version, osType, generation, osName, osVersion)
IMAGES: dict[str, tuple[str, str, str, str, str, str, str, str]] = {
    "win2022g2": (
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2022-datacenter-g2",
        "20348.2762.241006",
        "Windows",
        "V2",
        "Windows Server 2022 Datacenter",
        "10.0.20348.2762",
    ),
    "win2019": (
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2019-Datacenter",
        "17763.6414.241004",
        "Windows",
        "V1",
        "Windows Server 2019 Datacenter",
        "10.0.17763.6414",
    ),
    "win2016": (
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2016-Datacenter",
        "14393.7428.241004",
        "Windows",
        "V1",
        "Windows Server 2016 Datacenter",
        "10.0.14393.7428",
    ),
    "win2025ae": (
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2025-datacenter-azure-edition",
        "26100.2033.241004",
        "Windows",
        "V2",
        "Windows Server 2025 Datacenter: Azure Edition",
        "10.0.26100.2033",
    ),
    "sql2022": (
        "MicrosoftSQLServer",
        "sql2022-ws2022",
        "standard-gen2",
        "16.0.241010",
        "Windows",
        "V2",
        "Windows Server 2022 Datacenter",
        "10.0.20348.2762",
    ),
    "sql2019": (
        "MicrosoftSQLServer",
        "sql2019-ws2019",
        "standard",
        "15.0.241010",
        "Windows",
        "V1",
        "Windows Server 2019 Datacenter",
        "10.0.17763.6414",
    ),
    "jammy": (
        "Canonical",
        "0001-com-ubuntu-server-jammy",
        "22_04-lts-gen2",
        "22.04.202410020",
        "Linux",
        "V2",
        "ubuntu",
        "22.04",
    ),
    "noble": (
        "Canonical",
        "ubuntu-24_04-lts",
        "server",
        "24.04.202410170",
        "Linux",
        "V2",
        "ubuntu",
        "24.04",
    ),
    "debian12": (
        "Debian",
        "debian-12",
        "12-gen2",
        "0.20241004.1890",
        "Linux",
        "V2",
        "debian",
        "12",
    ),
    "rhel9": ("RedHat", "RHEL", "9-lvm-gen2", "9.4.2024081415", "Linux", "V2", "redhat", "9.4"),
    "sles15": ("SUSE", "sles-15-sp6", "gen2", "2024.10.08", "Linux", "V2", "sles", "15.6"),
    "mysql": ("bitnami", "mysql", "mysql", "8.0.39", "Linux", "V1", "debian", "12"),
    "mongodb": ("bitnami", "mongodb", "mongodb", "7.0.14", "Linux", "V1", "debian", "12"),
    "cassandra": ("bitnami", "cassandra", "cassandra", "4.1.6", "Linux", "V1", "debian", "12"),
}

_COMPUTE = f"/subscriptions/{PROD}/resourceGroups/rg-images/providers/Microsoft.Compute"
_GALLERY_IMAGES = f"{_COMPUTE}/galleries/gal_contoso/images"
# VMs built from the tenant's own images (the others come from the Marketplace): their
# imageReference is the id the create request sent (a gallery definition = its latest
# version, a pinned gallery version, a managed image), and the version it resolved to.
CUSTOM_IMAGE_VMS: dict[str, tuple[str, str | None]] = {
    "web-prod-03": (
        f"{_GALLERY_IMAGES}/win2022-base",
        f"{_GALLERY_IMAGES}/win2022-base/versions/1.1.0",
    ),
    "api-prod-01": (
        f"{_GALLERY_IMAGES}/ubuntu2204-base/versions/1.0.0",
        f"{_GALLERY_IMAGES}/ubuntu2204-base/versions/1.0.0",
    ),
    "legacy-app-01": (f"{_COMPUTE}/images/img-legacy-app-2016", None),
}

ESCAPING_PROBE = "<b>Ops & \"Night\" 'shift'</b>"


def _tags(env: str, owner: str, cost_center: str) -> dict[str, str]:
    return {"env": env, "owner": owner, "costCenter": cost_center}


WEB_TEAM = _tags("prod", "web-team", "CC-1001")
API_TEAM = _tags("prod", "api-team", "CC-1002")
LEGACY_OWNER = _tags("prod", ESCAPING_PROBE, "CC-0999")
DATA_TEAM = _tags("prod", "data-team", "CC-2001")
DATA_TEAM_CASSANDRA = _tags("prod", "data-team", "CC-2002")
DEVOPS = _tags("build", "devops", "CC-3001")
PLATFORM = _tags("images", "platform", "CC-4001")
DEV_IT_OPS = _tags("dev", "it-ops", "CC-9001")
DEV_API_TEAM = _tags("dev", "api-team", "CC-9002")
DEV_DATA_TEAM = _tags("dev", "data-team", "CC-9002")
SANDBOX_IT_OPS = _tags("sandbox", "it-ops", "CC-9003")

VmRow = tuple[str, str, str, str, str, str, bool, dict[str, str]]


def _in_group(
    sub: str, rg: str, *vms: tuple[str, str, str, str, bool, dict[str, str]]
) -> list[VmRow]:
    """Rows of ``PILOT_VMS`` for one resource group: ``(name, size, image key, power,
    generalized, tags)`` each."""
    return [(sub, rg, *vm) for vm in vms]


# (sub, rg, name, size, image key, power, generalized, tags); a power that names an
# operation ("start", "power_off", ...) seeds the VM in the middle of it.
PILOT_VMS: list[VmRow] = [
    *_in_group(
        PROD,
        "rg-web-prod",
        ("web-prod-01", "Standard_D2s_v5", "win2022g2", "running", False, WEB_TEAM),
        ("web-prod-02", "Standard_D2s_v5", "win2022g2", "running", False, WEB_TEAM),
        ("web-prod-03", "Standard_D4s_v5", "win2022g2", "stopped", False, WEB_TEAM),
        ("api-prod-01", "Standard_B2s", "jammy", "running", False, API_TEAM),
        ("legacy-app-01", "Standard_B2ms", "win2016", "deallocated", False, LEGACY_OWNER),
    ),
    *_in_group(
        PROD,
        "rg-data-prod",
        ("sql-prod-01", "Standard_E4s_v5", "sql2022", "running", False, DATA_TEAM),
        ("mysql-prod-01", "Standard_B2ms", "mysql", "stopped", False, DATA_TEAM),
        ("mongo-prod-01", "Standard_E2s_v5", "mongodb", "deallocated", False, DATA_TEAM),
        ("cassandra-prod-01", "Standard_D4s_v5", "cassandra", "start", False, DATA_TEAM_CASSANDRA),
    ),
    *_in_group(
        PROD,
        "rg-build",
        ("build-agent-01", "Standard_F2s_v2", "noble", "running", False, DEVOPS),
        ("build-agent-02", "Standard_F2s_v2", "debian12", "power_off", False, DEVOPS),
        ("build-win-01", "Standard_D2s_v3", "win2019", "stopped", False, DEVOPS),
    ),
    *_in_group(
        PROD,
        "rg-images",
        ("img-win2022-base", "Standard_D2s_v5", "win2022g2", "deallocated", True, PLATFORM),
        ("img-ubuntu-base", "Standard_B2s", "jammy", "deallocate", False, PLATFORM),
    ),
    *_in_group(
        DEV,
        "rg-dev",
        ("dev-jumpbox-01", "Standard_B2s", "win2025ae", "running", False, DEV_IT_OPS),
        ("dev-rhel-01", "Standard_B1ms", "rhel9", "running", False, DEV_API_TEAM),
        ("dev-sql-01", "Standard_D2as_v5", "sql2019", "deallocated", False, DEV_DATA_TEAM),
    ),
    *_in_group(
        DEV,
        "rg-sandbox",
        ("sandbox-sles-01", "Standard_B2ls_v2", "sles15", "restart", False, SANDBOX_IT_OPS),
    ),
]

# A seeded transitional VM stays transitional this long, so the first page shows it.
SEED_TRANSITION_SECONDS = 90.0
_STEADY = {"running", "stopped", "deallocated"}
# pending op -> (power before, power after)
_PENDING = {
    "start": ("deallocated", "running"),
    "power_off": ("running", "stopped"),
    "deallocate": ("stopped", "deallocated"),
    "restart": ("running", "running"),
}


def _vm(
    sub: str,
    rg: str,
    name: str,
    size: str,
    image: str,
    power: str,
    generalized: bool,
    tags: dict[str, str],
    created: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    pub, offer, sku, version, os_type, gen, os_name, os_version = IMAGES[image]
    body, emu = vm_model.new_vm(
        sub=sub,
        rg=rg,
        name=name,
        location=RG_LOCATION[(sub, rg)],
        size=size,
        os_type=os_type,
        image={"publisher": pub, "offer": offer, "sku": sku, "version": version},
        generation=gen,
        tags=dict(tags),  # rows share their team's tags
        power=power,
        created=created,
        os_name=os_name,
        os_version=os_version,
        os_generalized=generalized,
    )
    if name in CUSTOM_IMAGE_VMS:
        image_id, version_id = CUSTOM_IMAGE_VMS[name]
        body["properties"]["storageProfile"]["imageReference"] = {"id": image_id}
        kind = "gallery" if version_id else "managed"
        emu["image"] = {"kind": kind, **({"gallery_version_id": version_id} if version_id else {})}
    return body, emu


def _extra_vms(count: int, created: float) -> list[VmRow]:
    """Deterministic filler VMs spread over the production resource groups, images and
    steady states."""
    # All in the first subscription, so "10,000 VMs" means one big subscription to list.
    rgs = [(s, rg) for s, rg, _ in RESOURCE_GROUPS if s == PROD]
    images = list(IMAGES)
    sizes = [
        "Standard_B2s",
        "Standard_D2s_v5",
        "Standard_B1ms",
        "Standard_E2s_v5",
        "Standard_F2s_v2",
    ]
    powers = ["running", "running", "deallocated", "stopped", "running", "deallocated"]
    out = []
    for i in range(count):
        sub, rg = rgs[i % len(rgs)]
        out.append(
            (
                sub,
                rg,
                f"vm-fleet-{i:05d}",
                sizes[i % len(sizes)],
                images[i % len(images)],
                powers[i % len(powers)],
                False,
                {"env": "fleet", "owner": f"team-{i % 7}", "costCenter": f"CC-{5000 + i % 13}"},
            )
        )
    return out


def _managed_image(
    sub: str, rg: str, name: str, source_vm: str, os_type: str, gen: str, location: str
) -> dict[str, Any]:
    vm_rid = vm_model.vm_id(sub, rg, source_vm)
    return {
        "name": name,
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{TYPE_NAMES[KIND_IMAGE]}/{name}",
        "type": TYPE_NAMES[KIND_IMAGE],
        "location": location,
        "tags": dict(PLATFORM),
        "properties": {
            "sourceVirtualMachine": {"id": vm_rid},
            "storageProfile": {
                "osDisk": {
                    "osType": os_type,
                    "osState": "Generalized",
                    "diskSizeGB": 127 if os_type == "Windows" else 30,
                    "managedDisk": {
                        "id": f"/subscriptions/{sub}/resourceGroups/{rg.upper()}/providers/"
                        f"Microsoft.Compute/disks/{source_vm}_OsDisk_1"
                    },
                    "caching": "ReadWrite",
                    "storageAccountType": "Premium_LRS",
                },
                "dataDisks": [],
            },
            "provisioningState": "Succeeded",
            "hyperVGeneration": gen,
        },
    }


def _version(
    sub: str,
    rg: str,
    gallery: str,
    image: str,
    version: str,
    source: dict[str, str],
    regions: list[str],
    published: float,
    disk_gb: int,
    *,
    exclude_from_latest: bool = False,
    end_of_life: float | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    shown = [region_display(r) for r in regions]
    body: dict[str, Any] = {
        "name": version,
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/"
        f"{gallery}/images/{image}/versions/{version}",
        "type": TYPE_NAMES[KIND_GALLERY_VERSION],
        "location": regions[0],
        "tags": {"owner": "platform"},
        "properties": {
            "publishingProfile": {
                "targetRegions": [
                    {"name": r, "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS"}
                    for r in shown
                ],
                "replicaCount": 1,
                "excludeFromLatest": exclude_from_latest,
                "publishedDate": iso(published),
                "storageAccountType": "Standard_LRS",
            },
            "storageProfile": {
                "source": source,
                "osDiskImage": {"sizeInGB": disk_gb, "hostCaching": "ReadWrite", "source": {}},
            },
            "safetyProfile": {
                "reportedForPolicyViolation": False,
                "allowDeletionOfReplicatedLocations": False,
            },
            "provisioningState": "Succeeded",
        },
    }
    if end_of_life is not None:
        body["properties"]["publishingProfile"]["endOfLifeDate"] = iso(end_of_life)
    emu = {
        "op": None,
        "source_region": regions[0],
        "replication": gallery_publishing.schedule(shown, regions[0], published, 15.0),
    }
    return body, emu


def seed(conn: sqlite3.Connection, now: float, extra_vms: int = 0) -> dict[str, int]:
    """Replace every resource with the pilot scenario (call inside a write transaction)."""
    for table in RESOURCE_TABLES:
        conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
    conn.executemany(
        "INSERT INTO subscriptions (id, display_name, tenant_id) VALUES (?, ?, ?)",
        [(sid, name, TENANT_ID) for sid, name in SUBSCRIPTIONS],
    )
    conn.executemany(
        "INSERT INTO resource_groups (sub, name_lc, name, location) VALUES (?, ?, ?, ?)",
        [(s, rg.lower(), rg, loc) for s, rg, loc in RESOURCE_GROUPS],
    )
    created = now - 86400 * 30
    rows: list[tuple[Any, ...]] = []
    pending: list[tuple[str, str, str, str]] = []  # (sub, rg, name, op kind)
    for sub, rg, name, size, image, power, generalized, tags in PILOT_VMS + _extra_vms(
        extra_vms, created
    ):
        steady = power
        if power not in _STEADY:
            steady = _PENDING[power][0]
            pending.append((sub, rg, name, power))
        body, emu = _vm(sub, rg, name, size, image, steady, generalized, tags, created)
        rows.append((KIND_VM, sub, rg, "", name, body, emu))

    gallery_rg, gallery = "rg-images", "gal_contoso"
    rows.append(
        (
            KIND_GALLERY,
            PROD,
            gallery_rg,
            "",
            gallery,
            gallery_body(
                PROD,
                gallery_rg,
                gallery,
                "westeurope",
                "Contoso golden images",
                {"tags": {"owner": "platform"}},
                "Succeeded",
            ),
            {"op": None},
        )
    )
    definitions = [
        ("win2022-base", "Windows", "V2", ("contoso", "windows-server", "2022-base")),
        ("ubuntu2204-base", "Linux", "V2", ("contoso", "ubuntu", "22.04-base")),
        ("legacy-app", "Windows", "V1", ("contoso", "legacy-app", "2016")),
    ]
    for name, os_type, gen, (pub, offer, sku) in definitions:
        body = definition_body(
            PROD,
            gallery_rg,
            gallery,
            name,
            "westeurope",
            {"tags": {"owner": "platform"}},
            identifier={"publisher": pub, "offer": offer, "sku": sku},
            os_type=os_type,
            os_state="Generalized",
            generation=gen,
            architecture="x64",
            # What a Trusted Launch capable Gen2 image declares (a V1 one cannot).
            features=[{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
            if gen == "V2"
            else None,
            extra={"description": f"{offer} {sku}"},
            state="Succeeded",
        )
        rows.append((KIND_GALLERY_IMAGE, PROD, gallery_rg, gallery, name, body, {"op": None}))

    managed = [
        ("img-win2022-base-20241001", "img-win2022-base", "Windows", "V2"),
        ("img-ubuntu2204-20240915", "img-ubuntu-base-old", "Linux", "V2"),
        ("img-legacy-app-2016", "legacy-app-build", "Windows", "V1"),
    ]
    image_ids = {}
    for name, source_vm, os_type, gen in managed:
        body = _managed_image(PROD, gallery_rg, name, source_vm, os_type, gen, "westeurope")
        image_ids[name] = body["id"]
        rows.append((KIND_IMAGE, PROD, gallery_rg, "", name, body, {"op": None}))

    versions = [
        (
            "win2022-base",
            "1.0.0",
            {"id": image_ids["img-win2022-base-20241001"]},
            ["westeurope", "northeurope", "eastus"],
        ),
        (
            "win2022-base",
            "1.1.0",
            {"virtualMachineId": vm_model.vm_id(PROD, "rg-images", "img-win2022-base")},
            ["westeurope", "northeurope"],
        ),
        (
            "ubuntu2204-base",
            "1.0.0",
            {"id": image_ids["img-ubuntu2204-20240915"]},
            ["westeurope", "eastus"],
        ),
        (
            "legacy-app",
            "1.0.0",
            {"id": image_ids["img-legacy-app-2016"]},
            ["westeurope", "uksouth"],
        ),
        # A candidate kept out of "latest" until it is reviewed.
        (
            "ubuntu2204-base",
            "1.1.0",
            {"id": image_ids["img-ubuntu2204-20240915"]},
            ["westeurope"],
        ),
    ]
    for i, (definition, version, source, regions) in enumerate(versions):
        published = now - 86400 * (20 - i)
        disk_gb = 30 if definition.startswith("ubuntu") else 127
        body, emu = _version(
            PROD,
            gallery_rg,
            gallery,
            definition,
            version,
            source,
            regions,
            published,
            disk_gb,
            exclude_from_latest=(definition, version) == ("ubuntu2204-base", "1.1.0"),
            # Support for the legacy app's image ends within the month.
            end_of_life=now + 86400 * 20 if definition == "legacy-app" else None,
        )
        rows.append(
            (KIND_GALLERY_VERSION, PROD, gallery_rg, f"{gallery}/{definition}", version, body, emu)
        )

    insert_many(conn, rows)
    _start_pending(conn, now, pending)
    extras = seed_deploy.seed_extras(conn, now)
    counts = dict(conn.execute("SELECT kind, COUNT(*) FROM resources GROUP BY kind").fetchall())
    return {
        "subscriptions": len(SUBSCRIPTIONS),
        "resource_groups": len(RESOURCE_GROUPS) + len(seed_deploy.NETWORK_GROUPS),
        "virtual_machines": counts.get(KIND_VM, 0),
        "images": counts.get(KIND_IMAGE, 0),
        "galleries": counts.get(KIND_GALLERY, 0),
        "gallery_images": counts.get(KIND_GALLERY_IMAGE, 0),
        "gallery_image_versions": counts.get(KIND_GALLERY_VERSION, 0),
        "transitional_vms": len(pending),
    } | extras


def _start_pending(
    conn: sqlite3.Connection, now: float, pending: list[tuple[str, str, str, str]]
) -> None:
    """Give the seeded transitional VMs a real operation that settles later."""
    for sub, rg, name, kind in pending:
        seq, emu_json, body_json = conn.execute(
            "SELECT seq, emu, body FROM resources WHERE kind = ? AND sub = ? AND rg_lc = ? "
            "AND parent_lc = '' AND name_lc = ?",
            (KIND_VM, sub, rg.lower(), name.lower()),
        ).fetchone()
        op_id, due = new_id(), now + SEED_TRANSITION_SECONDS
        location = json.loads(body_json)["location"]
        conn.execute(
            "INSERT INTO operations (id, sub, location, kind, resource_seq, started, due, params) "
            "VALUES (?, ?, ?, 'vm_power', ?, ?, ?, ?)",
            (op_id, sub, location, seq, now, due, json.dumps({"target": _PENDING[kind][1]})),
        )
        emu = json.loads(emu_json)
        emu["op"] = {"id": op_id, "kind": kind, "until": due}
        emu["state_time"] = now
        conn.execute("UPDATE resources SET emu = ? WHERE seq = ?", (json.dumps(emu), seq))
