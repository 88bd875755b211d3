"""Deploying and deleting VMs through the gateway, the real SDK and the emulator."""

from __future__ import annotations

import base64
import logging
import pickle

import pytest

from contoso_images import azure as gateway
from contoso_images.azure import (
    AzureError,
    DataDiskSpec,
    ImageReference,
    VmCreateResult,
    VmCreateSpec,
)

RG = "rg-web-prod"
KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 test@contoso"
PASSWORD = "Cont0so!Deploy#2026"


def _subnet(subscription_id: str, region: str = "westeurope") -> str:
    for vnet in gateway.virtual_networks(subscription_id):
        if vnet.location == region:
            return vnet.subnets[0].id
    raise LookupError(region)


def _linux(subscription_id: str, **changes: object) -> VmCreateSpec:
    spec = VmCreateSpec(
        location="westeurope",
        size="Standard_D2s_v5",
        image=ImageReference(
            publisher="Canonical",
            offer="0001-com-ubuntu-server-jammy",
            sku="22_04-lts-gen2",
            version="latest",
        ),
        os_type="Linux",
        admin_username="azureuser",
        ssh_public_key=KEY,
        subnet_id=_subnet(subscription_id),
        security_type="TrustedLaunch",
        tags={"env": "dev", "owner": "it-ops"},
    )
    from dataclasses import replace

    return replace(spec, **changes)  # type: ignore[arg-type]


def _finish(kind: str, token: str, subscription_id: str) -> object:
    status = gateway.operation_status(kind, token, subscription_id=subscription_id)
    assert status.state == "succeeded", status.error
    return status.result


def test_create_from_marketplace_latest_then_list_and_delete(emulator, subscription_id):
    token = gateway.vm_begin_create(subscription_id, RG, "gw-deploy-01", _linux(subscription_id))
    result = _finish("vm_create", token, subscription_id)
    assert isinstance(result, VmCreateResult)
    assert result.provisioning_state == "Succeeded"
    assert result.exact_version == "22.04.202410020"
    assert result.image_reference is not None and result.image_reference.version == "latest"
    listed = {vm.name: vm for vm in gateway.vm_list_with_power_state(subscription_id)}
    assert listed["gw-deploy-01"].power_state == "running"
    assert listed["gw-deploy-01"].tags == {"env": "dev", "owner": "it-ops"}
    disk = gateway.disk_get(subscription_id, RG, result.os_disk_id.rsplit("/", 1)[1])
    assert disk.managed_by == result.id and disk.state == "Attached"
    assert "Canonical" in disk.image_source_id
    token = gateway.vm_begin_delete(subscription_id, RG, "gw-deploy-01")
    assert _finish("vm_delete", token, subscription_id) is None
    deletes = [e for e in emulator.request_log() if e.method == "DELETE"]
    assert "forceDeletion=false" in deletes[-1].path
    with pytest.raises(AzureError) as caught:
        gateway.vm_get(subscription_id, RG, "gw-deploy-01")
    assert caught.value.is_not_found


def test_create_from_gallery_definition_and_pinned_version(emulator, subscription_id):
    gallery = (
        f"/subscriptions/{subscription_id}/resourceGroups/rg-images/providers/"
        "Microsoft.Compute/galleries/gal_contoso/images/ubuntu2204-base"
    )
    for name, image_id in (("gw-latest", gallery), ("gw-pinned", f"{gallery}/versions/1.0.0")):
        spec = _linux(subscription_id, image=ImageReference(id=image_id), computer_name=name)
        result = _finish(
            "vm_create", gateway.vm_begin_create(subscription_id, RG, name, spec), subscription_id
        )
        assert isinstance(result, VmCreateResult)
        assert result.image_reference is not None and result.image_reference.id == image_id
        assert result.exact_version == ""
        disk = gateway.disk_get(subscription_id, RG, result.os_disk_id.rsplit("/", 1)[1])
        # "latest" is 1.0.0 here: 1.1.0 is excluded from latest until it is reviewed.
        assert disk.image_source_id == f"{gallery}/versions/1.0.0"


def test_create_from_a_plan_image_and_a_managed_image(emulator, subscription_id):
    plan = {"name": "mysql", "product": "mysql", "publisher": "bitnami"}
    spec = _linux(
        subscription_id,
        image=ImageReference(publisher="bitnami", offer="mysql", sku="mysql", version="latest"),
        plan=plan,
        security_type="",
        size="Standard_E2s_v5",
    )
    assert _finish(
        "vm_create", gateway.vm_begin_create(subscription_id, RG, "gw-mysql", spec), subscription_id
    )
    image = (
        f"/subscriptions/{subscription_id}/resourceGroups/rg-images/providers/"
        "Microsoft.Compute/images/img-legacy-app-2016"
    )
    windows = VmCreateSpec(
        location="westeurope",
        size="Standard_D2s_v3",
        image=ImageReference(id=image),
        os_type="Windows",
        admin_username="azureadmin",
        admin_password=PASSWORD,
        computer_name="legacy02",
        subnet_id=_subnet(subscription_id),
        data_disks=(DataDiskSpec(lun=0, size_gb=32, delete_option="Delete"),),
    )
    result = _finish(
        "vm_create",
        gateway.vm_begin_create(subscription_id, RG, "gw-legacy-02", windows),
        subscription_id,
    )
    assert isinstance(result, VmCreateResult) and result.image_reference is not None
    assert result.image_reference.id == image


def test_refusals_come_back_as_azure_errors(emulator, subscription_id):
    cases = [
        (_linux(subscription_id, size="Standard_D1_v2"), "BadRequest"),
        (_linux(subscription_id, size="Standard_D8s_v5"), "SkuNotAvailable"),
        (
            _linux(subscription_id, image=ImageReference(publisher="X", offer="Y", sku="Z")),
            "PlatformImageNotFound",
        ),
        (_linux(subscription_id, ssh_public_key=""), "InvalidParameter"),
    ]
    for spec, code in cases:
        with pytest.raises(AzureError) as caught:
            gateway.vm_begin_create(subscription_id, RG, "gw-refused", spec)
        assert caught.value.code == code, spec
        assert caught.value.sentence
    with pytest.raises(AzureError) as taken:
        gateway.vm_begin_create(subscription_id, RG, "web-prod-01", _linux(subscription_id))
    assert (taken.value.code, taken.value.status_code) == ("PreconditionFailed", 412)
    assert "already exists" in taken.value.sentence


def test_quota_runs_out_in_a_batch_and_usages_say_why(emulator, subscription_id):
    dsv5 = next(
        u
        for u in gateway.compute_usages(subscription_id, "westeurope")
        if u.name == "standardDSv5Family"
    )
    assert (dsv5.current, dsv5.limit, dsv5.available) == (14, 20, 6)
    for i in range(3):
        spec = _linux(subscription_id, computer_name=f"batch{i}")
        gateway.vm_begin_create(subscription_id, RG, f"gw-batch-{i}", spec)
    with pytest.raises(AzureError) as caught:
        gateway.vm_begin_create(subscription_id, RG, "gw-batch-3", _linux(subscription_id))
    assert caught.value.code == "OperationNotAllowed" and caught.value.is_conflict
    assert "standardDSv5Family Cores quota" in caught.value.message
    assert caught.value.sentence == (
        "Not enough vCPU quota (standardDSv5Family Cores) in WestEurope: 20 of 20 in use and 2 "
        "more needed. Ask for a quota increase, or choose another size or region."
    )


def test_a_create_whose_answer_is_lost_is_not_resent(emulator, subscription_id):
    emulator.clear_request_log()
    emulator.queue_fault(method="PUT", path_contains="/gw-lost", status=504, applied=True)
    with pytest.raises(AzureError) as caught:
        gateway.vm_begin_create(subscription_id, RG, "gw-lost", _linux(subscription_id))
    assert caught.value.is_transient
    puts = [e for e in emulator.request_log() if e.method == "PUT"]
    assert [e.applied for e in puts] == [True] and puts[0].lost == "504"
    names = {vm.name for vm in gateway.vm_list_with_power_state(subscription_id)}
    assert "gw-lost" in names  # Azure created it: the engine must look before resending


def test_delete_leaves_detached_disks_listed(emulator, subscription_id):
    spec = _linux(
        subscription_id,
        os_disk_delete_option="Detach",
        data_disks=(
            DataDiskSpec(lun=0, size_gb=64, delete_option="Delete"),
            DataDiskSpec(lun=1, size_gb=16, delete_option="Detach"),
        ),
    )
    result = _finish(
        "vm_create", gateway.vm_begin_create(subscription_id, RG, "gw-disks", spec), subscription_id
    )
    assert isinstance(result, VmCreateResult)
    _finish(
        "vm_delete",
        gateway.vm_begin_delete(subscription_id, RG, "gw-disks", force=True),
        subscription_id,
    )
    left = {
        d.name: d
        for d in gateway.managed_disks(subscription_id, RG)
        if d.name.startswith("gw-disks")
    }
    assert set(left) == {result.os_disk_id.rsplit("/", 1)[1], "gw-disks_DataDisk_1"}
    assert all(d.state == "Unattached" and not d.managed_by for d in left.values())
    token = gateway.disk_begin_delete(subscription_id, RG, "gw-disks_DataDisk_1")
    assert _finish("disk_delete", token, subscription_id) is None
    assert "gw-disks_DataDisk_1" not in {d.name for d in gateway.managed_disks(subscription_id)}


def test_skus_and_networks(emulator, subscription_id):
    skus = {s.name: s for s in gateway.resource_skus(subscription_id, "westeurope")}
    assert skus["Standard_D8s_v5"].restricted
    assert skus["Standard_D8s_v5"].restriction_reason == "NotAvailableForSubscription"
    d1 = skus["Standard_D1_v2"]
    assert (d1.vcpus, d1.memory_gb, d1.hyper_v_generations) == (1, 3.5, ("V1",))
    assert skus["Standard_D2ps_v5"].architecture == "Arm64"
    assert (
        not skus["Standard_D8s_v5"].restricted
        or not gateway.resource_skus(subscription_id, "northeurope")[0].restricted
    )
    vnets = {v.name: v for v in gateway.virtual_networks(subscription_id)}
    weu = vnets["vnet-prod-westeurope"]
    assert weu.resource_group == "rg-network-prod" and weu.address_prefixes == ("10.10.0.0/16",)
    assert [s.name for s in weu.subnets] == ["snet-web", "snet-data", "snet-images"]


def test_the_password_stays_out_of_repr_logs_and_pickles(emulator, subscription_id, caplog):
    spec = _linux(subscription_id, admin_password=PASSWORD, ssh_public_key="")
    assert PASSWORD not in repr(spec)
    with pytest.raises(TypeError):
        pickle.dumps(spec)
    plain = _linux(subscription_id)
    assert pickle.loads(pickle.dumps(plain)) == plain  # noqa: S301 - our own bytes
    with caplog.at_level(logging.DEBUG):
        token = gateway.vm_begin_create(subscription_id, RG, "gw-password", spec)
    assert PASSWORD not in caplog.text
    assert PASSWORD not in base64.b64decode(token).decode()  # the 201 never echoes it
