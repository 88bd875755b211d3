"""Managed images and the Compute Gallery through the real SDK."""

from __future__ import annotations

import threading

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import models as m

from .conftest import PROD_RG, make_client

GAL_RG, GAL = "rg-images", "gal_contoso"


def _generalized_vm(client):
    return client.virtual_machines.get(GAL_RG, "img-win2022-base")


def _begin_version(client, definition: str, version: str, source: dict, regions: list[str], **kw):
    """PUT a version of ``definition`` in the seeded gallery, replicated to ``regions``."""
    body = m.GalleryImageVersion(
        {
            "location": "westeurope",
            "properties": {
                "publishingProfile": {"targetRegions": [{"name": r} for r in regions]},
                "storageProfile": {"source": source},
            },
        }
    )
    return client.gallery_image_versions.begin_create_or_update(
        GAL_RG, GAL, definition, version, body, **kw
    )


def test_image_lists_get_and_delete(client):
    assert {i.name for i in client.images.list()} >= {
        "img-win2022-base-20241001",
        "img-ubuntu2204-20240915",
        "img-legacy-app-2016",
    }
    assert len(list(client.images.list_by_resource_group(GAL_RG))) == 3
    image = client.images.get(GAL_RG, "img-legacy-app-2016")
    assert image.hyper_v_generation == "V1"
    assert image.storage_profile.os_disk.os_type == "Windows"
    client.images.begin_delete(GAL_RG, "img-legacy-app-2016").result()
    with pytest.raises(ResourceNotFoundError):
        client.images.get(GAL_RG, "img-legacy-app-2016")


def test_image_create_shows_creating_then_succeeded(client, emu):
    emu.set_durations(image_create=8)
    vm = _generalized_vm(client)
    poller = client.images.begin_create_or_update(
        GAL_RG,
        "img-new",
        m.Image(location="westeurope", source_virtual_machine=m.SubResource(id=vm.id)),
        polling=False,
    )
    assert poller.status() == "succeeded"  # NoPolling
    assert client.images.get(GAL_RG, "img-new").provisioning_state == "Creating"
    emu.advance(9)
    image = client.images.get(GAL_RG, "img-new")
    assert image.provisioning_state == "Succeeded"
    assert image.hyper_v_generation == "V2"
    assert image.source_virtual_machine.id == vm.id


def test_image_generation_mismatch_and_bad_name(client):
    vm = _generalized_vm(client)
    with pytest.raises(HttpResponseError) as exc:
        client.images.begin_create_or_update(
            GAL_RG,
            "img-v1",
            m.Image(
                location="westeurope",
                hyper_v_generation="V1",
                source_virtual_machine=m.SubResource(id=vm.id),
            ),
        )
    assert (exc.value.status_code, exc.value.error.code) == (400, "InvalidParameter")
    with pytest.raises(HttpResponseError) as exc:
        client.images.begin_create_or_update(
            GAL_RG,
            "bad name!",
            m.Image(location="westeurope", source_virtual_machine=m.SubResource(id=vm.id)),
        )
    assert (exc.value.status_code, exc.value.error.code) == (400, "InvalidParameter")


def test_gallery_definition_lists_and_create(client):
    assert [g.name for g in client.galleries.list()] == [GAL]
    gallery = client.galleries.get(GAL_RG, GAL)
    unique = gallery.identifier.unique_name
    # <subscription id>-<NAME IN UPPER CASE>, nothing appended: the spec example
    # ("{subscription-id}-MYGALLERYNAME") and test_gallery_e2e, whose gallery
    # "gallery_mdzem5iczawx" came back as "...-GALLERY_MDZEM5ICZAWX".
    assert unique == f"{gallery.id.split('/')[2]}-GAL_CONTOSO"
    assert GAL.upper() == "GAL_CONTOSO"
    defs = {d.name: d for d in client.gallery_images.list_by_gallery(GAL_RG, GAL)}
    assert set(defs) == {"win2022-base", "ubuntu2204-base", "legacy-app"}
    assert defs["win2022-base"].hyper_v_generation == "V2"
    created = client.galleries.begin_create_or_update(
        PROD_RG,
        "gal_web",
        m.Gallery(location="westeurope", properties=m.GalleryProperties(description="d")),
    ).result()
    assert created.provisioning_state == "Succeeded"
    definition = client.gallery_images.begin_create_or_update(
        PROD_RG,
        "gal_web",
        "web-ubuntu",
        m.GalleryImage(
            {
                "location": "westeurope",
                "properties": {
                    "identifier": {"publisher": "contoso", "offer": "web", "sku": "ubuntu2204"},
                    "hyperVGeneration": "V2",
                    "osState": "Generalized",
                    "osType": "Linux",
                    "architecture": "x64",
                },
            }
        ),
    ).result()
    assert definition.provisioning_state == "Succeeded"
    assert definition.identifier.sku == "ubuntu2204"


def test_version_replication_progresses_with_the_clock(client, emu):
    emu.set_durations(gallery_image_version_create=15)
    image_id = client.images.get(GAL_RG, "img-win2022-base-20241001").id
    _begin_version(
        client, "win2022-base", "3.0.0", {"id": image_id}, ["eastus", "West Europe"], polling=False
    )
    emu.advance(5)
    version = client.gallery_image_versions.get(
        GAL_RG, GAL, "win2022-base", "3.0.0", expand="ReplicationStatus"
    )
    assert version.provisioning_state == "Creating"
    status = version.replication_status
    assert status.aggregated_state == "InProgress"
    assert [s.region for s in status.summary] == ["West Europe", "East US"]
    assert status.summary[0].state == "Replicating" and 0 < status.summary[0].progress < 100
    emu.advance(11)
    version = client.gallery_image_versions.get(
        GAL_RG, GAL, "win2022-base", "3.0.0", expand="ReplicationStatus"
    )
    assert version.provisioning_state == "Succeeded"
    assert version.replication_status.aggregated_state == "Completed"
    assert {s.progress for s in version.replication_status.summary} == {100}
    plain = client.gallery_image_versions.get(GAL_RG, GAL, "win2022-base", "3.0.0")
    assert plain.replication_status is None
    names = [
        v.name
        for v in client.gallery_image_versions.list_by_gallery_image(GAL_RG, GAL, "win2022-base")
    ]
    assert names == ["1.0.0", "1.1.0", "3.0.0"]
    client.gallery_image_versions.begin_delete(GAL_RG, GAL, "win2022-base", "3.0.0").result()
    with pytest.raises(ResourceNotFoundError):
        client.gallery_image_versions.get(GAL_RG, GAL, "win2022-base", "3.0.0")


def test_version_must_replicate_to_the_source_region(client):
    vm = _generalized_vm(client)
    with pytest.raises(HttpResponseError) as exc:
        _begin_version(client, "win2022-base", "4.0.0", {"virtualMachineId": vm.id}, ["eastus"])
    assert (exc.value.status_code, exc.value.error.code) == (400, "InvalidParameter")
    assert "West Europe" in exc.value.error.message


def test_version_rejects_bad_name_and_generation_mismatch(client):
    vm = _generalized_vm(client)
    with pytest.raises(HttpResponseError) as exc:
        _begin_version(client, "win2022-base", "v1", {"virtualMachineId": vm.id}, ["westeurope"])
    assert exc.value.error.code == "InvalidParameter"
    with pytest.raises(HttpResponseError) as exc:
        _begin_version(client, "legacy-app", "9.0.0", {"virtualMachineId": vm.id}, ["westeurope"])
    assert (exc.value.status_code, exc.value.error.code) == (400, "BadRequest")
    assert exc.value.error.message == (
        f"The resource with id '{vm.id}' has a different Hypervisor generation ['V2'] than the "
        "parent gallery image Hypervisor generation ['V1']."
    )


def test_parent_resource_not_found(client):
    """Creating under a missing gallery is ARM's ParentResourceNotFound; reading under one
    is ResourceNotFound naming what was asked for (test_missing_definition_is_resource_not_
    found)."""
    with pytest.raises(ResourceNotFoundError) as exc:
        client.gallery_images.begin_create_or_update(GAL_RG, "gal_missing", "d1", _definition())
    assert exc.value.error.code == "ParentResourceNotFound"
    assert exc.value.error.message == (
        "Can not perform requested operation on nested resource. "
        "Parent resource 'gal_missing' not found."
    )
    with pytest.raises(ResourceNotFoundError) as exc:
        list(client.gallery_images.list_by_gallery(GAL_RG, "gal_missing"))
    assert exc.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as exc:
        client.gallery_image_versions.get(GAL_RG, GAL, "win2022-base", "7.7.7")
    assert exc.value.error.code == "ResourceNotFound"


def _definition(sku: str = "ubuntu2204") -> m.GalleryImage:
    return m.GalleryImage(
        {
            "location": "westeurope",
            "properties": {
                "identifier": {"publisher": "contoso", "offer": "web", "sku": sku},
                "hyperVGeneration": "V2",
                "osState": "Generalized",
                "osType": "Linux",
            },
        }
    )


def test_deleting_a_gallery_or_definition_with_children_is_refused(client):
    with pytest.raises(HttpResponseError) as exc:
        client.galleries.begin_delete(GAL_RG, GAL)
    assert (exc.value.status_code, exc.value.error.code) == (409, "CannotDeleteResource")
    with pytest.raises(HttpResponseError) as exc:
        client.gallery_images.begin_delete(GAL_RG, GAL, "win2022-base")
    assert (exc.value.status_code, exc.value.error.code) == (409, "CannotDeleteResource")
    with pytest.raises(ResourceNotFoundError) as exc:
        client.gallery_images.begin_delete(GAL_RG, "gal_missing", "win2022-base")
    assert exc.value.error.code == "ParentResourceNotFound"


def test_a_definition_put_racing_a_gallery_delete_cannot_be_orphaned(emu, sub, monkeypatch):
    """The children check and the delete are one transaction: a PUT that arrives in between
    waits for it, then finds the gallery Deleting and is refused."""
    from contoso_images.arm_emulator import handlers_galleries

    client = make_client(emu, sub)
    client.galleries.begin_create_or_update(
        PROD_RG, "gal_race", m.Gallery(location="westeurope")
    ).result()
    emu.set_durations(delete=5)
    refused: list[HttpResponseError] = []

    def racing_put() -> None:
        racer = make_client(emu, sub, retry_total=0)
        try:
            racer.gallery_images.begin_create_or_update(
                PROD_RG, "gal_race", "def-race", _definition(), polling=False
            )
        except HttpResponseError as exc:
            refused.append(exc)

    racer = threading.Thread(target=racing_put)
    checked = handlers_galleries._children

    def check_then_race(*args):
        found = checked(*args)
        if racer.ident is None:  # first check only
            racer.start()
            racer.join(timeout=0.5)  # an unblocked PUT would have stored its child by now
        return found

    monkeypatch.setattr(handlers_galleries, "_children", check_then_race)
    client.galleries.begin_delete(PROD_RG, "gal_race", polling=False)
    racer.join(timeout=30)
    assert not racer.is_alive()
    assert [(e.status_code, e.error.code) for e in refused] == [(409, "Conflict")]
    emu.advance(6)
    with pytest.raises(ResourceNotFoundError):
        client.galleries.get(PROD_RG, "gal_race")
    # A gallery created again under the same name has no stray definition.
    client.galleries.begin_create_or_update(
        PROD_RG, "gal_race", m.Gallery(location="westeurope")
    ).result()
    assert list(client.gallery_images.list_by_gallery(PROD_RG, "gal_race")) == []


def test_no_version_under_a_definition_being_deleted(client, emu):
    client.gallery_images.begin_create_or_update(GAL_RG, GAL, "tmp-def", _definition()).result()
    emu.set_durations(delete=5)
    client.gallery_images.begin_delete(GAL_RG, GAL, "tmp-def", polling=False)
    image_id = client.images.get(GAL_RG, "img-ubuntu2204-20240915").id
    with pytest.raises(HttpResponseError) as exc:
        _begin_version(client, "tmp-def", "1.0.0", {"id": image_id}, ["westeurope"])
    assert (exc.value.status_code, exc.value.error.code) == (409, "Conflict")
