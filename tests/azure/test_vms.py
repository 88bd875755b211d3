"""VM listing, detail and the lifecycle path, through the real SDK against the emulator."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from contoso_images import azure as gateway
from contoso_images.azure import AzureError, VirtualMachine, VirtualMachineDetail

from .conftest import pick

LIST_ALL = "/providers/Microsoft.Compute/virtualMachines"


def _list_requests(emulator) -> list:
    """Log entries of subscription-wide VM list requests (entry paths carry the query)."""
    return [
        e
        for e in emulator.request_log()
        if e.method == "GET" and e.path.split("?")[0].endswith(f"/{emulator_sub(e)}{LIST_ALL}")
    ]


def emulator_sub(entry) -> str:
    return entry.path.split("/")[2]


def test_list_has_every_power_state_as_plain_strings(vms):
    assert vms and all(isinstance(vm, VirtualMachine) for vm in vms)
    states = {vm.power_state for vm in vms}
    assert {"running", "stopped", "deallocated"} <= states
    assert states <= {
        "running",
        "starting",
        "stopping",
        "stopped",
        "deallocating",
        "deallocated",
        "unknown",
    }
    for vm in vms:
        assert vm.name and vm.id.endswith(f"/virtualMachines/{vm.name}")
        assert vm.resource_group and vm.subscription_id
        assert "." not in vm.size  # never "VirtualMachineSizeTypes.STANDARD_B2_S"
        assert vm.os_type in ("Windows", "Linux", "")


def test_list_is_one_paged_call_across_pages(emulator, subscription_id):
    extra = 250
    emulator.seed_contoso_pilot(extra_vms=extra)
    emulator.clear_request_log()
    listed = gateway.vm_list_with_power_state(subscription_id)
    requests = _list_requests(emulator)
    page_size = emulator.page_size
    assert len(listed) > page_size  # really several pages
    assert len(requests) == math.ceil(len(listed) / page_size)
    assert len({vm.id for vm in listed}) == len(listed)
    assert len(emulator.request_log()) == len(requests)  # nothing but the list requests
    assert all("statusOnly=true" in e.path for e in requests)  # the string "true", not "True"


def test_iter_yields_the_same_vms(subscription_id, vms):
    assert [vm.id for vm in gateway.iter_vms_with_power_state(subscription_id)] == [
        vm.id for vm in vms
    ]


def test_vm_get_detail(subscription_id, vms):
    running = pick(vms, power_state="running")
    detail = gateway.vm_get(subscription_id, running.resource_group, running.name)
    assert isinstance(detail, VirtualMachineDetail)
    assert detail.vm.id == running.id
    assert detail.vm.power_state == "running"
    assert detail.vm.size and detail.vm.location
    assert detail.vm.os_type in ("Windows", "Linux")
    assert detail.vm.image_reference is not None and detail.vm.image_reference.label
    assert isinstance(detail.vm.time_created, datetime)
    assert any(s.code == "PowerState/running" for s in detail.statuses)
    assert [d.kind for d in detail.disks][:1] == ["os"]
    assert detail.network_interface_ids


def test_vm_get_not_found(subscription_id, vms):
    rg = vms[0].resource_group
    with pytest.raises(AzureError) as caught:
        gateway.vm_get(subscription_id, rg, "no-such-vm")
    err = caught.value
    assert err.code == "ResourceNotFound" and err.status_code == 404 and err.is_not_found
    assert err.message.startswith(
        f"The Resource 'Microsoft.Compute/virtualMachines/no-such-vm' under resource group '{rg}'"
    )
    assert err.sentence == f"VM 'no-such-vm' was not found in resource group '{rg}'."
    assert err.request_id


def test_vm_get_resource_group_not_found(subscription_id):
    with pytest.raises(AzureError) as caught:
        gateway.vm_get(subscription_id, "rg-nope", "vm")
    assert caught.value.code == "ResourceGroupNotFound"
    assert caught.value.message == "Resource group 'rg-nope' could not be found."
    assert (
        caught.value.sentence == "Resource group 'rg-nope' does not exist (or you cannot see it)."
    )


def _settle(kind: str, token: str, subscription_id: str) -> gateway.OperationStatus:
    status = gateway.operation_status(kind, token, subscription_id=subscription_id, wait_seconds=5)
    assert status.state == "succeeded", status.error
    return status


def test_whole_capture_path(emulator, subscription_id, vms):
    """running → power off → stopped → deallocate → deallocated → generalize → image + version."""
    vm = pick(vms, power_state="running")
    rg, name = vm.resource_group, vm.name

    token = gateway.vm_begin_power_off(subscription_id, rg, name)
    assert isinstance(token, str) and token
    _settle("vm_power_off", token, subscription_id)
    assert gateway.vm_get(subscription_id, rg, name).vm.power_state == "stopped"

    _settle(
        "vm_deallocate", gateway.vm_begin_deallocate(subscription_id, rg, name), subscription_id
    )
    assert gateway.vm_get(subscription_id, rg, name).vm.power_state == "deallocated"

    assert gateway.vm_generalize(subscription_id, rg, name) is None
    detail = gateway.vm_get(subscription_id, rg, name)
    assert detail.vm.generalized and detail.vm.power_state == "deallocated"
    assert any(s.code == "OSState/generalized" for s in detail.statuses)

    generation = detail.vm.hyper_v_generation or "V2"
    token = gateway.image_begin_create_from_vm(
        subscription_id,
        rg,
        f"{name}-image",
        vm_id=vm.id,
        location=vm.location,
        hyper_v_generation=generation,
    )
    image = _settle("image_create", token, subscription_id).result
    assert isinstance(image, gateway.ManagedImage)
    assert image.name == f"{name}-image" and image.source_vm_id.lower() == vm.id.lower()
    assert image.provisioning_state == "Succeeded"
    assert gateway.managed_image_get(subscription_id, rg, image.name) == image
    assert image.id in {i.id for i in gateway.managed_images(subscription_id)}

    gallery_token = gateway.gallery_begin_create(
        subscription_id, rg, "capturegal", location=vm.location
    )
    gallery = _settle("gallery_create", gallery_token, subscription_id).result
    assert isinstance(gallery, gateway.Gallery) and gallery.name == "capturegal"
    token = gateway.gallery_image_definition_begin_create(
        subscription_id,
        rg,
        "capturegal",
        "webapp",
        location=vm.location,
        publisher="contoso",
        offer="webapp",
        sku=name,
        os_type=vm.os_type or detail.vm.os_type,
        hyper_v_generation=generation,
    )
    definition = _settle("gallery_image_definition_create", token, subscription_id).result
    assert isinstance(definition, gateway.GalleryImageDefinition)
    assert (definition.gallery, definition.name, definition.os_state) == (
        "capturegal",
        "webapp",
        "Generalized",
    )

    token = gateway.gallery_image_version_begin_create(
        subscription_id,
        rg,
        "capturegal",
        "webapp",
        "1.0.0",
        location=vm.location,
        source_id=image.id,
        target_regions=[gateway.TargetRegion(vm.location)],
    )
    version = _settle("gallery_image_version_create", token, subscription_id).result
    assert isinstance(version, gateway.GalleryImageVersion)
    assert (version.gallery, version.definition, version.name) == ("capturegal", "webapp", "1.0.0")
    assert version.source_id.lower() == image.id.lower()
    fetched = gateway.gallery_image_version_get(
        subscription_id, rg, "capturegal", "webapp", "1.0.0"
    )
    assert fetched.provisioning_state == "Succeeded"
    assert fetched.replication_state in ("Completed", "InProgress")
    assert fetched.replication and fetched.target_regions[0].name

    with pytest.raises(AzureError) as caught:
        gateway.vm_begin_start(subscription_id, rg, name)
    err = caught.value
    assert (err.code, err.status_code) == ("OperationNotAllowed", 409)
    assert (
        err.message
        == f"Operation 'Start VM' is not allowed on VM '{name}' since the VM is generalized."
    )
    assert "can never be started again" in err.sentence


def test_generalize_while_running_is_refused(subscription_id, vms):
    vm = pick(vms, power_state="running")
    with pytest.raises(AzureError) as caught:
        gateway.vm_generalize(subscription_id, vm.resource_group, vm.name)
    err = caught.value
    assert err.code == "OperationNotAllowed" and err.is_conflict
    assert err.message.startswith(
        f"Operation 'generalize' is not allowed on VM '{vm.name}' since the VM is running."
    )
    assert err.sentence == (
        f"Azure refused 'generalize' because VM '{vm.name}' is running. "
        "Stop (power off) or deallocate the VM first."
    )


def test_image_from_a_vm_that_is_not_generalized(subscription_id, vms):
    vm = pick(vms, power_state="deallocated")
    token = None
    with pytest.raises(AzureError) as caught:
        token = gateway.image_begin_create_from_vm(
            subscription_id,
            vm.resource_group,
            "img",
            vm_id=vm.id,
            location=vm.location,
            hyper_v_generation="V2",
        )
    assert token is None
    err = caught.value
    assert err.code == "OperationNotAllowed"
    expected = f"The operation 'Create Image' requires the Virtual Machine '{vm.name}' to be"
    assert err.message == f"{expected} Generalized."
    assert "is not generalized" in err.sentence


def test_concurrent_operation_is_refused(emulator, subscription_id, vms):
    emulator.set_durations(all=30)
    vm = pick(vms, power_state="running")
    gateway.vm_begin_power_off(subscription_id, vm.resource_group, vm.name)
    with pytest.raises(AzureError) as caught:
        gateway.vm_begin_restart(subscription_id, vm.resource_group, vm.name)
    err = caught.value
    assert err.code == "OperationNotAllowed" and err.is_conflict
    assert err.message == (
        f"Operation 'Restart VM' is not allowed on VM '{vm.name}' since another operation is in "
        "progress."
    )
    assert err.sentence == (
        f"Azure refused 'Restart VM' because another operation is still running on VM "
        f"'{vm.name}'. Wait for it to finish, then try again."
    )


def test_start_and_restart(subscription_id, vms):
    vm = pick(vms, power_state="deallocated")
    _settle(
        "vm_start",
        gateway.vm_begin_start(subscription_id, vm.resource_group, vm.name),
        subscription_id,
    )
    assert gateway.vm_get(subscription_id, vm.resource_group, vm.name).vm.power_state == "running"
    _settle(
        "vm_restart",
        gateway.vm_begin_restart(subscription_id, vm.resource_group, vm.name),
        subscription_id,
    )
    assert gateway.vm_get(subscription_id, vm.resource_group, vm.name).vm.power_state == "running"


@pytest.mark.parametrize("os_type", ["Windows", "Linux"])
def test_run_command_generalizes_in_guest(subscription_id, vms, os_type):
    vm = next((v for v in vms if v.power_state == "running" and v.os_type == os_type), None)
    if vm is None:
        detail_vms = [
            gateway.vm_get(subscription_id, v.resource_group, v.name).vm
            for v in vms
            if v.power_state == "running"
        ]
        vm = next(v for v in detail_vms if v.os_type == os_type)
    token = gateway.vm_begin_run_command(
        subscription_id, vm.resource_group, vm.name, os_type=os_type
    )
    status = _settle("vm_run_command", token, subscription_id)
    assert isinstance(status.result, tuple)
    assert all(isinstance(s, gateway.InstanceStatus) for s in status.result)


def test_run_command_needs_a_known_os(subscription_id, vms):
    with pytest.raises(ValueError, match="os_type"):
        gateway.vm_begin_run_command(subscription_id, "rg", "vm", os_type="BeOS")
