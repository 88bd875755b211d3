"""What capture (issue #10) relies on: generalize, the sources a managed image or a gallery
version may come from, and what creating one again answers. Run Command shapes are in
test_fidelity_compute.py. Each test says where the behaviour comes from;
docs/emulator-fidelity.md lists what is not observed."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import models as m

from .conftest import PROD_RG

GAL_RG, GAL = "rg-images", "gal_contoso"


# --- capture ------------------------------------------------------------------------------


def test_generalizing_twice_answers_200_again(client):
    """Generalize is synchronous: 200, empty body (recorded). A second call on a VM already
    generalized answers 200 and changes nothing (not observed)."""
    client.virtual_machines.generalize(GAL_RG, "img-win2022-base")
    view = client.virtual_machines.instance_view(GAL_RG, "img-win2022-base")
    assert [s.code for s in view.statuses][0] == "OSState/generalized"


def test_version_from_a_running_specialized_vm_is_allowed(client):
    """ "You can capture an image from both specialized and generalized VMs" (image-version
    documentation): a running VM into a Specialized definition is accepted."""
    client.gallery_images.begin_create_or_update(
        GAL_RG,
        GAL,
        "web-specialized",
        m.GalleryImage(
            {
                "location": "westeurope",
                "properties": {
                    "identifier": {"publisher": "contoso", "offer": "web", "sku": "live"},
                    "osType": "Windows",
                    "osState": "Specialized",
                    "hyperVGeneration": "V2",
                },
            }
        ),
    ).result()
    vm = client.virtual_machines.get(PROD_RG, "web-prod-01")
    version = client.gallery_image_versions.begin_create_or_update(
        GAL_RG,
        GAL,
        "web-specialized",
        "1.0.0",
        m.GalleryImageVersion(
            {
                "location": "westeurope",
                "properties": {
                    "publishingProfile": {"targetRegions": [{"name": "westeurope"}]},
                    "storageProfile": {"source": {"virtualMachineId": vm.id}},
                },
            }
        ),
    ).result()
    assert version.provisioning_state == "Succeeded"
    assert version.storage_profile.os_disk_image.size_in_gb == 127


def test_creating_an_existing_version_again_with_another_source_is_refused(client):
    """A PUT on an existing version is an update, and the source cannot change ("Changing
    property 'galleryImageVersion.properties.storageProfile.source.id' is not allowed.",
    troubleshooting page)."""
    other = client.images.get(GAL_RG, "img-legacy-app-2016").id
    with pytest.raises(HttpResponseError) as exc:
        client.gallery_image_versions.begin_create_or_update(
            GAL_RG,
            GAL,
            "win2022-base",
            "1.0.0",
            m.GalleryImageVersion(
                {
                    "location": "westeurope",
                    "properties": {
                        "publishingProfile": {"targetRegions": [{"name": "westeurope"}]},
                        "storageProfile": {"source": {"id": other}},
                    },
                }
            ),
        )
    assert exc.value.status_code == 400
    assert "storageProfile.source.id' is not allowed" in exc.value.error.message


def test_putting_an_existing_managed_image_again(client):
    """A PUT on an existing image with the same source updates it (200 Updating); another
    source is refused. Neither is observed (docs/emulator-fidelity.md)."""
    image = client.images.get(GAL_RG, "img-win2022-base-20241001")
    source = image.source_virtual_machine.id
    again = client.images.begin_create_or_update(
        GAL_RG,
        image.name,
        m.Image(
            location="westeurope",
            tags={"reviewed": "yes"},
            source_virtual_machine=m.SubResource(id=source),
        ),
    ).result()
    assert again.tags == {"reviewed": "yes"} and again.provisioning_state == "Succeeded"
    other = client.virtual_machines.get(PROD_RG, "web-prod-01").id
    with pytest.raises(HttpResponseError) as exc:
        client.images.begin_create_or_update(
            GAL_RG,
            image.name,
            m.Image(location="westeurope", source_virtual_machine=m.SubResource(id=other)),
        )
    assert exc.value.status_code == 400
