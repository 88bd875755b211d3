"""Managed images: the older capture target, which needs a generalized VM (galleries do not)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from azure.mgmt.compute.operations._operations import build_images_list_request

from contoso_images.azure import lro
from contoso_images.azure.clients import compute_client
from contoso_images.azure.errors import gateway_call
from contoso_images.azure.paging import raw_pages
from contoso_images.azure.raw import as_raw, integer, moment, obj, resource_fields, tags, text
from contoso_images.azure.types import ManagedImage


def _disk_source(os_disk: Mapping[str, Any]) -> str:
    """The snapshot, managed disk or blob the OS disk was made from (in that order)."""
    return (
        text(obj(os_disk, "snapshot"), "id")
        or text(obj(os_disk, "managedDisk"), "id")
        or text(os_disk, "blobUri")
    )


def image_from_raw(raw: Mapping[str, Any]) -> ManagedImage:
    props = obj(raw, "properties")
    storage = obj(props, "storageProfile")
    os_disk = obj(storage, "osDisk")
    return ManagedImage(
        **resource_fields(raw),
        source_vm_id=text(obj(props, "sourceVirtualMachine"), "id"),
        os_type=text(os_disk, "osType"),
        os_state=text(os_disk, "osState"),
        hyper_v_generation=text(props, "hyperVGeneration"),
        provisioning_state=text(props, "provisioningState"),
        tags=tags(raw),
        source_disk_id=_disk_source(os_disk),
        os_disk_size_gb=integer(os_disk, "diskSizeGB"),
        storage_account_type=text(os_disk, "storageAccountType"),
        zone_resilient=bool(storage.get("zoneResilient") or False),
        time_created=moment(obj(raw, "systemData").get("createdAt")),
    )


@gateway_call
def image_begin_create_from_vm(
    subscription_id: str,
    resource_group: str,
    image_name: str,
    *,
    vm_id: str,
    location: str,
    hyper_v_generation: str,
) -> str:
    """PUT a managed image whose source is a (generalized) VM; returns the continuation token."""
    body = {
        "location": location,
        "properties": {
            "sourceVirtualMachine": {"id": vm_id},
            "hyperVGeneration": hyper_v_generation,
        },
    }
    ops = compute_client(subscription_id).images
    return lro.begin(ops.begin_create_or_update, resource_group, image_name, body)


def managed_image_pages(subscription_id: str) -> Iterator[list[ManagedImage]]:
    """Every managed image of the subscription, one list per ARM page, read without SDK
    models and parsed as they are asked for (``paging.py``); a failing page raises
    ``AzureError`` after the pages before it."""
    request = build_images_list_request(subscription_id=subscription_id)
    for page in raw_pages(compute_client(subscription_id), request):
        yield [image_from_raw(raw) for raw in page]


@gateway_call
def managed_images(subscription_id: str) -> list[ManagedImage]:
    return [image for page in managed_image_pages(subscription_id) for image in page]


@gateway_call
def managed_image_get(subscription_id: str, resource_group: str, name: str) -> ManagedImage:
    return image_from_raw(as_raw(compute_client(subscription_id).images.get(resource_group, name)))


@gateway_call
def image_begin_delete(subscription_id: str, resource_group: str, name: str) -> str:
    ops = compute_client(subscription_id).images
    return lro.begin(ops.begin_delete, resource_group, name)
