"""VM create and delete through the real SDK: image kinds, Azure's refusals with their codes
and sentences, the cascade of a delete, networks, disks, Resource SKUs, usages, terms."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient

from contoso_images.arm_emulator import Emulator
from contoso_images.azure.emulator_transport import EmulatorTransport, StaticCredential

from .conftest import PROD_RG

GAL = "/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/gal_contoso/images"
KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 test@contoso"
PASSWORD = "Cont0so!Deploy#2026"


@pytest.fixture
def net(emu: Emulator, sub: str) -> NetworkManagementClient:
    return NetworkManagementClient(StaticCredential(), sub, transport=EmulatorTransport(emu))


def subnet(sub: str, region: str = "westeurope", name: str = "snet-web") -> str:
    vnet = f"vnet-prod-{region}"
    return (
        f"/subscriptions/{sub}/resourceGroups/rg-network-prod/providers/Microsoft.Network/"
        f"virtualNetworks/{vnet}/subnets/{name}"
    )


def linux_body(sub: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location": "westeurope",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {
                "imageReference": {
                    "publisher": "Canonical",
                    "offer": "0001-com-ubuntu-server-jammy",
                    "sku": "22_04-lts-gen2",
                    "version": "latest",
                },
                "osDisk": {"createOption": "FromImage", "deleteOption": "Delete"},
            },
            "osProfile": {
                "computerName": "deploy01",
                "adminUsername": "azureuser",
                "linuxConfiguration": {
                    "disablePasswordAuthentication": True,
                    "ssh": {
                        "publicKeys": [
                            {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": KEY}
                        ]
                    },
                },
            },
            "networkProfile": {
                "networkApiVersion": "2020-11-01",
                "networkInterfaceConfigurations": [
                    {
                        "name": "nic",
                        "properties": {
                            "primary": True,
                            "deleteOption": "Delete",
                            "ipConfigurations": [
                                {"name": "ipconfig1", "properties": {"subnet": {"id": subnet(sub)}}}
                            ],
                        },
                    }
                ],
            },
        },
    }
    for path, value in over.items():
        target = body
        keys = path.split("__")
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = value
    return body


def windows_body(sub: str, **over: Any) -> dict[str, Any]:
    body = linux_body(sub)
    body["properties"]["storageProfile"]["imageReference"] = {
        "publisher": "MicrosoftWindowsServer",
        "offer": "WindowsServer",
        "sku": "2022-datacenter-g2",
        "version": "latest",
    }
    body["properties"]["osProfile"] = {
        "computerName": "win01",
        "adminUsername": "azureadmin",
        "adminPassword": PASSWORD,
    }
    for path, value in over.items():
        target = body
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return body


def refused(call: Any) -> tuple[int | None, str, str]:
    with pytest.raises(HttpResponseError) as exc:
        call()
    err = exc.value
    return err.status_code, err.error.code, err.error.message


def create(client: ComputeManagementClient, name: str, body: dict[str, Any], rg: str = PROD_RG):
    return client.virtual_machines.begin_create_or_update(rg, name, body).result()


# --- creating ------------------------------------------------------------------------------


def test_marketplace_latest_answers_201_creating_then_running(client, emu, sub, net):
    emu.set_durations(vm_create=10)
    emu.clear_request_log()
    poller = client.virtual_machines.begin_create_or_update(
        PROD_RG, "deploy-01", linux_body(sub), polling=False
    )
    first = emu.request_log()[0]
    assert (first.method, first.status) == ("PUT", 201)
    initial = poller._polling_method._initial_response.http_response
    assert "Azure-AsyncOperation" in initial.headers and "Location" not in initial.headers
    created = initial.json()["properties"]
    assert created["provisioningState"] == "Creating"
    assert "exactVersion" not in created["storageProfile"]["imageReference"]
    assert created["storageProfile"]["osDisk"]["osType"] == "Linux"
    assert "adminPassword" not in created["osProfile"]
    view = client.virtual_machines.instance_view(PROD_RG, "deploy-01")
    assert [s.code for s in view.statuses] == ["ProvisioningState/creating", "PowerState/starting"]
    with pytest.raises(ResourceExistsError) as busy:
        client.virtual_machines.begin_start(PROD_RG, "deploy-01")
    assert "another operation is in progress" in busy.value.error.message
    emu.advance(11)
    vm = client.virtual_machines.get(PROD_RG, "deploy-01", expand="instanceView")
    assert vm.provisioning_state == "Succeeded"
    assert [s.code for s in vm.instance_view.statuses] == [
        "ProvisioningState/succeeded",
        "PowerState/running",
    ]
    ref = vm.as_dict()["properties"]["storageProfile"]["imageReference"]
    assert ref["version"] == "latest" and ref["exactVersion"] == "22.04.202410020"
    listed = {v.name for v in client.virtual_machines.list_all(status_only="true")}
    assert "deploy-01" in listed
    nic = net.network_interfaces.get(PROD_RG, "deploy-01-nic")
    assert nic.virtual_machine.id == vm.id
    assert nic.ip_configurations[0].subnet.id == subnet(sub)
    client.virtual_machines.begin_power_off(PROD_RG, "deploy-01").result()
    assert client.virtual_machines.instance_view(PROD_RG, "deploy-01").statuses[1].code == (
        "PowerState/stopped"
    )


def test_windows_with_password_keeps_it_out_of_every_answer(client, emu, sub):
    vm = create(client, "win-deploy-01", windows_body(sub))
    raw = vm.as_dict()
    assert PASSWORD not in str(raw)
    assert raw["properties"]["osProfile"]["windowsConfiguration"]["provisionVMAgent"] is True
    stored = emu.store.conn().execute("SELECT body || emu FROM resources").fetchall()
    assert stored and not any(PASSWORD in row[0] for row in stored)


def test_pinned_marketplace_version_and_plan_with_accepted_terms(client, sub):
    body = linux_body(sub)
    body["properties"]["storageProfile"]["imageReference"] = {
        "publisher": "bitnami",
        "offer": "mysql",
        "sku": "mysql",
        "version": "8.0.39",
    }
    body["properties"]["securityProfile"] = None
    body["plan"] = {"name": "mysql", "product": "mysql", "publisher": "bitnami"}
    body["properties"]["hardwareProfile"]["vmSize"] = "Standard_E2s_v5"
    body["properties"].pop("securityProfile")
    vm = create(client, "mysql-02", body)
    assert vm.plan.name == "mysql"
    assert vm.as_dict()["properties"]["storageProfile"]["imageReference"]["exactVersion"] == (
        "8.0.39"
    )


def test_gallery_definition_means_latest_and_the_disk_names_the_version(client, sub):
    body = windows_body(sub)
    definition = f"/subscriptions/{sub}{GAL}/win2022-base"
    body["properties"]["storageProfile"]["imageReference"] = {"id": definition}
    vm = create(client, "from-gallery-01", body)
    ref = vm.as_dict()["properties"]["storageProfile"]["imageReference"]
    assert ref == {"id": definition}
    disk_name = vm.storage_profile.os_disk.name
    disk = client.disks.get(PROD_RG, disk_name).as_dict()
    assert disk["properties"]["creationData"]["galleryImageReference"]["id"] == (
        f"{definition}/versions/1.1.0"
    )
    assert disk["managedBy"] == vm.id


def test_gallery_pinned_version_and_managed_image(client, sub):
    body = linux_body(sub)
    version = f"/subscriptions/{sub}{GAL}/ubuntu2204-base/versions/1.0.0"
    body["properties"]["storageProfile"]["imageReference"] = {"id": version}
    assert create(client, "from-version-01", body).provisioning_state == "Succeeded"
    win = windows_body(sub)
    image = (
        f"/subscriptions/{sub}/resourceGroups/rg-images/providers/Microsoft.Compute/"
        "images/img-legacy-app-2016"
    )
    win["properties"]["storageProfile"]["imageReference"] = {"id": image}
    win["properties"]["hardwareProfile"]["vmSize"] = "Standard_D2s_v3"
    vm = create(client, "from-image-01", win)
    assert vm.as_dict()["properties"]["storageProfile"]["imageReference"] == {"id": image}


def test_existing_nic_is_attached_and_a_taken_name_is_refused(client, emu, sub, net):
    net.network_interfaces.begin_create_or_update(
        PROD_RG,
        "spare-nic",
        {
            "location": "westeurope",
            "properties": {
                "ipConfigurations": [
                    {"name": "ipconfig1", "properties": {"subnet": {"id": subnet(sub)}}}
                ]
            },
        },
    ).result()
    nic_id = net.network_interfaces.get(PROD_RG, "spare-nic").id
    body = linux_body(sub)
    body["properties"]["networkProfile"] = {
        "networkInterfaces": [{"id": nic_id, "properties": {"deleteOption": "Detach"}}]
    }
    vm = create(client, "on-spare-nic", body)
    assert net.network_interfaces.get(PROD_RG, "spare-nic").virtual_machine.id == vm.id
    # The same name again, create-only: 412, the VM is untouched.
    status, code, _ = refused(
        lambda: client.virtual_machines.begin_create_or_update(
            PROD_RG, "on-spare-nic", body, match_condition=MatchConditions.IfMissing
        )
    )
    assert (status, code) == (412, "PreconditionFailed")
    # A different image on the same name: Azure's PropertyChangeNotAllowed.
    other = copy.deepcopy(body)
    other["properties"]["storageProfile"]["imageReference"]["sku"] = "22_04-lts"
    assert refused(lambda: create(client, "on-spare-nic", other)) == (
        409,
        "PropertyChangeNotAllowed",
        "Changing property 'imageReference' is not allowed.",
    )


# --- refusals ------------------------------------------------------------------------------


def test_marketplace_image_not_found(client, sub):
    body = linux_body(sub)
    body["properties"]["storageProfile"]["imageReference"]["sku"] = "no-such-sku"
    assert refused(lambda: create(client, "x", body)) == (
        404,
        "PlatformImageNotFound",
        "The platform image 'Canonical:0001-com-ubuntu-server-jammy:no-such-sku:latest' is not "
        "available. Verify that all fields in the storage profile are correct. For more details "
        "about storage profile information, please refer to https://aka.ms/storageprofile",
    )


def test_managed_image_in_another_region(client, sub):
    body = windows_body(sub)
    image = (
        f"/subscriptions/{sub}/resourceGroups/rg-images/providers/Microsoft.Compute/"
        "images/img-legacy-app-2016"
    )
    body["location"] = "northeurope"
    body["properties"]["storageProfile"]["imageReference"] = {"id": image}
    body["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["properties"][
        "ipConfigurations"
    ][0]["properties"]["subnet"]["id"] = subnet(sub, "northeurope", "snet-build")
    assert refused(lambda: create(client, "x", body)) == (
        404,
        "NotFound",
        f"The Image '{image}' cannot be found in 'northeurope' region.",
    )


def test_gallery_version_not_replicated_to_the_region(client, sub):
    body = linux_body(sub, location="northeurope")
    version = f"/subscriptions/{sub}{GAL}/ubuntu2204-base/versions/1.0.0"
    body["properties"]["storageProfile"]["imageReference"] = {"id": version}
    status, code, message = refused(lambda: create(client, "x", body))
    assert (status, code) == (404, "GalleryImageNotFound")
    assert message == (
        f'"The gallery image {version} is not available in northeurope region. Please contact '
        'image owner to replicate to this region, or change your requested region."'
    )


def test_gen2_image_on_a_gen1_size(client, sub):
    body = linux_body(sub)
    body["properties"]["hardwareProfile"]["vmSize"] = "Standard_D1_v2"
    status, code, message = refused(lambda: create(client, "x", body))
    assert (status, code) == (400, "BadRequest")
    assert message.startswith(
        "The selected VM size 'Standard_D1_v2' cannot boot Hypervisor Generation '2'."
    )


def test_plan_missing_and_terms_not_accepted(client, emu, sub):
    body = linux_body(sub)
    body["properties"]["storageProfile"]["imageReference"] = {
        "publisher": "bitnami",
        "offer": "rabbitmq",
        "sku": "rabbitmq",
        "version": "latest",
    }
    body["properties"]["hardwareProfile"]["vmSize"] = "Standard_E2s_v5"
    status, code, message = refused(lambda: create(client, "rabbit-01", body))
    assert (status, code) == (400, "VMMarketplaceInvalidInput")
    assert "requires Plan information in the request" in message
    body["plan"] = {"name": "rabbitmq", "product": "rabbitmq", "publisher": "bitnami"}
    status, code, message = refused(lambda: create(client, "rabbit-01", body))
    assert (status, code) == (400, "ResourcePurchaseValidationFailed")
    assert f"You have not accepted the legal terms on this subscription: '{sub}'" in message
    # Accepting the terms as `az vm image terms accept` does lets the same request through.
    emu.handle(
        "PUT",
        f"https://management.azure.com/subscriptions/{sub}/providers/Microsoft.MarketplaceOrdering"
        "/offerTypes/virtualmachine/publishers/bitnami/offers/rabbitmq/plans/rabbitmq/agreements/"
        "current?api-version=2021-01-01",
        {},
        b'{"properties": {"accepted": true}}',
    )
    assert create(client, "rabbit-01", body).provisioning_state == "Succeeded"


@pytest.mark.parametrize("name", ["win-computer-name-too-long", "123456"])
def test_windows_computer_name(client, sub, name):
    body = windows_body(sub, properties__osProfile__computerName=name)
    status, code, message = refused(lambda: create(client, "win-x", body))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith("Windows computer name cannot be more than 15 characters long")


@pytest.mark.parametrize("password", ["short1!", "alllowercaseletters", "P@ssw0rd"])
def test_password_complexity(client, sub, password):
    body = windows_body(sub, properties__osProfile__adminPassword=password)
    status, code, message = refused(lambda: create(client, "win-x", body))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith("The supplied password must be between 8-123 characters long")


def test_linux_without_key_or_password(client, sub):
    body = linux_body(sub)
    body["properties"]["osProfile"]["linuxConfiguration"] = {"disablePasswordAuthentication": True}
    assert refused(lambda: create(client, "x", body)) == (
        400,
        "InvalidParameter",
        "Authentication using either SSH or by user name and password must be enabled in Linux "
        "profile.",
    )


def test_size_restricted_in_the_region(client, sub):
    body = linux_body(sub)
    body["properties"]["hardwareProfile"]["vmSize"] = "Standard_D8s_v5"
    status, code, message = refused(lambda: create(client, "big-01", body))
    assert (status, code) == (409, "SkuNotAvailable")
    assert message.startswith("The requested size for resource '")
    assert f"location 'westeurope' for subscription '{sub}'" in message


def test_family_quota_runs_out_in_a_batch(client, sub):
    """Production has 14 of 20 DSv5 vCPUs in West Europe: three D2s_v5 fit, the fourth not."""
    for i in range(3):
        body = linux_body(sub)
        body["properties"]["osProfile"]["computerName"] = f"batch{i}"
        create(client, f"batch-{i}", body)
    status, code, message = refused(lambda: create(client, "batch-3", linux_body(sub)))
    assert (status, code) == (409, "OperationNotAllowed")
    assert message.startswith(
        "Operation could not be completed as it results in exceeding approved "
        "standardDSv5Family Cores quota. Additional details - Deployment Model: Resource "
        "Manager, Location: WestEurope, Current Limit: 20, Current Usage: 20, Additional "
        "Required: 2, (Minimum) New Limit Required: 22."
    )


def test_regional_quota(client, emu):
    dev = emu.subscription_ids()[1]
    emu.set_quota(dev, "eastus", "cores", 6)
    body = linux_body(dev, location="eastus")
    body["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["properties"][
        "ipConfigurations"
    ][0]["properties"]["subnet"]["id"] = (
        f"/subscriptions/{dev}/resourceGroups/rg-network-dev/providers/Microsoft.Network/"
        "virtualNetworks/vnet-dev-eastus/subnets/snet-dev"
    )
    dev_client = ComputeManagementClient(StaticCredential(), dev, transport=EmulatorTransport(emu))
    status, code, message = refused(lambda: create(dev_client, "x", body, rg="rg-dev"))
    assert (status, code) == (409, "OperationNotAllowed")
    assert "exceeding approved Total Regional Cores quota" in message
    assert "Current Limit: 6, Current Usage: 5, Additional Required: 2" in message


def test_subnet_missing_or_in_another_region(client, sub):
    body = linux_body(sub)
    ip = body["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["properties"][
        "ipConfigurations"
    ][0]["properties"]
    ip["subnet"]["id"] = subnet(sub, "northeurope", "snet-build")
    status, code, message = refused(lambda: create(client, "x", body))
    assert (status, code) == (400, "InvalidResourceReference")
    assert message.startswith(f"Resource {subnet(sub, 'northeurope', 'snet-build')} referenced")


def test_trusted_launch_rules(client, emu, sub):
    body = linux_body(sub)
    body["properties"]["storageProfile"]["imageReference"]["sku"] = "22_04-lts"  # Gen1
    body["properties"]["securityProfile"] = {"securityType": "TrustedLaunch"}
    status, code, message = refused(lambda: create(client, "x", body))
    assert (status, code) == (400, "BadRequest")
    assert message.startswith("Use of TrustedLaunch setting is not supported")
    # A gallery definition that requires Trusted Launch refuses a Standard VM.
    definition = client.gallery_images.get("rg-images", "gal_contoso", "ubuntu2204-base").as_dict()
    definition["properties"]["features"] = [{"name": "SecurityType", "value": "TrustedLaunch"}]
    definition["properties"]["allowUpdateImage"] = True
    client.gallery_images.begin_create_or_update(
        "rg-images", "gal_contoso", "ubuntu2204-base", definition
    ).result()
    std = linux_body(sub)
    std["properties"]["storageProfile"]["imageReference"] = {
        "id": f"/subscriptions/{sub}{GAL}/ubuntu2204-base/versions/1.0.0"
    }
    std["properties"]["securityProfile"] = {"securityType": "Standard"}
    assert refused(lambda: create(client, "x", std)) == (
        400,
        "BadRequest",
        "The provided gallery image only supports creation of VMs and VM Scale Sets with "
        "'TrustedLaunch' security type.",
    )


# --- deleting ------------------------------------------------------------------------------


def _disk_names(client, rg: str = PROD_RG) -> dict[str, str]:
    return {
        d.name: str(d.as_dict()["properties"]["diskState"])
        for d in client.disks.list_by_resource_group(rg)
    }


def test_delete_cascades_by_delete_option(client, emu, sub, net):
    body = linux_body(sub)
    body["properties"]["storageProfile"]["dataDisks"] = [
        {"lun": 0, "createOption": "Empty", "diskSizeGB": 64, "deleteOption": "Delete"},
        {"lun": 1, "createOption": "Empty", "diskSizeGB": 32, "deleteOption": "Detach"},
    ]
    vm = create(client, "cascade-01", body)
    before = _disk_names(client)
    assert {"cascade-01_DataDisk_0", "cascade-01_DataDisk_1"} <= set(before)
    emu.clear_request_log()
    client.virtual_machines.begin_delete(PROD_RG, "cascade-01", force_deletion=False).result()
    first = emu.request_log()[0]
    assert first.status == 202 and "forceDeletion=false" in first.path
    with pytest.raises(ResourceNotFoundError):
        client.virtual_machines.get(PROD_RG, "cascade-01")
    after = _disk_names(client)
    assert vm.storage_profile.os_disk.name not in after
    assert "cascade-01_DataDisk_0" not in after
    assert after["cascade-01_DataDisk_1"] == "Unattached"
    assert "cascade-01-nic" not in {n.name for n in net.network_interfaces.list(PROD_RG)}
    assert "cascade-01" not in {
        v.name for v in client.virtual_machines.list_all(status_only="true")
    }


def test_delete_with_detach_keeps_disk_and_nic(client, sub, net):
    body = linux_body(sub)
    body["properties"]["storageProfile"]["osDisk"]["deleteOption"] = "Detach"
    body["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["properties"][
        "deleteOption"
    ] = "Detach"
    vm = create(client, "keep-01", body)
    client.virtual_machines.begin_delete(PROD_RG, "keep-01", force_deletion=False).result()
    disk = client.disks.get(PROD_RG, vm.storage_profile.os_disk.name)
    assert disk.managed_by is None and str(disk.as_dict()["properties"]["diskState"]) == (
        "Unattached"
    )
    nic = net.network_interfaces.get(PROD_RG, "keep-01-nic")
    assert nic.virtual_machine is None
    client.disks.begin_delete(PROD_RG, disk.name).result()
    net.network_interfaces.begin_delete(PROD_RG, "keep-01-nic").result()
    with pytest.raises(ResourceNotFoundError):
        client.disks.get(PROD_RG, disk.name)


def test_seeded_vm_delete_takes_its_seeded_disk_and_nic(client, net):
    vm = client.virtual_machines.get(PROD_RG, "web-prod-01")
    disk = vm.storage_profile.os_disk.name
    assert client.disks.get(PROD_RG, disk).managed_by == vm.id
    status, code, message = refused(lambda: client.disks.begin_delete(PROD_RG, disk))
    assert (status, code) == (409, "OperationNotAllowed")
    assert message == f"Disk {disk} is attached to VM {vm.id}."
    status, code, _ = refused(
        lambda: net.network_interfaces.begin_delete(PROD_RG, "web-prod-01-nic")
    )
    assert (status, code) == (400, "NicInUse")
    client.virtual_machines.begin_delete(PROD_RG, "web-prod-01").result()
    with pytest.raises(ResourceNotFoundError):
        client.disks.get(PROD_RG, disk)


def test_delete_refused_while_a_creation_runs_and_answers_retry_after_10(client, emu, sub):
    emu.set_durations(vm_create=30)
    client.virtual_machines.begin_create_or_update(
        PROD_RG, "slow-01", linux_body(sub), polling=False
    )
    with pytest.raises(ResourceExistsError) as exc:
        client.virtual_machines.begin_delete(PROD_RG, "slow-01")
    assert exc.value.error.message == (
        "Operation 'Delete VM' is not allowed on VM 'slow-01' since another operation is in "
        "progress."
    )
    emu.advance(31)
    status, head, _ = emu.handle(
        "DELETE",
        f"https://management.azure.com/subscriptions/{sub}/resourceGroups/{PROD_RG}/providers/"
        "Microsoft.Compute/virtualMachines/slow-01?api-version=2026-04-01&forceDeletion=false",
        {},
        None,
    )
    assert status == 202 and head["Retry-After"] == "10"


# --- reads ---------------------------------------------------------------------------------


def test_networks_through_the_network_sdk(net, sub):
    vnets = {v.name: v for v in net.virtual_networks.list_all()}
    assert set(vnets) == {
        "vnet-prod-westeurope",
        "vnet-prod-northeurope",
        "vnet-prod-eastus",
        "vnet-prod-uksouth",
    }
    assert [s.name for s in vnets["vnet-prod-westeurope"].subnets] == [
        "snet-web",
        "snet-data",
        "snet-images",
    ]
    assert [v.name for v in net.virtual_networks.list("rg-network-prod")] == list(vnets)
    assert net.subnets.get("rg-network-prod", "vnet-prod-westeurope", "snet-web").address_prefix
    nic = net.network_interfaces.get(PROD_RG, "web-prod-01-nic")
    assert nic.ip_configurations[0].private_ip_address.startswith("10.10.")


def test_resource_skus_and_usages(client):
    skus = {s.name: s for s in client.resource_skus.list(filter="location eq 'westeurope'")}
    d2 = skus["Standard_D2s_v5"]
    caps = {c.name: c.value for c in d2.capabilities}
    assert (d2.family, caps["vCPUs"], caps["MemoryGB"], caps["HyperVGenerations"]) == (
        "standardDSv5Family",
        "2",
        "8",
        "V1,V2",
    )
    assert skus["Standard_D8s_v5"].restrictions[0].reason_code == "NotAvailableForSubscription"
    assert not skus["Standard_D2s_v5"].restrictions
    usage = {u.name.value: u for u in client.usage.list("westeurope")}
    assert (usage["standardDSv5Family"].current_value, usage["standardDSv5Family"].limit) == (
        14,
        20,
    )
    assert usage["cores"].name.localized_value == "Total Regional vCPUs"
