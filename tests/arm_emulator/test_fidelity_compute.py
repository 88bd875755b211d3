"""VM, image, Marketplace, region and api-version divergences of issue #8 (2, 3, 8, 9
and the VM parts of 10), each checked against the recording it comes from."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.mgmt.compute import models as m

from .conftest import PROD_RG

BASE = "https://management.azure.com"


def call(emu: Any, method: str, path: str, api: str, body: Any = None) -> tuple[int, dict, Any]:
    sep = "&" if "?" in path else "?"
    data = None if body is None else json.dumps(body).encode()
    status, headers, raw = emu.handle(method, f"{BASE}{path}{sep}api-version={api}", {}, data)
    return status, headers, json.loads(raw) if raw else None


def vm_path(sub: str, vm: str, rg: str = PROD_RG) -> str:
    return (
        f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"
    )


# --- 2. Run Command --------------------------------------------------------------------------


def test_linux_run_command_answers_one_status_with_stdout_and_stderr(emu, sub):
    """azure-cli test_vm_run_command_with_parameters #7–#9 (2023) and test_vm_run_command_e2e
    #4–#8 (2020): 202 with Azure-AsyncOperation and Location; the final operation body is
    ``{startTime, endTime, status: Succeeded, properties: {output: {value: [one status]}},
    name}``; the one status is ProvisioningState/succeeded whose message is
    "Enable succeeded: \\n[stdout]\\n…\\n[stderr]\\n…"; the monitor URL answers the output."""
    status, headers, _ = call(
        emu,
        "POST",
        vm_path(sub, "api-prod-01", "rg-web-prod") + "/runCommand",
        "2023-09-01",
        {"commandId": "RunShellScript", "script": ["echo hello"], "parameters": []},
    )
    assert status == 202 and {"Azure-AsyncOperation", "Location"} <= set(headers)
    _, _, final = call(emu, "GET", headers["Azure-AsyncOperation"].split(BASE)[1], "2023-09-01")
    assert list(final) == ["startTime", "endTime", "status", "properties", "name"]
    assert final["properties"]["output"] == {
        "value": [
            {
                "code": "ProvisioningState/succeeded",
                "level": "Info",
                "displayStatus": "Provisioning succeeded",
                "message": "Enable succeeded: \n[stdout]\nhello\n\n[stderr]\n",
            }
        ]
    }
    monitor = emu.handle("GET", headers["Location"], {}, None)
    assert monitor[0] == 200 and json.loads(monitor[2]) == final["properties"]["output"]


def test_windows_run_command_keeps_the_stdout_stderr_shape(client):
    """The specification's VirtualMachineRunCommand example (no Windows recording found):
    ComponentStatus/StdOut/succeeded and ComponentStatus/StdErr/succeeded."""
    result = client.virtual_machines.begin_run_command(
        PROD_RG,
        "web-prod-01",
        m.RunCommandInput(command_id="RunPowerShellScript", script=["Write-Output 'hi'"]),
    ).result()
    assert [s.code for s in result.value] == [
        "ComponentStatus/StdOut/succeeded",
        "ComponentStatus/StdErr/succeeded",
    ]
    assert result.value[0].message == "hi"


# --- 3. instance view of stopped and deallocated VMs --------------------------------------


def test_stopped_vm_keeps_guest_details_deallocated_vm_drops_them(client, emu, sub):
    """test_vm_create_state_modifications #25 (stopped, still allocated: computerName,
    osName, osVersion, vmAgent kept) and #48 (deallocated: only disks, hyperVGeneration
    and statuses), recorded 2023-12 (also 2020)."""
    client.virtual_machines.begin_power_off(PROD_RG, "api-prod-01").result()
    stopped = client.virtual_machines.instance_view(PROD_RG, "api-prod-01").as_dict()
    assert {"computerName", "osName", "osVersion", "vmAgent"} <= set(stopped)
    assert [s["code"] for s in stopped["statuses"]] == [
        "ProvisioningState/succeeded",
        "PowerState/stopped",
    ]
    client.virtual_machines.begin_deallocate(PROD_RG, "api-prod-01").result()
    _, _, body = call(
        emu, "GET", vm_path(sub, "api-prod-01") + "?$expand=instanceView", "2023-09-01"
    )
    assert set(body["properties"]["instanceView"]) == {"disks", "hyperVGeneration", "statuses"}


def test_deallocated_vm_managed_disks_have_no_size_or_type(client, emu, sub):
    """test_gallery_e2e #10 vs #18 (2020), #16 vs #25 (2023), and 2026: a deallocated VM's
    managed OS disk has no diskSizeGB and no managedDisk.storageAccountType; running, it
    has both. (VHD disks keep diskSizeGB: test_vm_create_state_modifications #48.)"""
    path = vm_path(sub, "api-prod-01")
    running = call(emu, "GET", path, "2023-09-01")[2]["properties"]["storageProfile"]["osDisk"]
    assert "diskSizeGB" in running and "storageAccountType" in running["managedDisk"]
    client.virtual_machines.begin_deallocate(PROD_RG, "api-prod-01").result()
    disk = call(emu, "GET", path, "2023-09-01")[2]["properties"]["storageProfile"]["osDisk"]
    assert "diskSizeGB" not in disk and disk["managedDisk"].keys() == {"id"}


def test_provisioning_state_time_moves_when_accepted_and_when_settled(client, emu):
    """The ProvisioningState status's ``time`` is the settle time of the last operation
    (test_vm_create_state_modifications: 08:17:59.55 after a stop that ended 08:17:59.69;
    08:22:25.50 after a deallocation that ended 08:22:25.66). At acceptance it moves too
    (not observed: docs/emulator-fidelity.md)."""

    def prov_time() -> str:
        view = client.virtual_machines.instance_view(PROD_RG, "web-prod-02")
        return next(s.time for s in view.statuses if s.code.startswith("ProvisioningState/"))

    emu.set_durations(restart=30)
    before = prov_time()
    emu.advance(5)
    client.virtual_machines.begin_restart(PROD_RG, "web-prod-02", polling=False)
    accepted = prov_time()
    emu.advance(31)
    settled = prov_time()
    assert before < accepted < settled
    assert (settled - accepted).total_seconds() == pytest.approx(30, abs=0.01)


# --- 8. regions ----------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["westus", "southcentralus", "brazilsouth", "koreacentral"])
def test_every_public_region_serves_marketplace_sizes_and_galleries(client, region):
    """test_vm_generalize and test_vm_run_command_e2e ran in westus, test_gallery_e2e in
    eastus2; ``az account list-locations`` (recorded 2023-11) lists the rest."""
    assert client.virtual_machine_images.list_publishers(region)
    assert list(client.virtual_machine_sizes.list(region))
    gallery = client.galleries.begin_create_or_update(
        PROD_RG, f"gal_{region}", m.Gallery(location=region)
    ).result()
    assert gallery.location == region


def test_logical_regions_are_listed_but_refuse_compute(emu, sub):
    status, _, body = call(
        emu,
        "GET",
        f"/subscriptions/{sub}/providers/Microsoft.Compute/locations/europe/vmSizes",
        "2024-11-01",
    )
    assert (status, body["error"]["code"]) == (400, "NoRegisteredProviderFound")


# --- 9. api-versions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "path"),
    [
        ("2020-06-01", "virtualMachines/web-prod-01"),  # azure-cli recordings, 2020
        ("2022-11-01", "virtualMachines/web-prod-01"),  # generalize / deallocate, 2023
        ("2025-11-01", "virtualMachines/web-prod-01"),  # vm show, 2026
        ("2015-06-15", "virtualMachines/web-prod-01"),  # the first published ComputeRP
        ("2019-12-01", "galleries/gal_contoso"),  # sig commands, 2020
        ("2021-10-01", "galleries/gal_contoso"),  # sig list, 2023 and 2026
        ("2025-03-03", "galleries/gal_contoso"),  # image versions, 2026
        ("2021-03-01", "galleries/gal_contoso"),  # ARM-registered, no spec
    ],
)
def test_recorded_and_published_api_versions_are_accepted(emu, sub, api, path):
    rg = "rg-images" if path.startswith("galleries") else PROD_RG
    status, _, body = call(
        emu,
        "GET",
        f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/{path}",
        api,
    )
    assert status == 200, body


# --- 10. VM, managed image and Marketplace bodies ---------------------------------------------


@pytest.mark.parametrize(
    ("api", "present"), [("2020-06-01", False), ("2023-09-01", True), ("2025-11-01", False)]
)
def test_linux_vm_agent_platform_updates_follow_the_api_version(emu, sub, api, present):
    """linuxConfiguration.enableVMAgentPlatformUpdates: false in every 2023 recording (api
    2023-09-01), absent in 2020 (2020-06-01) and 2026 (2025-11-01) ones. In 2026 a VM
    without Trusted Launch also shows securityProfile {securityType: Standard}."""
    body = call(emu, "GET", vm_path(sub, "legacy-app-01"), api)[2]
    linux = call(emu, "GET", vm_path(sub, "api-prod-01"), api)[2]["properties"]
    assert ("enableVMAgentPlatformUpdates" in linux["osProfile"]["linuxConfiguration"]) is present
    if api == "2025-11-01":
        assert body["properties"]["securityProfile"] == {"securityType": "Standard"}


def test_managed_image_disks_have_no_size_until_ready(client, emu):
    """test_gallery_e2e #26 → #29 (2020, 2023, 2026): the 201 disks have no diskSizeGB;
    the ready image has it; no zoneResilient unless asked for."""
    emu.set_durations(image_create=8)
    vm = client.virtual_machines.get("rg-images", "img-win2022-base")
    client.images.begin_create_or_update(
        "rg-images",
        "img-fresh",
        m.Image(location="westeurope", source_virtual_machine=m.SubResource(id=vm.id)),
        polling=False,
    )
    creating = client.images.get("rg-images", "img-fresh")["properties"]["storageProfile"]
    assert "diskSizeGB" not in creating["osDisk"] and "zoneResilient" not in creating
    assert creating["osDisk"]["storageAccountType"] == "Premium_LRS"
    emu.advance(9)
    ready = client.images.get("rg-images", "img-fresh")
    assert ready.storage_profile.os_disk.disk_size_gb == 127


def test_image_from_a_stopped_but_allocated_generalized_vm_is_created(client):
    """test_vm_generalize #7, #11, #17 (2023-12): power off (still allocated), generalize,
    image create → 201; deallocating first is the documented habit, not a rule."""
    client.virtual_machines.begin_power_off(PROD_RG, "web-prod-02").result()
    client.virtual_machines.generalize(PROD_RG, "web-prod-02")
    vm = client.virtual_machines.get(PROD_RG, "web-prod-02")
    image = client.images.begin_create_or_update(
        PROD_RG,
        "img-from-stopped",
        m.Image(location="westeurope", source_virtual_machine=m.SubResource(id=vm.id)),
    ).result()
    assert image.provisioning_state == "Succeeded"


def test_marketplace_version_carries_replica_type_and_sizes(emu, sub):
    """test_vm_generalize #1 (CentOS 7.5) and test_gallery_e2e #11 (Ubuntu 18.04): a
    version GET has replicaType and osDiskImage.sizeInBytes (and, for some images,
    sizeInGb); no features key when the image has none."""
    status, _, body = call(
        emu,
        "GET",
        f"/subscriptions/{sub}/providers/Microsoft.Compute/locations/westus/publishers/"
        "bitnami/artifacttypes/vmimage/offers/mysql/skus/mysql/versions/8.0.39",
        "2023-09-01",
    )
    assert status == 200
    props = body["properties"]
    assert props["replicaType"] == "Unmanaged"
    assert props["osDiskImage"] == {
        "operatingSystem": "Linux",
        "sizeInGb": 30,
        "sizeInBytes": 30 * 1024**3,
    }
    assert "features" not in props
    assert body["id"].startswith(f"/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/")
