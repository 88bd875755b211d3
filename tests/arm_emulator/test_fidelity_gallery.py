"""Compute Gallery divergences of issue #8 (1, 4, 5, 6, 7 and the gallery parts of 10),
each checked against the recording or public thread it comes from."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import models as m

from .conftest import PROD_RG

BASE = "https://management.azure.com"
GAL_RG, GAL = "rg-images", "gal_contoso"
ARM_404_HINT = "For more details please go to https://aka.ms/ARMResourceNotFoundFix"


def call(emu: Any, method: str, path: str, api: str, body: Any = None) -> tuple[int, dict, Any]:
    sep = "&" if "?" in path else "?"
    data = None if body is None else json.dumps(body).encode()
    status, headers, raw = emu.handle(method, f"{BASE}{path}{sep}api-version={api}", {}, data)
    return status, headers, json.loads(raw) if raw else None


def gal_path(sub: str, *rest: str, rg: str = GAL_RG) -> str:
    tail = "/".join(rest)
    return (
        f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{GAL}"
        + (f"/{tail}" if tail else "")
    )


def _image_id(client) -> str:
    return client.images.get(GAL_RG, "img-win2022-base-20241001").id


def _create_version(emu, sub, version: str, api: str = "2022-03-03", **profile) -> dict:
    """A version of win2022-base from the seeded managed image, settled."""
    image_id = (
        f"/subscriptions/{sub}/resourceGroups/{GAL_RG}/providers/Microsoft.Compute/images/"
        "img-win2022-base-20241001"
    )
    body = {
        "location": "westeurope",
        "tags": {},
        "properties": {
            "publishingProfile": {"targetRegions": [{"name": "westeurope"}], **profile},
            "storageProfile": {"source": {"id": image_id}},
        },
    }
    status, _, created = call(
        emu, "PUT", gal_path(sub, "images/win2022-base/versions", version), api, body
    )
    assert status == 201, created
    emu.advance(1)
    return created


# --- 1. updating an existing version ---------------------------------------------------


def test_version_update_answers_200_updating_applies_and_replicates(emu, sub):
    """azure-cli test_gallery_e2e #42–#52 (2023-12, api 2022-03-03; same in 2020 and 2026):
    ``az sig image-version update --target-regions westus2=1 eastus2 --replica-count 2``
    is a PUT answered 200 with a capsOperations Azure-AsyncOperation (no Location),
    ``provisioningState: Updating`` and the new regions and counts already in the body
    (a region given without a count gets the new replicaCount); the new region replicates
    for minutes, then the version is Succeeded."""
    emu.set_durations(gallery_image_version_update=300)
    _create_version(emu, sub, "5.0.0")
    path = gal_path(sub, "images/win2022-base/versions/5.0.0")
    status, headers, body = call(
        emu,
        "PUT",
        path,
        "2022-03-03",
        {
            "location": "westeurope",
            "tags": {},
            "properties": {
                "publishingProfile": {
                    "targetRegions": [
                        {"name": "northeurope", "regionalReplicaCount": 1},
                        {"name": "westeurope"},
                    ],
                    "replicaCount": 2,
                    "excludeFromLatest": False,
                    "storageAccountType": "Standard_LRS",
                },
                "storageProfile": {"osDiskImage": {"hostCaching": "ReadWrite"}},
                "safetyProfile": {"allowDeletionOfReplicatedLocations": False},
            },
        },
    )
    assert status == 200
    assert "/capsOperations/" in headers["Azure-AsyncOperation"]
    assert "Location" not in headers
    props = body["properties"]
    assert props["provisioningState"] == "Updating"
    assert props["publishingProfile"]["targetRegions"] == [
        {"name": "North Europe", "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS"},
        {"name": "West Europe", "regionalReplicaCount": 2, "storageAccountType": "Standard_LRS"},
    ]
    assert props["publishingProfile"]["replicaCount"] == 2
    assert props["storageProfile"]["source"]["id"].endswith("/img-win2022-base-20241001")
    emu.advance(60)
    _, _, poll = call(emu, "GET", headers["Azure-AsyncOperation"].split(BASE)[1], "2022-03-03")
    assert poll["status"] == "InProgress"
    _, _, mid = call(emu, "GET", f"{path}?$expand=ReplicationStatus", "2022-03-03")
    states = {s["region"]: s["state"] for s in mid["properties"]["replicationStatus"]["summary"]}
    assert states["North Europe"] == "Replicating"
    emu.advance(300)
    _, _, done = call(emu, "GET", f"{path}?$expand=ReplicationStatus", "2022-03-03")
    assert done["properties"]["provisioningState"] == "Succeeded"
    assert done["properties"]["replicationStatus"]["aggregatedState"] == "Completed"
    assert (
        done["properties"]["publishingProfile"]["publishedDate"]
        == (body["properties"]["publishingProfile"]["publishedDate"])
    )


def test_version_patch_through_the_sdk_excludes_from_latest_and_sets_end_of_life(client, emu):
    """SDK 39 ``gallery_image_versions.begin_update`` is a PATCH that accepts only 200; the
    change is applied and the listing reflects it (the 2023-07-03 spec example
    GalleryImageVersion_Update answers 200 ``Updating``)."""
    emu.set_durations(gallery_image_version_update=30)
    update = m.GalleryImageVersionUpdate(
        {
            "properties": {
                "publishingProfile": {
                    "excludeFromLatest": True,
                    "endOfLifeDate": "2099-01-01T00:00:00Z",
                }
            }
        }
    )
    poller = client.gallery_image_versions.begin_update(
        GAL_RG, GAL, "win2022-base", "1.1.0", update, polling=False
    )
    assert poller.status() == "succeeded"  # NoPolling: the 200 was accepted
    version = client.gallery_image_versions.get(GAL_RG, GAL, "win2022-base", "1.1.0")
    assert version.provisioning_state == "Updating"
    assert version.publishing_profile.exclude_from_latest is True
    assert version.publishing_profile.end_of_life_date.year == 2099
    emu.advance(31)
    listed = {
        v.name: v
        for v in client.gallery_image_versions.list_by_gallery_image(GAL_RG, GAL, "win2022-base")
    }
    assert listed["1.1.0"].publishing_profile.exclude_from_latest is True
    assert listed["1.1.0"].provisioning_state == "Succeeded"
    assert listed["1.0.0"].publishing_profile.exclude_from_latest is False


def test_version_update_cannot_change_its_source(emu, sub):
    """ "Changing property 'galleryImageVersion.properties.storageProfile.source.id' is not
    allowed." (Compute Gallery troubleshooting page)."""
    _create_version(emu, sub, "5.1.0")
    other = (
        f"/subscriptions/{sub}/resourceGroups/{GAL_RG}/providers/Microsoft.Compute/images/"
        "img-legacy-app-2016"
    )
    status, _, body = call(
        emu,
        "PATCH",
        gal_path(sub, "images/win2022-base/versions/5.1.0"),
        "2026-03-03",
        {"properties": {"storageProfile": {"source": {"id": other}}}},
    )
    assert status == 400
    assert body["error"]["message"] == (
        "Changing property 'galleryImageVersion.properties.storageProfile.source.id' is not "
        "allowed."
    )


# --- 4. a VM id in source.id ------------------------------------------------------------


def test_vm_id_in_source_id_is_refused_from_2023_07_03(client, emu, sub):
    """Azure/azure-cli#28700 (CLI 2.59, 2024-04): InvalidParameter, "The gallery image
    version source id: '<vm id>' must be specified in
    'galleryImageVersion.properties.storageProfile.source.virtualMachineId'.". Before
    virtualMachineId existed (api 2022-03-03) Azure accepted it: azure-cli
    test_image_version_create_for_diff_source #13 (2023-12) got 201 and kept the id."""
    vm_id = client.virtual_machines.get(GAL_RG, "img-win2022-base").id
    body = {
        "location": "westeurope",
        "properties": {
            "publishingProfile": {"targetRegions": [{"name": "westeurope"}]},
            "storageProfile": {"source": {"id": vm_id}},
        },
    }
    path = gal_path(sub, "images/win2022-base/versions/6.0.0")
    status, _, refused = call(emu, "PUT", path, "2023-07-03", body)
    assert status == 400
    assert refused["error"] == {
        "code": "InvalidParameter",
        "message": f"The gallery image version source id: '{vm_id}' must be specified in "
        "'galleryImageVersion.properties.storageProfile.source.virtualMachineId'.",
        "target": "galleryImageVersion.properties.storageProfile.source",
    }
    status, _, accepted = call(emu, "PUT", path, "2022-03-03", body)
    assert status == 201
    assert accepted["properties"]["storageProfile"]["source"] == {"id": vm_id}


# --- 5. OS state mismatch -----------------------------------------------------------------


def test_specialized_vm_under_a_generalized_definition_is_bad_request(client, sub):
    """Azure/azure-cli#24972 (2022-12): a VM sysprepped in the guest but not generalized in
    Azure: "(BadRequest) The resource with id '<vm id>' has a different OS state
    ['Specialized'] than the parent gallery image OS state ['Generalized']."."""
    vm_id = client.virtual_machines.get(PROD_RG, "web-prod-01").id
    body = m.GalleryImageVersion(
        {
            "location": "westeurope",
            "properties": {
                "publishingProfile": {"targetRegions": [{"name": "westeurope"}]},
                "storageProfile": {"source": {"virtualMachineId": vm_id}},
            },
        }
    )
    with pytest.raises(HttpResponseError) as exc:
        client.gallery_image_versions.begin_create_or_update(
            GAL_RG, GAL, "win2022-base", "7.0.0", body
        )
    assert (exc.value.status_code, exc.value.error.code) == (400, "BadRequest")
    assert exc.value.error.message == (
        f"The resource with id '{vm_id}' has a different OS state ['Specialized'] than the "
        "parent gallery image OS state ['Generalized']."
    )


# --- 6. missing definition / gallery in another resource group ----------------------------


def test_definition_looked_up_in_the_wrong_group_is_resource_not_found(client, emu, sub):
    """Azure/azure-cli#25148: the CLI looked the definition up in the VM's resource group:
    "(ResourceNotFound) The Resource 'Microsoft.Compute/galleries/kvscblsig01/images/
    BuildAgent' under resource group 'MyResourceGroup3' was not found. For more details
    please go to https://aka.ms/ARMResourceNotFoundFix" (404, x-ms-failure-cause: gateway,
    as in every recorded ARM 404)."""
    with pytest.raises(ResourceNotFoundError) as exc:
        client.gallery_images.get(PROD_RG, GAL, "win2022-base")
    assert exc.value.status_code == 404
    assert exc.value.error.code == "ResourceNotFound"
    assert exc.value.error.message == (
        f"The Resource 'Microsoft.Compute/galleries/{GAL}/images/win2022-base' under resource "
        f"group '{PROD_RG}' was not found. {ARM_404_HINT}"
    )
    assert exc.value.response.headers["x-ms-failure-cause"] == "gateway"
    with pytest.raises(ResourceNotFoundError) as exc:
        client.gallery_image_versions.get(GAL_RG, GAL, "win2022-base", "9.9.9")
    assert exc.value.error.message == (
        f"The Resource 'Microsoft.Compute/galleries/{GAL}/images/win2022-base/versions/9.9.9' "
        f"under resource group '{GAL_RG}' was not found. {ARM_404_HINT}"
    )


# --- 7. deleting a gallery with children ---------------------------------------------------


def test_deleting_a_gallery_or_definition_with_children_names_them(client):
    """Today's wording, with provider-relative ids inside one pair of quotes:
    gardenlinux/gardenlinux#2036 (gallery with a definition) and jenkins-infra/azure#1544
    (definition with versions, HTTP 409)."""
    with pytest.raises(HttpResponseError) as exc:
        client.galleries.begin_delete(GAL_RG, GAL)
    assert (exc.value.status_code, exc.value.error.code) == (409, "CannotDeleteResource")
    assert exc.value.error.message == (
        "Cannot delete resource while nested resources exist. Some existing nested resource "
        f"IDs include: 'Microsoft.Compute/galleries/{GAL}/images/win2022-base, "
        f"Microsoft.Compute/galleries/{GAL}/images/ubuntu2204-base, "
        f"Microsoft.Compute/galleries/{GAL}/images/legacy-app'. Please delete all nested "
        "resources before deleting this resource."
    )
    with pytest.raises(HttpResponseError) as exc:
        client.gallery_images.begin_delete(GAL_RG, GAL, "win2022-base")
    assert exc.value.status_code == 409
    assert (
        f"'Microsoft.Compute/galleries/{GAL}/images/win2022-base/versions/1.0.0, "
        f"Microsoft.Compute/galleries/{GAL}/images/win2022-base/versions/1.1.0'"
    ) in exc.value.error.message


# --- 10. gallery bodies --------------------------------------------------------------------


def test_new_version_has_no_disk_images_until_ready(emu, sub):
    """test_gallery_e2e #30 → #39 (2023-12): the 201 storageProfile is only the source;
    the ready version adds osDiskImage (source: {}) and, for a source with data disks,
    dataDiskImages; no replicationMode; publishedDate ``…+00:00`` with 7 digits, equal to
    the operation's startTime; safetyProfile without blockDeletionBeforeEndOfLife."""
    created = _create_version(emu, sub, "8.0.0")
    props = created["properties"]
    assert props["storageProfile"].keys() == {"source"}
    assert "replicationMode" not in props["publishingProfile"]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00", props["publishingProfile"]["publishedDate"]
    )
    assert props["safetyProfile"] == {
        "reportedForPolicyViolation": False,
        "allowDeletionOfReplicatedLocations": False,
    }
    assert props["publishingProfile"]["targetRegions"] == [
        {"name": "West Europe", "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS"}
    ]
    _, _, ready = call(
        emu, "GET", gal_path(sub, "images/win2022-base/versions/8.0.0"), "2022-03-03"
    )
    assert ready["properties"]["storageProfile"]["osDiskImage"] == {
        "sizeInGB": 127,
        "hostCaching": "ReadWrite",
        "source": {},
    }
    assert "dataDiskImages" not in ready["properties"]["storageProfile"]


@pytest.mark.parametrize(
    ("api", "validations", "safety"),
    [("2019-12-01", False, False), ("2022-03-03", False, True), ("2024-03-03", True, True)],
)
def test_version_fields_follow_the_api_version(emu, sub, api, validations, safety):
    """validationsProfile {validationOperationStatus: NotExecuted} appears with api
    2024-03-03 (azure-cli test_gallery_e2e recorded 2026-04), not with 2022-03-03 (2023)
    nor 2019-12-01 (2020, which has no safetyProfile either)."""
    _, _, body = call(emu, "GET", gal_path(sub, "images/win2022-base/versions/1.0.0"), api)
    props = body["properties"]
    assert ("validationsProfile" in props) is validations
    if validations:
        assert props["validationsProfile"] == {"validationOperationStatus": "NotExecuted"}
    assert ("safetyProfile" in props) is safety


def test_update_response_has_no_validations_profile(emu, sub):
    """test_gallery_e2e (2026, api 2024-03-03): the 200 of the update PUT has no
    validationsProfile while the GETs before and after have it."""
    path = gal_path(sub, "images/win2022-base/versions/1.0.0")
    status, _, body = call(
        emu, "PATCH", path, "2024-03-03", {"properties": {"publishingProfile": {"replicaCount": 2}}}
    )
    assert status == 200 and "validationsProfile" not in body["properties"]
    emu.advance(60)
    assert "validationsProfile" in call(emu, "GET", path, "2024-03-03")[2]["properties"]


def test_gallery_without_tags_has_no_tags_key_and_lists_upper_case_groups(emu, sub):
    """test_gallery_e2e (2026): ``{"location": "eastus2"}`` gives a gallery with no tags
    key (older CLIs sent ``tags: {}`` and got it back); every recorded gallery list shows
    the resource group upper-cased in ids while a GET echoes it as requested."""
    path = (
        f"/subscriptions/{sub}/resourceGroups/{PROD_RG}/providers/Microsoft.Compute/"
        "galleries/gal_untagged"
    )
    status, headers, body = call(emu, "PUT", path, "2024-03-03", {"location": "eastus2"})
    assert status == 201 and "tags" not in body
    assert "/capsOperations/" in headers["Azure-AsyncOperation"] and "Location" not in headers
    _, _, listed = call(
        emu,
        "GET",
        f"/subscriptions/{sub}/resourceGroups/{PROD_RG}/providers/Microsoft.Compute/galleries",
        "2021-10-01",
    )
    assert [g["id"].split("/")[4] for g in listed["value"]] == [PROD_RG.upper()]
    assert call(emu, "GET", path, "2021-10-01")[2]["id"].split("/")[4] == PROD_RG


def test_gallery_and_definition_updates_answer_200_updating(client, emu, sub):
    """azure-cli test_gallery_soft_delete #42 (2023-12): ``az sig update`` is a PUT
    answered 200 + Azure-AsyncOperation, ``provisioningState: Updating``. Definitions
    follow the same rule (the Compute readme: "PATCH and PUT follow the same behavior and
    response codes in Compute"); their OS state cannot change."""
    status, headers, body = call(
        emu,
        "PUT",
        gal_path(sub),
        "2021-10-01",
        {"location": "westeurope", "tags": {}, "properties": {"description": "new"}},
    )
    assert (status, body["properties"]["provisioningState"]) == (200, "Updating")
    assert body["properties"]["description"] == "new" and "Azure-AsyncOperation" in headers
    emu.advance(10)
    definition = client.gallery_images.begin_update(
        GAL_RG,
        GAL,
        "ubuntu2204-base",
        m.GalleryImageUpdate({"properties": {"description": "Ubuntu base, reviewed"}}),
    ).result()
    assert definition.description == "Ubuntu base, reviewed"
    assert definition.provisioning_state == "Succeeded"
    assert definition.os_state == "Generalized"
    status, _, refused = call(
        emu,
        "PATCH",
        gal_path(sub, "images/ubuntu2204-base"),
        "2026-03-03",
        {"properties": {"osState": "Specialized"}},
    )
    assert status == 400
    assert refused["error"]["message"] == (
        "Changing property 'galleryImage.properties.osState' is not allowed."
    )
