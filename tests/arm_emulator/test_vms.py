"""Virtual machines through the real SDK: reads, power transitions, rules and messages."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import models as m

from .conftest import PROD_RG, codes, power

RULE = "OperationNotAllowed"


def _error(exc_info: pytest.ExceptionInfo[HttpResponseError]) -> tuple[int, str, str]:
    err = exc_info.value
    return err.status_code, err.error.code, err.error.message


def test_list_all_status_only_carries_properties_and_power_state(client):
    vms = list(client.virtual_machines.list_all(status_only="true"))
    assert len(vms) == 14
    vm = next(v for v in vms if v.name == "web-prod-01")
    assert vm.type == "Microsoft.Compute/virtualMachines"
    assert vm.hardware_profile.vm_size == "Standard_D2s_v5"
    assert vm.storage_profile.os_disk.os_type == "Windows"
    assert vm.storage_profile.image_reference.offer == "WindowsServer"
    assert vm.instance_view.hyper_v_generation == "V2"
    assert "PowerState/running" in codes(vm.instance_view)
    assert vm.tags["costCenter"] == "CC-1001"
    states = {c for v in vms for c in codes(v.instance_view) if c.startswith("PowerState/")}
    assert {
        "PowerState/running",
        "PowerState/stopped",
        "PowerState/deallocated",
        "PowerState/starting",
        "PowerState/stopping",
        "PowerState/deallocating",
    } <= states
    stopped = [v for v in vms if "PowerState/stopped" in codes(v.instance_view)]
    assert len(stopped) >= 3
    assert any("OSState/generalized" in codes(v.instance_view) for v in vms)


def test_plain_list_all_and_list_by_rg_have_no_instance_view(client):
    vms = list(client.virtual_machines.list_all())
    assert vms and all(v.instance_view is None for v in vms)
    in_rg = list(client.virtual_machines.list(PROD_RG))
    assert {v.name for v in in_rg} == {
        "web-prod-01",
        "web-prod-02",
        "web-prod-03",
        "api-prod-01",
        "legacy-app-01",
    }


def test_get_with_instance_view_and_instance_view_endpoint(client):
    vm = client.virtual_machines.get(PROD_RG, "web-prod-01", expand="instanceView")
    assert vm.provisioning_state == "Succeeded"
    assert vm.instance_view.vm_agent.vm_agent_version
    assert vm.instance_view.os_name.startswith("Windows Server 2022")
    assert client.virtual_machines.get(PROD_RG, "web-prod-01").instance_view is None
    view = client.virtual_machines.instance_view(PROD_RG, "legacy-app-01")
    assert codes(view) == ["ProvisioningState/succeeded", "PowerState/deallocated"]
    assert view.vm_agent is None and view.os_name is None
    assert view.disks[0].name.startswith("legacy-app-01_OsDisk")


def test_escaping_probe_tag_survives_round_trip(client):
    vm = client.virtual_machines.get(PROD_RG, "legacy-app-01")
    assert vm.tags["owner"] == "<b>Ops & \"Night\" 'shift'</b>"


def test_power_cycle_to_image_and_gallery_then_start_fails(client, sub):
    vms = client.virtual_machines
    vms.begin_power_off(PROD_RG, "web-prod-01", skip_shutdown=True).result()
    assert power(client, PROD_RG, "web-prod-01") == "PowerState/stopped"
    vms.begin_deallocate(PROD_RG, "web-prod-01").result()
    assert power(client, PROD_RG, "web-prod-01") == "PowerState/deallocated"
    assert vms.generalize(PROD_RG, "web-prod-01") is None
    view = vms.instance_view(PROD_RG, "web-prod-01")
    assert "OSState/generalized" in codes(view)
    vm = vms.get(PROD_RG, "web-prod-01")

    image = client.images.begin_create_or_update(
        PROD_RG,
        "img-web",
        m.Image(
            location="westeurope",
            source_virtual_machine=m.SubResource(id=vm.id),
            hyper_v_generation="V2",
        ),
    ).result()
    assert image.provisioning_state == "Succeeded"
    assert image.storage_profile.os_disk.os_state == "Generalized"

    version = client.gallery_image_versions.begin_create_or_update(
        "rg-images",
        "gal_contoso",
        "win2022-base",
        "2.0.0",
        m.GalleryImageVersion(
            location="westeurope",
            properties=m.GalleryImageVersionProperties(
                publishing_profile=m.GalleryImageVersionPublishingProfile(
                    target_regions=[
                        m.TargetRegion(name="westeurope"),
                        m.TargetRegion(name="eastus"),
                    ]
                ),
                storage_profile=m.GalleryImageVersionStorageProfile(
                    source=m.GalleryArtifactVersionFullSource(virtual_machine_id=vm.id)
                ),
            ),
        ),
    ).result()
    assert version.provisioning_state == "Succeeded"

    with pytest.raises(HttpResponseError) as exc:
        vms.begin_start(PROD_RG, "web-prod-01")
    assert _error(exc) == (
        409,
        RULE,
        "Operation 'Start VM' is not allowed on VM 'web-prod-01' since the VM is generalized.",
    )


def test_start_restart_and_noops(client):
    vms = client.virtual_machines
    vms.begin_start("rg-data-prod", "mongo-prod-01").result()
    assert power(client, "rg-data-prod", "mongo-prod-01") == "PowerState/running"
    vms.begin_restart("rg-data-prod", "mongo-prod-01").result()
    assert power(client, "rg-data-prod", "mongo-prod-01") == "PowerState/running"
    # Azure treats these as no-ops that succeed.
    vms.begin_deallocate(PROD_RG, "legacy-app-01").result()
    assert power(client, PROD_RG, "legacy-app-01") == "PowerState/deallocated"
    vms.begin_power_off(PROD_RG, "web-prod-03").result()
    assert power(client, PROD_RG, "web-prod-03") == "PowerState/stopped"


@pytest.mark.parametrize(
    ("call", "rg", "vm", "message"),
    [
        (
            "generalize",
            PROD_RG,
            "web-prod-01",
            "Operation 'generalize' is not allowed on VM 'web-prod-01' since the VM is running. "
            "Please power off explicitly in case you shut down the VM from inside the guest "
            "operating system.",
        ),
        (
            "begin_restart",
            PROD_RG,
            "legacy-app-01",
            "Operation 'Restart VM' is not allowed on VM 'legacy-app-01' since the VM is either "
            "deallocated or marked to be deallocated.",
        ),
        (
            "begin_power_off",
            PROD_RG,
            "legacy-app-01",
            "Operation 'Power off VM' is not allowed on VM 'legacy-app-01' since the VM is either "
            "deallocated or marked to be deallocated.",
        ),
        (
            "begin_power_off",
            "rg-images",
            "img-win2022-base",
            "Operation 'Power off VM' is not allowed on VM 'img-win2022-base' since the VM is "
            "generalized.",
        ),
        (
            "begin_start",
            "rg-images",
            "img-win2022-base",
            "Operation 'Start VM' is not allowed on VM 'img-win2022-base' since the VM is "
            "generalized.",
        ),
        (
            "begin_start",
            PROD_RG,
            "web-prod-01",
            "Operation 'Start VM' is not allowed on VM 'web-prod-01' since the VM is running.",
        ),
        (
            "begin_start",
            "rg-data-prod",
            "cassandra-prod-01",
            "An ongoing operation is changing power state of Virtual Machine cassandra-prod-01 "
            "to running. Please perform operation start after some time.",
        ),
        (
            "generalize",
            "rg-data-prod",
            "cassandra-prod-01",
            "Operation 'generalize' is not allowed on VM 'cassandra-prod-01' since another "
            "operation is in progress.",
        ),
    ],
)
def test_rules_answer_409_with_exact_messages(client, emu, call, rg, vm, message):
    with pytest.raises(HttpResponseError) as exc:
        getattr(client.virtual_machines, call)(rg, vm)
    assert _error(exc) == (409, RULE, message)
    assert exc.value.response.headers.get("Retry-After") is None


def test_generalized_vm_can_still_be_deallocated(client):
    client.virtual_machines.begin_deallocate("rg-images", "img-win2022-base").result()


def test_image_requires_generalized_vm(client, sub):
    vm = client.virtual_machines.get(PROD_RG, "web-prod-03")
    with pytest.raises(HttpResponseError) as exc:
        client.images.begin_create_or_update(
            PROD_RG,
            "img-x",
            m.Image(location="westeurope", source_virtual_machine=m.SubResource(id=vm.id)),
        )
    assert _error(exc) == (
        409,
        RULE,
        "The operation 'Create Image' requires the Virtual "
        "Machine 'web-prod-03' to be Generalized.",
    )


def test_concurrent_operation_is_refused_until_the_clock_moves(client, emu):
    emu.set_durations(start=5)
    client.virtual_machines.begin_start(PROD_RG, "legacy-app-01", polling=False)
    view = client.virtual_machines.instance_view(PROD_RG, "legacy-app-01")
    assert codes(view) == ["ProvisioningState/updating", "PowerState/starting"]
    assert client.virtual_machines.get(PROD_RG, "legacy-app-01").provisioning_state == "Updating"
    with pytest.raises(HttpResponseError) as exc:
        client.virtual_machines.begin_run_command(
            PROD_RG, "legacy-app-01", m.RunCommandInput(command_id="RunPowerShellScript")
        )
    assert _error(exc) == (
        409,
        RULE,
        "Operation 'Run command' is not allowed on VM "
        "'legacy-app-01' since another operation is in progress.",
    )
    emu.advance(6)
    view = client.virtual_machines.instance_view(PROD_RG, "legacy-app-01")
    assert codes(view)[0] == "ProvisioningState/succeeded"
    assert codes(view)[-1] == "PowerState/running"
    assert view.vm_agent is not None


def test_seeded_transitional_vm_settles_after_its_time(client, emu):
    assert power(client, "rg-build", "build-agent-02") == "PowerState/stopping"
    emu.advance(120)
    assert power(client, "rg-build", "build-agent-02") == "PowerState/stopped"


def test_run_command_sysprep_leaves_vm_stopped_not_generalized(client):
    poller = client.virtual_machines.begin_run_command(
        PROD_RG,
        "web-prod-02",
        m.RunCommandInput(
            command_id="RunPowerShellScript",
            script=[
                "Write-Output 'preparing'",
                r"& $env:WINDIR\system32\sysprep\sysprep.exe /generalize /oobe /shutdown /quiet",
            ],
        ),
    )
    result = poller.result()
    assert result.value[0].code == "ComponentStatus/StdOut/succeeded"
    assert result.value[0].message == "preparing"
    view = client.virtual_machines.instance_view(PROD_RG, "web-prod-02")
    assert codes(view) == ["ProvisioningState/succeeded", "PowerState/stopped"]


def test_run_command_waagent_on_linux_and_plain_script(client):
    client.virtual_machines.begin_run_command(
        PROD_RG,
        "api-prod-01",
        m.RunCommandInput(command_id="RunShellScript", script=["echo hello"]),
    ).result()
    assert power(client, PROD_RG, "api-prod-01") == "PowerState/running"
    client.virtual_machines.begin_run_command(
        PROD_RG,
        "api-prod-01",
        m.RunCommandInput(
            command_id="RunShellScript", script=["sudo waagent -deprovision+user -force"]
        ),
    ).result()
    # waagent -deprovision does not shut the VM down; someone must stop it.
    assert power(client, PROD_RG, "api-prod-01") == "PowerState/running"


def test_run_command_rejects_wrong_command_and_stopped_vm(client):
    with pytest.raises(HttpResponseError) as exc:
        client.virtual_machines.begin_run_command(
            PROD_RG, "api-prod-01", m.RunCommandInput(command_id="RunPowerShellScript")
        )
    assert exc.value.status_code == 400 and exc.value.error.code == "InvalidParameter"
    with pytest.raises(HttpResponseError) as exc:
        client.virtual_machines.begin_run_command(
            PROD_RG,
            "web-prod-03",
            m.RunCommandInput(command_id="RunPowerShellScript", script=["hostname"]),
        )
    assert _error(exc) == (
        409,
        RULE,
        "Operation 'Run command' is not allowed on VM 'web-prod-03' since the VM is not running.",
    )


def test_delete_vm_then_404_with_exact_message(client):
    client.virtual_machines.begin_delete(PROD_RG, "web-prod-03").result()
    with pytest.raises(ResourceNotFoundError) as exc:
        client.virtual_machines.get(PROD_RG, "web-prod-03")
    assert _error(exc) == (
        404,
        "ResourceNotFound",
        "The Resource 'Microsoft.Compute/virtualMachines/web-prod-03' under resource group "
        "'rg-web-prod' was not found. For more details please go to "
        "https://aka.ms/ARMResourceNotFoundFix",
    )


def test_missing_resource_group(client):
    with pytest.raises(ResourceNotFoundError) as exc:
        list(client.virtual_machines.list("rg-nope"))
    assert _error(exc) == (
        404,
        "ResourceGroupNotFound",
        "Resource group 'rg-nope' could not be found.",
    )


def test_available_sizes(client):
    sizes = {
        s.name: s for s in client.virtual_machines.list_available_sizes(PROD_RG, "web-prod-01")
    }
    assert sizes["Standard_B2s"].number_of_cores == 2
    assert sizes["Standard_B2s"].memory_in_mb == 4096
    assert sizes["Standard_DS1_v2"].memory_in_mb == 3584


# --- preemption, repeated power changes, delete in any state, hibernation --------------

PREEMPTED = "Operation execution has been preempted by a more recent operation."


def _preempted(poller) -> HttpResponseError:
    """The error a superseded operation's poller ends with: Canceled/OperationPreempted."""
    with pytest.raises(HttpResponseError) as exc:
        poller.result(timeout=30)
    assert poller.status().lower() == "canceled"
    err = exc.value
    assert (err.status_code, err.error.code, err.error.message) == (
        200,
        "OperationPreempted",
        PREEMPTED,
    )
    return err


def test_delete_preempts_a_pending_start(client, emu):
    emu.set_durations(start=30)
    vms = client.virtual_machines
    starting = vms.begin_start(PROD_RG, "legacy-app-01")
    assert power(client, PROD_RG, "legacy-app-01") == "PowerState/starting"
    assert vms.begin_delete(PROD_RG, "legacy-app-01").result() is None
    _preempted(starting)
    with pytest.raises(ResourceNotFoundError):
        vms.get(PROD_RG, "legacy-app-01")


def test_deleting_a_missing_vm_answers_204_but_a_missing_group_404(client, emu):
    emu.clear_request_log()
    assert client.virtual_machines.begin_delete(PROD_RG, "no-such-vm").result() is None
    assert [(e.method, e.status) for e in emu.request_log()] == [("DELETE", 204)]
    with pytest.raises(ResourceNotFoundError) as exc:
        client.virtual_machines.begin_delete("rg-nope", "web-prod-01")
    assert _error(exc) == (
        404,
        "ResourceGroupNotFound",
        "Resource group 'rg-nope' could not be found.",
    )


def test_power_off_preempts_a_pending_start_and_stops_from_starting(client, emu):
    emu.set_durations(start=30, power_off=5)
    vms = client.virtual_machines
    starting = vms.begin_start(PROD_RG, "legacy-app-01")  # deallocated -> starting
    stopping = vms.begin_power_off(PROD_RG, "legacy-app-01")
    view = vms.instance_view(PROD_RG, "legacy-app-01")
    assert codes(view) == ["ProvisioningState/updating", "PowerState/stopping"]
    _preempted(starting)
    emu.advance(6)
    assert stopping.result(timeout=30) is None
    assert power(client, PROD_RG, "legacy-app-01") == "PowerState/stopped"
    assert vms.get(PROD_RG, "legacy-app-01").provisioning_state == "Succeeded"


def test_hibernating_deallocate_preempts_a_restart_and_start_clears_hibernation(client, emu):
    emu.set_durations(restart=30)
    vms = client.virtual_machines
    restarting = vms.begin_restart(PROD_RG, "web-prod-01")
    vms.begin_deallocate(PROD_RG, "web-prod-01", hibernate=True).result(timeout=30)
    _preempted(restarting)
    view = vms.instance_view(PROD_RG, "web-prod-01")
    assert codes(view) == [
        "ProvisioningState/succeeded",
        "PowerState/deallocated",
        "HibernationState/Hibernated",
    ]
    hibernated = view.statuses[-1]
    assert (hibernated.level, hibernated.display_status) == ("Info", "VM hibernated")
    listed = next(
        v for v in vms.list_all(status_only="true") if v.name == "web-prod-01"
    ).instance_view
    assert "HibernationState/Hibernated" in codes(listed)
    vms.begin_deallocate(PROD_RG, "web-prod-01").result()  # a no-op: still hibernated
    assert "HibernationState/Hibernated" in codes(vms.instance_view(PROD_RG, "web-prod-01"))
    vms.begin_start(PROD_RG, "web-prod-01").result()
    assert codes(vms.instance_view(PROD_RG, "web-prod-01")) == [
        "ProvisioningState/succeeded",
        "PowerState/running",
    ]


def test_plain_deallocate_does_not_hibernate(client):
    client.virtual_machines.begin_deallocate(PROD_RG, "web-prod-01").result()
    assert codes(client.virtual_machines.instance_view(PROD_RG, "web-prod-01")) == [
        "ProvisioningState/succeeded",
        "PowerState/deallocated",
    ]


def test_repeating_a_pending_power_change_gets_the_ongoing_operation_message(client, emu):
    from contoso_images.azure.errors import translate

    emu.set_durations(power_off=30)
    vms = client.virtual_machines
    vms.begin_power_off(PROD_RG, "web-prod-01", polling=False)
    with pytest.raises(HttpResponseError) as exc:
        vms.begin_power_off(PROD_RG, "web-prod-01")
    message = (
        "An ongoing operation is changing power state of Virtual Machine web-prod-01 to "
        "stopped. Please perform operation powerOff after some time."
    )
    assert _error(exc) == (409, RULE, message)
    assert exc.value.response.headers.get("Retry-After") is None
    # The gateway recognises the message (its pattern wants single-word state and action).
    sentence = translate(exc.value).sentence
    assert sentence != message and "web-prod-01" in sentence and "stopped" in sentence
    # A different power change while stopping is still "another operation is in progress".
    with pytest.raises(HttpResponseError) as exc:
        vms.begin_deallocate(PROD_RG, "web-prod-01")
    assert _error(exc) == (
        409,
        RULE,
        "Operation 'Deallocate VM' is not allowed on VM 'web-prod-01' since another "
        "operation is in progress.",
    )
    emu.advance(31)
    assert power(client, PROD_RG, "web-prod-01") == "PowerState/stopped"
