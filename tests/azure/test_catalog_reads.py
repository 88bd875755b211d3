"""Subscriptions, regions, Marketplace, sizes, galleries and images: the read side."""

from __future__ import annotations

import pytest

from contoso_images import azure as gateway
from contoso_images.azure import AzureError
from contoso_images.azure.marketplace import version_key

from .conftest import pick


def test_subscriptions_in_emulator_mode(emulator):
    subs = gateway.subscriptions()
    assert [s.id for s in subs] == emulator.subscription_ids()
    assert all(s.display_name and s.state == "Enabled" for s in subs)


def test_configured_subscriptions_filter_and_keep_order(emulator, settings):
    ids = emulator.subscription_ids()
    settings.AZURE_SUBSCRIPTION_IDS = [*reversed(ids), "ffffffff-0000-0000-0000-000000000000"]
    subs = gateway.subscriptions()
    assert [s.id for s in subs] == settings.AZURE_SUBSCRIPTION_IDS
    assert subs[-1].state == ""


def test_regions(subscription_id):
    regions = gateway.regions(subscription_id)
    names = {r.name: r.display_name for r in regions}
    assert names["westeurope"] == "West Europe"
    assert names["eastus"] == "East US"


def test_marketplace_walk(subscription_id):
    location = "westeurope"
    publishers = gateway.marketplace_publishers(subscription_id, location)
    assert "Canonical" in publishers
    offers = gateway.marketplace_offers(subscription_id, location, "Canonical")
    assert "0001-com-ubuntu-server-jammy" in offers
    skus = gateway.marketplace_skus(
        subscription_id, location, "Canonical", "0001-com-ubuntu-server-jammy"
    )
    assert "22_04-lts-gen2" in skus
    versions = gateway.marketplace_versions(
        subscription_id, location, "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"
    )
    assert versions and versions == sorted(versions, key=version_key, reverse=True)
    image = gateway.marketplace_image(
        subscription_id,
        location,
        "Canonical",
        "0001-com-ubuntu-server-jammy",
        "22_04-lts-gen2",
        versions[0],
    )
    assert (image.os_type, image.hyper_v_generation, image.version) == ("Linux", "V2", versions[0])
    assert image.plan is None and image.image_state in ("Active", "")


def test_marketplace_plan_image(subscription_id):
    versions = gateway.marketplace_versions(
        subscription_id, "westeurope", "resf", "rockylinux-x86_64", "9-base"
    )
    image = gateway.marketplace_image(
        subscription_id, "westeurope", "resf", "rockylinux-x86_64", "9-base", versions[0]
    )
    assert image.plan == {"name": "9-base", "product": "rockylinux-x86_64", "publisher": "resf"}


def test_marketplace_deprecation_and_architecture(subscription_id):
    from datetime import UTC, datetime, timedelta

    def newest(publisher, offer, sku):
        version = gateway.marketplace_versions(subscription_id, "westeurope", publisher, offer, sku)
        return gateway.marketplace_image(
            subscription_id, "westeurope", publisher, offer, sku, version[0]
        )

    centos = newest("OpenLogic", "CentOS", "8_5-gen2")
    assert centos.image_state == "ScheduledForDeprecation"
    deprecation = centos.deprecation
    assert deprecation is not None and deprecation.scheduled_time is not None
    assert deprecation.scheduled_time - datetime.now(UTC) > timedelta(days=20)
    assert (deprecation.alternative_type, deprecation.alternative_value) == (
        "Offer",
        "almalinux-x86_64",
    )
    windows = newest("MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter")
    assert windows.deprecation is not None and windows.deprecation.alternative_type == ""
    arm = newest("microsoftazurelinux", "azurelinux-4", "4-arm64")
    assert (arm.architecture, arm.image_state) == ("Arm64", "Active")


def test_marketplace_not_found(subscription_id):
    with pytest.raises(AzureError) as caught:
        gateway.marketplace_image(
            subscription_id, "westeurope", "Canonical", "no-offer", "no-sku", "1.0.0"
        )
    err = caught.value
    assert (err.code, err.message) == ("NotFound", "Artifact: VMImage was not found.")
    assert err.sentence == "That Marketplace image does not exist in this region."


def test_version_key_sorts_as_integers():
    assert sorted(["9.5.1", "10.0.0", "9.10.0"], key=version_key, reverse=True) == [
        "10.0.0",
        "9.10.0",
        "9.5.1",
    ]


def test_vm_sizes(subscription_id):
    sizes = {s.name: s for s in gateway.vm_sizes(subscription_id, "westeurope")}
    b2s = sizes["Standard_B2s"]
    assert (b2s.cores, b2s.memory_mb, b2s.max_data_disks) == (2, 4096, 4)


def test_seeded_galleries_and_images(subscription_id):
    galleries = gateway.galleries(subscription_id)
    assert galleries
    gallery = galleries[0]
    definitions = gateway.gallery_image_definitions(
        subscription_id, gallery.resource_group, gallery.name
    )
    assert all(d.gallery == gallery.name for d in definitions)
    for definition in definitions:
        versions = gateway.gallery_image_versions(
            subscription_id, gallery.resource_group, gallery.name, definition.name
        )
        assert all(v.definition == definition.name for v in versions)
    images = gateway.managed_images(subscription_id)
    assert all(i.provisioning_state for i in images)


def test_definitions_of_a_missing_gallery(subscription_id, vms):
    with pytest.raises(AzureError) as caught:
        gateway.gallery_image_definitions(subscription_id, vms[0].resource_group, "ghost")
    assert caught.value.is_not_found


def test_version_straight_from_a_generalized_vm(subscription_id, vms):
    vm = pick(vms, power_state="deallocated", generalized=True)
    gallery = gateway.galleries(subscription_id)[0]
    definition = next(
        d
        for d in gateway.gallery_image_definitions(
            subscription_id, gallery.resource_group, gallery.name
        )
        if d.os_type == vm.os_type and d.hyper_v_generation == vm.hyper_v_generation
    )
    token = gateway.gallery_image_version_begin_create(
        subscription_id,
        gallery.resource_group,
        gallery.name,
        definition.name,
        "9.9.9",
        location=gallery.location,
        source_id=vm.id,
        target_regions=[
            gateway.TargetRegion(gallery.location),
            gateway.TargetRegion(
                "northeurope", regional_replica_count=2, storage_account_type="Standard_ZRS"
            ),
        ],
    )
    status = gateway.operation_status(
        "gallery_image_version_create", token, subscription_id=subscription_id, wait_seconds=5
    )
    assert status.state == "succeeded"
    version = gateway.gallery_image_version_get(
        subscription_id, gallery.resource_group, gallery.name, definition.name, "9.9.9"
    )
    assert version.source_id == vm.id
    assert version.replication_state == "Completed"
    assert {r.state for r in version.replication} == {"Completed"}
    assert version.target_regions[1].regional_replica_count == 2
    assert version.target_regions[1].storage_account_type == "Standard_ZRS"


def test_every_cli_alias_resolves_in_the_emulator_with_its_architecture():
    """The catalog's popular list is the CLI's aliases; each must be served (Arm64 as Arm64)."""
    from catalog.aliases import POPULAR
    from contoso_images.arm_emulator.catalog import find_sku

    for alias in POPULAR:
        sku = find_sku(alias.publisher, alias.offer, alias.sku)
        assert sku is not None, alias.alias
        assert (sku.os_type, sku.architecture) == (alias.os_type, alias.architecture), alias.alias
