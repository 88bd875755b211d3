"""Marketplace images (publisher / offer / sku / version) and VM sizes of a region.

The Marketplace endpoints answer bare JSON arrays, not pages; VM sizes are paged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contoso_images.azure.clients import compute_client
from contoso_images.azure.errors import gateway_call
from contoso_images.azure.galleries import features_of, plan_of, security_type_of
from contoso_images.azure.raw import as_raw, integer, moment, obj, text
from contoso_images.azure.types import ImageDeprecation, MarketplaceImage, VmSize


def version_key(version: str) -> tuple[int, ...]:
    """Sort key comparing versions as integer tuples ("10.0" > "9.5"); odd parts sort lowest."""
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


@gateway_call
def marketplace_publishers(subscription_id: str, location: str) -> list[str]:
    items = compute_client(subscription_id).virtual_machine_images.list_publishers(location)
    return sorted((i.name for i in items if i.name), key=str.lower)


@gateway_call
def marketplace_offers(subscription_id: str, location: str, publisher: str) -> list[str]:
    items = compute_client(subscription_id).virtual_machine_images.list_offers(location, publisher)
    return sorted((i.name for i in items if i.name), key=str.lower)


@gateway_call
def marketplace_skus(subscription_id: str, location: str, publisher: str, offer: str) -> list[str]:
    ops = compute_client(subscription_id).virtual_machine_images
    return sorted(
        (i.name for i in ops.list_skus(location, publisher, offer) if i.name), key=str.lower
    )


@gateway_call
def marketplace_versions(
    subscription_id: str, location: str, publisher: str, offer: str, sku: str
) -> list[str]:
    """Version names, newest first (compared as integer tuples: "10.0" after "9.5")."""
    ops = compute_client(subscription_id).virtual_machine_images
    names = [i.name for i in ops.list(location, publisher, offer, sku) if i.name]
    return sorted(names, key=version_key, reverse=True)


@gateway_call
def marketplace_latest_version(
    subscription_id: str, location: str, publisher: str, offer: str, sku: str
) -> str | None:
    """The newest version name, as the Azure CLI resolves "latest" (``$top=1`` with
    ``$orderby=name desc``): one small request instead of the whole version list."""
    ops = compute_client(subscription_id).virtual_machine_images
    items = ops.list(location, publisher, offer, sku, top=1, orderby="name desc")
    names = [i.name for i in items if i.name]
    return names[0] if names else None


def _deprecation(raw: Mapping[str, Any]) -> ImageDeprecation | None:
    if not raw:
        return None
    alternative = obj(raw, "alternativeOption")
    return ImageDeprecation(
        state=text(raw, "imageState"),
        scheduled_time=moment(raw.get("scheduledDeprecationTime")),
        alternative_type=text(alternative, "type"),
        alternative_value=text(alternative, "value"),
    )


def marketplace_image_from_raw(
    raw: Mapping[str, Any], *, publisher: str, offer: str, sku: str, version: str, location: str
) -> MarketplaceImage:
    props = obj(raw, "properties")
    os_disk = obj(props, "osDiskImage")
    features = features_of(props.get("features"))
    deprecation = _deprecation(obj(props, "imageDeprecationStatus"))
    return MarketplaceImage(
        publisher=publisher,
        offer=offer,
        sku=sku,
        version=text(raw, "name") or version,
        location=text(raw, "location") or location,
        os_type=text(os_disk, "operatingSystem"),
        hyper_v_generation=text(props, "hyperVGeneration"),
        architecture=text(props, "architecture"),
        plan=plan_of(obj(props, "plan")),
        image_state=deprecation.state if deprecation else "",
        deprecation=deprecation,
        security_type=security_type_of(features),
        features=features,
        os_disk_size_gb=integer(os_disk, "sizeInGb") or integer(os_disk, "sizeInGB"),
        id=text(raw, "id"),
    )


@gateway_call
def marketplace_image(
    subscription_id: str, location: str, publisher: str, offer: str, sku: str, version: str
) -> MarketplaceImage:
    ops = compute_client(subscription_id).virtual_machine_images
    raw = as_raw(ops.get(location, publisher, offer, sku, version))
    return marketplace_image_from_raw(
        raw, publisher=publisher, offer=offer, sku=sku, version=version, location=location
    )


@gateway_call
def vm_sizes(subscription_id: str, location: str) -> list[VmSize]:
    sizes = compute_client(subscription_id).virtual_machine_sizes.list(location)
    result = []
    for size in sizes:
        raw = as_raw(size)
        result.append(
            VmSize(
                name=text(raw, "name"),
                cores=integer(raw, "numberOfCores") or 0,
                memory_mb=integer(raw, "memoryInMB") or 0,
                max_data_disks=integer(raw, "maxDataDiskCount") or 0,
                os_disk_size_mb=integer(raw, "osDiskSizeInMB") or 0,
                resource_disk_size_mb=integer(raw, "resourceDiskSizeInMB") or 0,
            )
        )
    return result
