"""The gateway's catalog additions through the real SDK and the emulator: version updates
(PATCH), what the reads now carry, "latest" in the Marketplace, deprecation parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contoso_images import azure as gateway
from contoso_images.azure.images import image_from_raw
from contoso_images.azure.marketplace import marketplace_image_from_raw

GALLERY = ("rg-images", "gal_contoso")


def _status(subscription_id, token, kind="gallery_image_version_update"):
    return gateway.operation_status(kind, token, subscription_id=subscription_id, wait_seconds=5)


def test_patch_excludes_a_version_from_latest_and_back(emulator, subscription_id):
    emulator.clear_request_log()
    token = gateway.gallery_image_version_begin_update(
        subscription_id, *GALLERY, "win2022-base", "1.1.0", exclude_from_latest=True
    )
    log = emulator.request_log()
    assert [(e.method, e.status) for e in log] == [("PATCH", 200)]  # begin_update takes 200 only
    assert gateway.accepted_operation_id(token)
    status = _status(subscription_id, token)
    assert status.state == "succeeded"
    assert isinstance(status.result, gateway.GalleryImageVersion)
    assert status.result.exclude_from_latest is True
    version = gateway.gallery_image_version_get(subscription_id, *GALLERY, "win2022-base", "1.1.0")
    assert version.exclude_from_latest is True
    assert version.provisioning_state == "Succeeded"
    listed = {
        v.name: v for v in gateway.gallery_image_versions(subscription_id, *GALLERY, "win2022-base")
    }
    assert listed["1.1.0"].exclude_from_latest is True  # listings reflect it too
    back = gateway.gallery_image_version_begin_update(
        subscription_id, *GALLERY, "win2022-base", "1.1.0", exclude_from_latest=False
    )
    assert _status(subscription_id, back).result.exclude_from_latest is False


def test_patch_sets_an_end_of_life_and_keeps_the_rest(emulator, subscription_id):
    eol = datetime(2031, 6, 30, 12, 0, tzinfo=UTC)
    token = gateway.gallery_image_version_begin_update(
        subscription_id, *GALLERY, "legacy-app", "1.0.0", end_of_life_date=eol
    )
    version = _status(subscription_id, token).result
    assert version.end_of_life_date == eol
    assert version.exclude_from_latest is False  # not sent, not changed
    assert [r.name for r in version.target_regions] == ["West Europe", "UK South"]


def test_patch_with_nothing_to_change_is_a_programming_error(subscription_id):
    with pytest.raises(ValueError, match="nothing to update"):
        gateway.gallery_image_version_begin_update(subscription_id, *GALLERY, "legacy-app", "1.0.0")


def test_patch_of_a_missing_version_is_not_found(subscription_id):
    with pytest.raises(gateway.AzureError) as caught:
        gateway.gallery_image_version_begin_update(
            subscription_id, *GALLERY, "legacy-app", "9.9.9", exclude_from_latest=True
        )
    assert caught.value.is_not_found


def test_a_version_created_excluded_from_latest(emulator, subscription_id):
    image = next(
        i for i in gateway.managed_images(subscription_id) if i.name == "img-legacy-app-2016"
    )
    token = gateway.gallery_image_version_begin_create(
        subscription_id,
        *GALLERY,
        "legacy-app",
        "1.1.0",
        location="westeurope",
        source_id=image.id,
        target_regions=[gateway.TargetRegion("westeurope", exclude_from_latest=True)],
        exclude_from_latest=True,
        end_of_life_date=datetime(2032, 1, 1, tzinfo=UTC),
    )
    assert _status(subscription_id, token, "gallery_image_version_create").state == "succeeded"
    version = gateway.gallery_image_version_get(subscription_id, *GALLERY, "legacy-app", "1.1.0")
    assert version.exclude_from_latest is True
    assert version.target_regions[0].exclude_from_latest is True
    assert version.end_of_life_date == datetime(2032, 1, 1, tzinfo=UTC)


def test_version_reads_carry_the_catalog_fields(subscription_id):
    listed = gateway.gallery_image_versions(subscription_id, *GALLERY, "win2022-base")
    assert listed and not any(v.replication_read for v in listed)
    version = gateway.gallery_image_version_get(subscription_id, *GALLERY, "win2022-base", "1.0.0")
    assert version.replication_read
    assert version.replica_count == 1
    assert version.storage_account_type == "Standard_LRS"
    assert version.published_date is not None
    assert {t.regional_replica_count for t in version.target_regions} == {1}
    assert version.os_disk_size_gb


def test_definition_get_and_its_fields(subscription_id):
    definition = gateway.gallery_image_definition_get(subscription_id, *GALLERY, "win2022-base")
    assert (definition.publisher, definition.offer, definition.sku) == (
        "contoso",
        "windows-server",
        "2022-base",
    )
    assert (definition.os_type, definition.hyper_v_generation, definition.architecture) == (
        "Windows",
        "V2",
        "x64",
    )
    assert definition.end_of_life_date is None


def test_definition_features_and_plan_from_raw():
    from contoso_images.azure.galleries import definition_from_raw

    raw = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d",
        "name": "d",
        "location": "westeurope",
        "properties": {
            "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
            "osType": "Linux",
            "osState": "Generalized",
            "hyperVGeneration": "V2",
            "endOfLifeDate": "2030-01-01T00:00:00+00:00",
            "features": [
                {"name": "SecurityType", "value": "TrustedLaunchSupported"},
                {"name": "IsAcceleratedNetworkSupported", "value": "True"},
            ],
            "purchasePlan": {"name": "9-base", "product": "rockylinux-x86_64", "publisher": "resf"},
        },
    }
    definition = definition_from_raw(raw)
    assert definition.security_type == "TrustedLaunchSupported"
    assert definition.features[1] == ("IsAcceleratedNetworkSupported", "True")
    assert definition.purchase_plan == {
        "name": "9-base",
        "product": "rockylinux-x86_64",
        "publisher": "resf",
    }
    assert definition.end_of_life_date == datetime(2030, 1, 1, tzinfo=UTC)
    assert definition.gallery == "g"


def test_managed_image_sources_from_raw():
    raw = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/i",
        "name": "i",
        "location": "westeurope",
        "systemData": {"createdAt": "2026-01-02T03:04:05Z"},
        "properties": {
            "storageProfile": {
                "osDisk": {
                    "osType": "Linux",
                    "osState": "Generalized",
                    "snapshot": {"id": "/subscriptions/s/.../snapshots/snap1"},
                    "diskSizeGB": 30,
                    "storageAccountType": "Premium_LRS",
                },
                "zoneResilient": True,
            },
            "hyperVGeneration": "V2",
            "provisioningState": "Succeeded",
        },
    }
    image = image_from_raw(raw)
    assert image.source_vm_id == ""
    assert image.source_id == "/subscriptions/s/.../snapshots/snap1"
    assert (image.os_disk_size_gb, image.storage_account_type, image.zone_resilient) == (
        30,
        "Premium_LRS",
        True,
    )
    assert image.time_created == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_managed_image_from_the_emulator(subscription_id):
    image = next(
        i for i in gateway.managed_images(subscription_id) if i.name == "img-legacy-app-2016"
    )
    assert image.source_id == image.source_vm_id
    assert image.storage_account_type


def test_marketplace_latest_is_one_small_request(emulator, subscription_id):
    emulator.clear_request_log()
    latest = gateway.marketplace_latest_version(
        subscription_id, "westeurope", "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"
    )
    versions = gateway.marketplace_versions(
        subscription_id, "westeurope", "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"
    )
    assert latest == versions[0]
    first = emulator.request_log()[0].path
    assert "$top=1" in first and "orderby" in first.lower()


def test_marketplace_image_fields(subscription_id):
    image = gateway.marketplace_image(
        subscription_id,
        "westeurope",
        "Canonical",
        "0001-com-ubuntu-server-jammy",
        "22_04-lts-gen2",
        "latest",
    )
    assert image.security_type.startswith("TrustedLaunch")  # from the SecurityType feature
    assert image.architecture == "x64"
    assert image.deprecation is not None and image.deprecation.state == "Active"
    assert image.urn.startswith("Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:")


def test_marketplace_deprecation_and_alternative_from_raw():
    raw = {
        "name": "9600.21620.241004",
        "location": "westeurope",
        "properties": {
            "osDiskImage": {"operatingSystem": "Windows", "sizeInGb": 127},
            "hyperVGeneration": "V1",
            "architecture": "x64",
            "plan": None,
            "imageDeprecationStatus": {
                "imageState": "ScheduledForDeprecation",
                "scheduledDeprecationTime": "2026-12-31T00:00:00+00:00",
                "alternativeOption": {"type": "Offer", "value": "WindowsServer2022"},
            },
        },
    }
    image = marketplace_image_from_raw(
        raw,
        publisher="MicrosoftWindowsServer",
        offer="WindowsServer",
        sku="2012-R2-Datacenter",
        version="latest",
        location="westeurope",
    )
    assert image.image_state == "ScheduledForDeprecation"
    assert image.deprecation.scheduled_time == datetime(2026, 12, 31, tzinfo=UTC)
    assert (image.deprecation.alternative_type, image.deprecation.alternative_value) == (
        "Offer",
        "WindowsServer2022",
    )
    assert image.plan is None and image.os_disk_size_gb == 127
    assert image.version == "9600.21620.241004"


def test_accepted_operation_id_of_a_foreign_token_is_empty():
    assert gateway.accepted_operation_id("not a token") == ""
