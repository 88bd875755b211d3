"""Responses compared key by key with the specification's examples (``examples/``,
copied from Azure/azure-rest-api-specs, see examples/SOURCES.md).

Examples are not recorded traffic: where a recording shows a field the example lacks (or
the reverse), the emulator follows the recording and the test lists the difference
(docs/emulator-fidelity.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from azure.mgmt.compute import models as m

from .conftest import PROD_RG

EXAMPLES = Path(__file__).parent / "examples"
BASE = "https://management.azure.com"
C, G = "api-version=2026-04-01", "api-version=2026-03-03"


def _example(name: str, status: str = "200") -> Any:
    return json.loads((EXAMPLES / name).read_text())["responses"][status]["body"]


def _get(emu: Any, path: str) -> Any:
    status, headers, body = emu.handle("GET", f"{BASE}{path}", {}, None)
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/json")
    return json.loads(body)


def _same_keys(mine: dict[str, Any], example: dict[str, Any], optional: set[str]) -> None:
    """Every key of the example is present, and we add nothing ARM would not send."""
    assert set(example) - optional <= set(mine), set(example) - set(mine)
    assert set(mine) <= set(example) | {"tags", "type"}, set(mine) - set(example)


def test_instance_view_matches_example(emu, sub):
    mine = _get(
        emu,
        f"/subscriptions/{sub}/resourceGroups/{PROD_RG}/providers/Microsoft.Compute/"
        f"virtualMachines/web-prod-01/instanceView?{C}",
    )
    example = _example("virtualMachineExamples/VirtualMachine_Get_InstanceView.json")
    # The example's VM is in an availability set (update/fault domains); recorded standalone
    # VMs (test_vm_create_state_modifications) have neither, nor isVMInStandbyPool.
    _same_keys(
        mine,
        example,
        optional={
            "bootDiagnostics",
            "extensions",
            "patchStatus",
            "platformUpdateDomain",
            "platformFaultDomain",
            "isVMInStandbyPool",
        },
    )
    assert set(mine["vmAgent"]) == set(example["vmAgent"])
    assert set(mine["vmAgent"]["statuses"][0]) == set(example["vmAgent"]["statuses"][0])
    assert set(mine["disks"][0]) == set(example["disks"][0])
    assert [set(s) for s in mine["statuses"]] == [set(s) for s in example["statuses"]]
    assert m.VirtualMachineInstanceView(mine).vm_agent.vm_agent_version


def test_vm_get_matches_example(emu, sub):
    mine = _get(
        emu,
        f"/subscriptions/{sub}/resourceGroups/{PROD_RG}/providers/Microsoft.Compute/"
        f"virtualMachines/web-prod-01?{C}",
    )
    example = _example("virtualMachineExamples/VirtualMachine_Get.json")
    _same_keys(mine, example, optional={"etag", "resources", "managedBy"})
    shared = {
        "vmId",
        "hardwareProfile",
        "storageProfile",
        "osProfile",
        "networkProfile",
        "diagnosticsProfile",
        "provisioningState",
        "timeCreated",
    }
    assert shared <= set(mine["properties"]) and shared <= set(example["properties"])
    assert set(example["properties"]["storageProfile"]["osDisk"]) <= set(
        mine["properties"]["storageProfile"]["osDisk"]
    )


def test_image_matches_examples(emu, sub, client):
    mine = _get(
        emu,
        f"/subscriptions/{sub}/resourceGroups/rg-images/providers/Microsoft.Compute/"
        f"images/img-win2022-base-20241001?{C}",
    )
    example = _example("imageExamples/Image_Get.json")
    _same_keys(mine, example, optional=set())
    assert set(example["properties"]) <= set(mine["properties"])
    created = _example("imageExamples/Image_CreateFromAVM.json", "201")
    assert set(created["properties"]) <= set(mine["properties"])
    assert set(created["properties"]["storageProfile"]["osDisk"]) <= set(
        mine["properties"]["storageProfile"]["osDisk"]
    )
    assert m.Image(mine).storage_profile.os_disk.os_state == "Generalized"


def test_gallery_resources_match_examples(emu, sub):
    gal = (
        f"/subscriptions/{sub}/resourceGroups/rg-images/providers/Microsoft.Compute/"
        "galleries/gal_contoso"
    )
    mine = _get(emu, f"{gal}?{G}")
    _same_keys(mine, _example("galleryExamples/Gallery_Get.json"), optional=set())
    mine = _get(emu, f"{gal}/images/win2022-base?{G}")
    example = _example("galleryExamples/GalleryImage_Get.json")
    _same_keys(mine, example, optional=set())
    assert set(example["properties"]) <= set(mine["properties"])
    mine = _get(emu, f"{gal}/images/win2022-base/versions/1.0.0?{G}&$expand=ReplicationStatus")
    example = _example("galleryExamples/GalleryImageVersion_Get_WithReplicationStatus.json")
    _same_keys(mine, example, optional=set())
    # validationsProfile is in every recorded GET from api-version 2024-03-03 on (azure-cli
    # test_gallery_e2e, 2026), not in the example.
    assert set(mine["properties"]) == set(example["properties"]) | {"validationsProfile"}
    status = mine["properties"]["replicationStatus"]
    assert set(status) == set(example["properties"]["replicationStatus"])
    assert set(status["summary"][0]) == set(
        example["properties"]["replicationStatus"]["summary"][0]
    )
    target = mine["properties"]["publishingProfile"]["targetRegions"][0]
    assert set(target) <= set(example["properties"]["publishingProfile"]["targetRegions"][0])
    listed = _get(emu, f"{gal}/images/win2022-base/versions?{G}")
    assert set(listed) == set(
        _example("galleryExamples/GalleryImageVersion_ListByGalleryImage.json")
    ) - {"nextLink"}


def test_marketplace_matches_examples(emu, sub):
    loc = f"/subscriptions/{sub}/providers/Microsoft.Compute/locations/westeurope"
    publishers = _get(emu, f"{loc}/publishers?{C}")
    assert isinstance(publishers, list)
    minimum = _example(
        "virtualMachineImageExamples/VirtualMachineImage_ListPublishers_MinimumSet_Gen.json"
    )
    assert set(publishers[0]) == set(minimum[0])
    skus = _get(emu, f"{loc}/publishers/bitnami/artifacttypes/vmimage/offers/mysql/skus?{C}")
    # The spec's minimum set, plus the automaticOSUpgradeProperties real listings carry
    # (replayed traffic; the spec has no properties here: docs/emulator-fidelity.md).
    assert set(skus[0]) == set(
        _example("virtualMachineImageExamples/VirtualMachineImage_ListSkus_MinimumSet_Gen.json")[0]
    ) | {"properties"}
    assert skus[0]["properties"] == {
        "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": False}
    }
    version = _get(
        emu,
        f"{loc}/publishers/bitnami/artifacttypes/vmimage/offers/mysql/skus/mysql/"
        f"versions/8.0.39?{C}",
    )
    example = _example("virtualMachineImageExamples/VirtualMachineImage_Get_MaximumSet_Gen.json")
    _same_keys(version, example, optional={"tags", "extendedLocation"})
    # replicaType is in every recorded Marketplace version (azure-cli test_vm_generalize).
    assert set(version["properties"]) <= set(example["properties"]) | {
        "architecture",
        "replicaType",
    }
    assert {"osDiskImage", "hyperVGeneration", "plan"} <= set(version["properties"])


def test_sizes_and_run_command_match_examples(emu, sub, client):
    sizes = _get(
        emu, f"/subscriptions/{sub}/providers/Microsoft.Compute/locations/eastus/vmSizes?{C}"
    )
    example = _example("computeRPCommonExamples/VirtualMachineSizes_List_MaximumSet_Gen.json")
    assert set(sizes) == set(example)
    assert set(sizes["value"][0]) == set(example["value"][0])
    result = client.virtual_machines.begin_run_command(
        PROD_RG, "api-prod-01", m.RunCommandInput(command_id="RunShellScript", script=["echo x"])
    ).result()
    example = _example("runCommandExamples/VirtualMachineRunCommand.json")
    assert set(result.as_dict()) == set(example)
    assert set(result.as_dict()["value"][0]) == set(example["value"][0])
