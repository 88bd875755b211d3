"""What catalog review (issue #9) relies on: updates of image versions and definitions, what
they refuse and how they fail. Each test says where the behaviour comes from;
docs/emulator-fidelity.md lists what is not observed."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import models as m

GAL_RG, GAL = "rg-images", "gal_contoso"


def _patch_version(client, version: str, publishing: dict, **kwargs):
    body = m.GalleryImageVersionUpdate({"properties": {"publishingProfile": publishing}})
    return client.gallery_image_versions.begin_update(
        GAL_RG, GAL, "win2022-base", version, body, **kwargs
    )


def _status(client, version: str):
    return client.gallery_image_versions.get(
        GAL_RG, GAL, "win2022-base", version, expand="ReplicationStatus"
    )


# --- catalog review: updates -------------------------------------------------------------


def test_a_queued_failure_ends_a_version_update_failed(client, emu):
    """queue_operation_failure works for updates as for every long-running operation: the
    200 is sent, the operation ends Failed, the SDK raises HttpResponseError (status 200,
    the poll's). The version keeps what the update wrote, the region it was adding shows
    Failed, and asking again replicates it again (not observed: docs/emulator-fidelity.md)."""
    emu.queue_operation_failure(
        path_contains="/versions/1.1.0",
        code="ReplicationFailed",
        message="Replication to North Europe failed.",
    )
    targets = [{"name": "westeurope"}, {"name": "northeurope"}, {"name": "uksouth"}]
    with pytest.raises(HttpResponseError) as exc:
        _patch_version(
            client, "1.1.0", {"targetRegions": targets, "excludeFromLatest": True}
        ).result()
    assert (exc.value.status_code, exc.value.error.code) == (200, "ReplicationFailed")
    version = _status(client, "1.1.0")
    assert version.provisioning_state == "Failed"
    assert version.publishing_profile.exclude_from_latest is True
    states = {s.region: s.state for s in version.replication_status.summary}
    assert states == {"West Europe": "Completed", "North Europe": "Completed", "UK South": "Failed"}
    assert version.replication_status.aggregated_state == "Failed"
    _patch_version(client, "1.1.0", {"targetRegions": targets}).result()
    version = _status(client, "1.1.0")
    assert version.provisioning_state == "Succeeded"
    assert version.replication_status.aggregated_state == "Completed"


def test_version_update_refuses_what_cannot_change(client):
    """storageAccountType is "not updatable" (SDK 39 model docstrings); a replicated region
    is not removed while safetyProfile.allowDeletionOfReplicatedLocations is false."""
    with pytest.raises(HttpResponseError) as exc:
        _patch_version(client, "1.0.0", {"storageAccountType": "Premium_LRS"})
    assert exc.value.status_code == 400
    assert exc.value.error.message == (
        "Changing property 'galleryImageVersion.properties.publishingProfile."
        "storageAccountType' is not allowed."
    )
    with pytest.raises(HttpResponseError) as exc:
        _patch_version(client, "1.0.0", {"targetRegions": [{"name": "westeurope"}]})
    assert exc.value.status_code == 400 and "allowDeletionOfReplicatedLocations" in (
        exc.value.error.message
    )
    body = m.GalleryImageVersionUpdate(
        {
            "properties": {
                "publishingProfile": {"targetRegions": [{"name": "westeurope"}]},
                "safetyProfile": {"allowDeletionOfReplicatedLocations": True},
            }
        }
    )
    version = client.gallery_image_versions.begin_update(
        GAL_RG, GAL, "win2022-base", "1.0.0", body
    ).result()
    assert [t.name for t in version.publishing_profile.target_regions] == ["West Europe"]


def test_end_of_life_must_be_in_the_future(client):
    """ "EndOfLifeDate must be set to a future date." (Compute Gallery troubleshooting page,
    listed for definitions; versions are assumed to follow)."""
    with pytest.raises(HttpResponseError) as exc:
        _patch_version(client, "1.0.0", {"endOfLifeDate": "2001-01-01T00:00:00Z"})
    assert (exc.value.status_code, exc.value.error.message) == (
        400,
        "EndOfLifeDate must be set to a future date.",
    )


def test_definition_update_by_patch_changes_what_is_updatable(client):
    """gallery_images.begin_update (PATCH, 200 only in SDK 39): description, end of life,
    recommended sizes change; publisher/offer/SKU do not ("Changing property
    'galleryImage.properties.<property>' is not allowed.", troubleshooting page)."""
    update = m.GalleryImageUpdate(
        {
            "properties": {
                "description": "Reviewed",
                "endOfLifeDate": "2099-12-31T00:00:00Z",
                "recommended": {"vCPUs": {"min": 2, "max": 8}},
            }
        }
    )
    definition = client.gallery_images.begin_update(GAL_RG, GAL, "win2022-base", update).result()
    assert definition.description == "Reviewed"
    assert definition.end_of_life_date.year == 2099
    assert definition.recommended.v_cp_us.max == 8
    assert definition.identifier.sku == "2022-base"
    with pytest.raises(HttpResponseError) as exc:
        client.gallery_images.begin_update(
            GAL_RG,
            GAL,
            "win2022-base",
            m.GalleryImageUpdate(
                {
                    "properties": {
                        "identifier": {
                            "publisher": "contoso",
                            "offer": "windows-server",
                            "sku": "2025-base",
                        }
                    }
                }
            ),
        )
    assert exc.value.error.message == (
        "Changing property 'galleryImage.properties.identifier.sku' is not allowed."
    )
