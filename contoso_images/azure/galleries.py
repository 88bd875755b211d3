"""Azure Compute Gallery: galleries, image definitions and image versions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contoso_images.azure import lro
from contoso_images.azure.clients import compute_client
from contoso_images.azure.errors import gateway_call
from contoso_images.azure.ids import parse_resource_id, resource_names
from contoso_images.azure.raw import as_raw, integer, moment, obj, resource_fields, text
from contoso_images.azure.types import (
    Gallery,
    GalleryImageDefinition,
    GalleryImageVersion,
    RegionReplication,
    TargetRegion,
)


def gallery_from_raw(raw: Mapping[str, Any]) -> Gallery:
    props = obj(raw, "properties")
    return Gallery(
        **resource_fields(raw),
        description=text(props, "description"),
        provisioning_state=text(props, "provisioningState"),
    )


def _names(resource_id: str, count: int) -> list[str]:
    names = resource_names(resource_id)
    return ([""] * count + names)[-count:]


def definition_from_raw(raw: Mapping[str, Any]) -> GalleryImageDefinition:
    props = obj(raw, "properties")
    identifier = obj(props, "identifier")
    gallery, _ = _names(text(raw, "id"), 2)
    return GalleryImageDefinition(
        **resource_fields(raw),
        gallery=gallery,
        publisher=text(identifier, "publisher"),
        offer=text(identifier, "offer"),
        sku=text(identifier, "sku"),
        os_type=text(props, "osType"),
        os_state=text(props, "osState"),
        hyper_v_generation=text(props, "hyperVGeneration"),
        architecture=text(props, "architecture"),
        provisioning_state=text(props, "provisioningState"),
        description=text(props, "description"),
    )


def _target_region(raw: Mapping[str, Any]) -> TargetRegion:
    return TargetRegion(
        name=text(raw, "name"),
        regional_replica_count=integer(raw, "regionalReplicaCount") or 1,
        storage_account_type=text(raw, "storageAccountType") or "Standard_LRS",
    )


def _replication(raw: Mapping[str, Any]) -> RegionReplication:
    return RegionReplication(
        region=text(raw, "region"),
        state=text(raw, "state"),
        progress=integer(raw, "progress"),
        details=text(raw, "details"),
    )


def version_from_raw(raw: Mapping[str, Any]) -> GalleryImageVersion:
    props = obj(raw, "properties")
    publishing = obj(props, "publishingProfile")
    source = obj(props, "storageProfile", "source")
    replication = obj(props, "replicationStatus")
    gallery, definition, _ = _names(text(raw, "id"), 3)
    return GalleryImageVersion(
        **resource_fields(raw),
        gallery=gallery,
        definition=definition,
        source_id=text(source, "id") or text(source, "virtualMachineId"),
        target_regions=tuple(_target_region(t) for t in publishing.get("targetRegions") or []),
        provisioning_state=text(props, "provisioningState"),
        replication_state=text(replication, "aggregatedState"),
        replication=tuple(_replication(s) for s in replication.get("summary") or []),
        published_date=moment(publishing.get("publishedDate")),
        end_of_life_date=moment(publishing.get("endOfLifeDate")),
        exclude_from_latest=bool(publishing.get("excludeFromLatest") or False),
    )


# --- galleries -----------------------------------------------------------------------------


@gateway_call
def galleries(subscription_id: str) -> list[Gallery]:
    return [gallery_from_raw(as_raw(g)) for g in compute_client(subscription_id).galleries.list()]


@gateway_call
def gallery_begin_create(
    subscription_id: str, resource_group: str, name: str, *, location: str, description: str = ""
) -> str:
    body: dict[str, Any] = {"location": location, "properties": {"description": description}}
    ops = compute_client(subscription_id).galleries
    return lro.begin(ops.begin_create_or_update, resource_group, name, body)


# --- image definitions ---------------------------------------------------------------------


@gateway_call
def gallery_image_definitions(
    subscription_id: str, resource_group: str, gallery: str
) -> list[GalleryImageDefinition]:
    ops = compute_client(subscription_id).gallery_images
    return [definition_from_raw(as_raw(d)) for d in ops.list_by_gallery(resource_group, gallery)]


@gateway_call
def gallery_image_definition_begin_create(
    subscription_id: str,
    resource_group: str,
    gallery: str,
    name: str,
    *,
    location: str,
    publisher: str,
    offer: str,
    sku: str,
    os_type: str,
    os_state: str = "Generalized",
    hyper_v_generation: str = "V2",
    architecture: str = "x64",
    description: str = "",
) -> str:
    properties: dict[str, Any] = {
        "identifier": {"publisher": publisher, "offer": offer, "sku": sku},
        "osType": os_type,
        "osState": os_state,
        "hyperVGeneration": hyper_v_generation,
        "architecture": architecture,
    }
    if description:
        properties["description"] = description
    body = {"location": location, "properties": properties}
    ops = compute_client(subscription_id).gallery_images
    return lro.begin(ops.begin_create_or_update, resource_group, gallery, name, body)


# --- image versions ------------------------------------------------------------------------


@gateway_call
def gallery_image_versions(
    subscription_id: str, resource_group: str, gallery: str, definition: str
) -> list[GalleryImageVersion]:
    ops = compute_client(subscription_id).gallery_image_versions
    pages = ops.list_by_gallery_image(resource_group, gallery, definition)
    return [version_from_raw(as_raw(v)) for v in pages]


@gateway_call
def gallery_image_version_get(
    subscription_id: str, resource_group: str, gallery: str, definition: str, version: str
) -> GalleryImageVersion:
    ops = compute_client(subscription_id).gallery_image_versions
    raw = ops.get(resource_group, gallery, definition, version, expand="ReplicationStatus")
    return version_from_raw(as_raw(raw))


@gateway_call
def gallery_image_version_begin_create(
    subscription_id: str,
    resource_group: str,
    gallery: str,
    definition: str,
    version: str,
    *,
    location: str,
    source_id: str,
    target_regions: Sequence[TargetRegion],
) -> str:
    """PUT an image version from a managed image id or straight from a VM id."""
    _, _, provider_type, _ = parse_resource_id(source_id)
    if provider_type.lower() == "microsoft.compute/virtualmachines":
        source = {"virtualMachineId": source_id}
    else:
        source = {"id": source_id}
    regions = [
        {
            "name": r.name,
            "regionalReplicaCount": r.regional_replica_count,
            "storageAccountType": r.storage_account_type,
        }
        for r in target_regions
    ]
    body = {
        "location": location,
        "properties": {
            "publishingProfile": {"targetRegions": regions},
            "storageProfile": {"source": source},
        },
    }
    ops = compute_client(subscription_id).gallery_image_versions
    return lro.begin(ops.begin_create_or_update, resource_group, gallery, definition, version, body)
