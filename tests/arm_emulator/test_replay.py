"""Recorded Azure traffic replayed through the emulator (see replay.py for how).

Each recording is a real azure-cli scenario test's Microsoft.Compute traffic
(``recordings/*.json``, each with its ``source``). The test seeds what the scenario
started from, replays every interaction it can, and fails on any difference in status,
async headers or body field names. Skipped interactions and tolerated fields are listed
here with their reason, and the number compared is pinned so coverage cannot shrink
silently.
"""

from __future__ import annotations

import pytest

from contoso_images.arm_emulator import Emulator

from .replay import Plan, Replayer, load

SUB = "00000000-0000-0000-0000-000000000000"
NOT_EMULATED_EXTENSIONS = (
    "VM extensions (virtualMachines/extensions) are not emulated: the dashboard never installs one"
)
EXTENSION_FIELDS = (
    "the extension installed by the skipped interactions shows in the VM's resources and "
    "instance view"
)
SIZE_IN_GB = (
    "osDiskImage.sizeInGb is sent for some Marketplace images and not for others "
    "(docs/emulator-fidelity.md); the emulator always sends it"
)

PLANS: dict[str, tuple[Plan, int]] = {
    # Power off, generalize, legacy capture and a managed image of a VHD-disk CentOS VM.
    "test_vm_generalize": (
        Plan(
            subscription=SUB,
            resource_groups=[("cli_test_generalize_vm000001", "westus")],
            marketplace=[
                {
                    "publisher": "OpenLogic",
                    "offer": "CentOS",
                    "sku": "7.5",
                    "version": "7.5.201808150",
                    "os_type": "Linux",
                }
            ],
            seed_vm_from={6: 6},
            tolerate=[({1, 3, 5}, "properties.osDiskImage.sizeInGb", SIZE_IN_GB)],
        ),
        21,
    ),
    # One CentOS VM (VHD disks) through list, stop, start, restart, deallocate, delete.
    "test_vm_create_state_modifications": (
        Plan(
            subscription=SUB,
            resource_groups=[("cli_test_vm_state_mod000001", "eastus")],
            marketplace=[
                {
                    "publisher": "OpenLogic",
                    "offer": "CentOS",
                    "sku": "7.5",
                    "version": "7.5.201808150",
                    "os_type": "Linux",
                }
            ],
            seed_vm_from={7: 7},
            skip={
                **dict.fromkeys(range(12, 21), NOT_EMULATED_EXTENSIONS),
                **dict.fromkeys(
                    range(37, 44),
                    "redeploy is not emulated: the dashboard never moves a VM to another host",
                ),
                50: "VM update (PUT virtualMachines, here a resize) is not emulated: the "
                "dashboard never resizes, and a partial update would pass for a real one",
            },
            tolerate=[
                ({2, 4, 6}, "properties.osDiskImage.sizeInGb", SIZE_IN_GB),
                (set(range(21, 57)), "resources", EXTENSION_FIELDS),
                (set(range(21, 57)), "properties.instanceView.extensions", EXTENSION_FIELDS),
                (
                    set(range(21, 57)),
                    "properties.instanceView.vmAgent.extensionHandlers[]",
                    EXTENSION_FIELDS,
                ),
            ],
        ),
        39,
    ),
    # Gallery, definition, run command, deallocate, generalize, managed image, two
    # versions (one replicated further by an update, one encrypted), VM from the
    # gallery, then everything deleted.
    "test_gallery_e2e": (
        Plan(
            subscription=SUB,
            resource_groups=[("clitest.rg000001", "eastus2")],
            marketplace=[
                {
                    "publisher": "Canonical",
                    "offer": "UbuntuServer",
                    "sku": "18.04-LTS",
                    "version": "18.04.202306070",
                    "os_type": "Linux",
                    "features": {
                        "IsAcceleratedNetworkSupported": "True",
                        "DiskControllerTypes": "SCSI, NVMe",
                        "IsHibernateSupported": "True",
                    },
                }
            ],
            seed_vm_from={16: 16, 70: 70},
            skip=dict.fromkeys(
                range(53, 57),
                "disk encryption sets (DiskRP) are not emulated: the dashboard never "
                "creates one; the version that uses it is still replayed",
            ),
            tolerate=[({11, 13, 15}, "properties.osDiskImage.sizeInGb", SIZE_IN_GB)],
        ),
        79,
    ),
    # The same scenario in 2020 (Compute 2020-06-01, Gallery 2019-12-01 and 2020-09-30):
    # the older api-versions' shapes (no safetyProfile, no architecture, …).
    "test_gallery_e2e_2020": (
        Plan(
            subscription=SUB,
            resource_groups=[("clitest.rg000001", "eastus2")],
            seed_vm_from={10: 10, 108: 108},
            skip=dict.fromkeys(
                range(77, 81),
                "disk encryption sets (DiskRP) are not emulated: the dashboard never "
                "creates one; the version that uses it is still replayed",
            ),
        ),
        117,
    ),
    # Run Command on a Linux VM (2020, api-version 2020-06-01).
    "test_vm_run_command_e2e": (
        Plan(
            subscription=SUB,
            resource_groups=[("cli_test_vm_run_command000001", "westus")],
            seed_vm_from={2: 2},
            skip=dict.fromkeys(
                (0, 1),
                "the run-command catalogue (locations/runCommands) is not emulated: the "
                "dashboard sends RunShellScript and RunPowerShellScript only",
            ),
        ),
        7,
    ),
}


@pytest.mark.parametrize(
    "name", [pytest.param(n, id=f"{n}[{c} compared]") for n, (_, c) in PLANS.items()]
)
def test_recording_replays_without_differences(tmp_path, name):
    plan, expected = PLANS[name]
    recording = load(name)
    emu = Emulator(tmp_path / "replay.sqlite3")
    try:
        outcome = Replayer(emu, recording, plan).run()
    finally:
        emu.store.close()
    assert outcome.differences == [], "\n".join(outcome.differences)
    total = len(recording["interactions"])
    assert len(outcome.compared) + len(outcome.skipped) == total
    assert len(outcome.compared) == expected, outcome.skipped
