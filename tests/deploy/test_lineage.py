"""Lineage: the inventory links every VM to the catalog entry of its imageReference; an
image's page lists the VMs built from it; the VM list filters and counts VMs on images that
are deprecated, past end of life or rejected; the VM page says so with the decision."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.choices import Decision, ReviewStatus
from catalog.models import CatalogImage, ReviewDecision
from contoso_images import azure
from tests.deploy.conftest import KEY, subnet_in
from vmops.models import VirtualMachine
from vmops.services import inventory_sync_all
from vmops.services.lineage import candidate_keys

pytestmark = pytest.mark.django_db


def _create(sub: str, name: str, image: azure.ImageReference, security: str = "") -> None:
    spec = azure.VmCreateSpec(
        location="westeurope",
        size="Standard_D2s_v5",
        image=image,
        os_type="Linux",
        admin_username="azureuser",
        ssh_public_key=KEY,
        subnet_id=subnet_in(sub),
        security_type=security,
    )
    token = azure.vm_begin_create(sub, "rg-web-prod", name, spec)
    assert azure.operation_status("vm_create", token, subscription_id=sub).state == "succeeded"


def test_marketplace_keys_prefer_the_exact_version_then_latest():
    ref = {
        "publisher": "Canonical",
        "offer": "o",
        "sku": "s",
        "version": "latest",
        "exact_version": "1.2.3",
    }
    assert candidate_keys(ref) == [
        "marketplace:canonical:o:s:1.2.3",
        "marketplace:canonical:o:s:latest",
    ]
    assert candidate_keys({"id": "/Sub/X"}) == ["/sub/x"]


def test_vms_made_outside_the_dashboard_are_linked_by_the_sync(images):
    sub = VirtualMachine.objects.first().subscription.subscription_id
    managed = images["img-ubuntu2204-20240915"]
    gallery = images["ubuntu2204-base 1.0.0"]
    _create(sub, "outside-managed", azure.ImageReference(id=managed.resource_id))
    _create(sub, "outside-gallery", azure.ImageReference(id=gallery.resource_id), "TrustedLaunch")
    _create(
        sub,
        "outside-mkt",
        azure.ImageReference(
            publisher="Canonical",
            offer="0001-com-ubuntu-server-jammy",
            sku="22_04-lts-gen2",
            version="latest",
        ),
        "TrustedLaunch",
    )
    inventory_sync_all()
    links = dict(
        VirtualMachine.objects.filter(name__startswith="outside-").values_list(
            "name", "catalog_image_id"
        )
    )
    assert links == {
        "outside-managed": managed.pk,
        "outside-gallery": gallery.pk,
        "outside-mkt": images["ubuntu-marketplace"].pk,
    }


def test_the_image_page_lists_its_vms_and_the_vm_page_warns_of_a_rejected_image(
    images, operator_client, reviewer_user
):
    sub = VirtualMachine.objects.first().subscription.subscription_id
    image = images["img-ubuntu2204-20240915"]
    _create(sub, "on-rejected", azure.ImageReference(id=image.resource_id))
    inventory_sync_all()
    vm = VirtualMachine.objects.get(name="on-rejected")
    page = operator_client.get(reverse("catalog:image_detail", args=[image.pk])).content.decode()
    assert "VMs built from this image" in page and "on-rejected" in page

    ReviewDecision.objects.create(
        image=image,
        decision=Decision.REJECT,
        note="CVE-2024-6387 unpatched",
        decided_by=reviewer_user,
        decided_at=timezone.now(),
        status_before=ReviewStatus.APPROVED,
    )
    CatalogImage.objects.filter(pk=image.pk).update(review_status=ReviewStatus.REJECTED)
    page = operator_client.get(reverse("vmops:vm_detail", args=[vm.pk])).content.decode()
    assert "On a rejected image." in page
    assert "CVE-2024-6387 unpatched" in page
    assert "Created from" in page

    listing = operator_client.get(reverse("vmops:vm_list") + "?image_risk=on")
    rows = [v.name for v in listing.context["page"]]
    assert rows == ["on-rejected"]
    assert listing.context["on_risky_images"] == 1


def test_past_end_of_life_counts_too(images, operator_client):
    sub = VirtualMachine.objects.first().subscription.subscription_id
    image = images["img-ubuntu2204-20240915"]
    _create(sub, "on-eol", azure.ImageReference(id=image.resource_id))
    inventory_sync_all()
    CatalogImage.objects.filter(pk=image.pk).update(
        end_of_life_date=timezone.now() - timedelta(days=1)
    )
    listing = operator_client.get(reverse("vmops:vm_list"))
    assert listing.context["on_risky_images"] == 1
    vm = VirtualMachine.objects.get(name="on-eol")
    page = operator_client.get(reverse("vmops:vm_detail", args=[vm.pk])).content.decode()
    assert "past end-of-life image" in page
