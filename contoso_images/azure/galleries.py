"""Azure Compute Gallery: galleries, image definitions and image versions.

Reads are listings, one per gallery level (galleries of a subscription, definitions of a
gallery, versions of a definition); replication status (per-region state and progress) is
only in a single version's GET with ``$expand=ReplicationStatus``. Updates are PATCHes with
only the changed fields (``begin_update``, which accepts nothing but 200), never the CLI's
GET-then-PUT of the whole body, which races with other writers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from azure.mgmt.compute.operations._operations import (
    build_galleries_list_request,
    build_gallery_image_versions_list_by_gallery_image_request,
    build_gallery_images_list_by_gallery_request,
)

from contoso_images.azure import lro
from contoso_images.azure.clients import compute_client
from contoso_images.azure.errors import gateway_call
from contoso_images.azure.ids import parse_resource_id, resource_names
from contoso_images.azure.paging import raw_pages
from contoso_images.azure.raw import as_raw, integer, moment, obj, resource_fields, tags, text
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


def features_of(raw: Iterable[Any] | None) -> tuple[tuple[str, str], ...]:
    """``[{"name", "value"}]`` features (gallery definitions and Marketplace images alike)
    as ``(name, value)`` pairs; values are strings in ARM (``"True"``)."""
    pairs = []
    for item in raw or []:
        if isinstance(item, Mapping) and item.get("name"):
            value = item.get("value")
            pairs.append((str(item["name"]), "" if value is None else str(value)))
    return tuple(pairs)


def security_type_of(features: Iterable[tuple[str, str]]) -> str:
    """The ``SecurityType`` feature's value, "" when Azure names none (Standard)."""
    for name, value in features:
        if name.lower() == "securitytype":
            return value
    return ""


def plan_of(raw: Mapping[str, Any]) -> dict[str, str] | None:
    """A purchase plan as ``{name, product, publisher}`` (None when there is none)."""
    plan = {k: str(v) for k, v in raw.items() if v is not None} if raw else {}
    return plan or None


def definition_from_raw(raw: Mapping[str, Any]) -> GalleryImageDefinition:
    props = obj(raw, "properties")
    identifier = obj(props, "identifier")
    gallery, _ = _names(text(raw, "id"), 2)
    features = features_of(props.get("features"))
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
        end_of_life_date=moment(props.get("endOfLifeDate")),
        security_type=security_type_of(features),
        features=features,
        purchase_plan=plan_of(obj(props, "purchasePlan")),
        tags=tags(raw),
    )


def _target_region(raw: Mapping[str, Any], profile: Mapping[str, Any]) -> TargetRegion:
    """A target region; counts and storage left out fall back to the profile's, as Azure
    applies them."""
    return TargetRegion(
        name=text(raw, "name"),
        regional_replica_count=(
            integer(raw, "regionalReplicaCount") or integer(profile, "replicaCount") or 1
        ),
        storage_account_type=(
            text(raw, "storageAccountType") or text(profile, "storageAccountType") or "Standard_LRS"
        ),
        exclude_from_latest=bool(raw.get("excludeFromLatest") or False),
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
    os_disk = obj(props, "storageProfile", "osDiskImage")
    gallery, definition, _ = _names(text(raw, "id"), 3)
    return GalleryImageVersion(
        **resource_fields(raw),
        gallery=gallery,
        definition=definition,
        source_id=text(source, "id") or text(source, "virtualMachineId"),
        target_regions=tuple(
            _target_region(t, publishing) for t in publishing.get("targetRegions") or []
        ),
        provisioning_state=text(props, "provisioningState"),
        replication_state=text(replication, "aggregatedState"),
        replication=tuple(_replication(s) for s in replication.get("summary") or []),
        published_date=moment(publishing.get("publishedDate")),
        end_of_life_date=moment(publishing.get("endOfLifeDate")),
        exclude_from_latest=bool(publishing.get("excludeFromLatest") or False),
        replica_count=integer(publishing, "replicaCount"),
        storage_account_type=text(publishing, "storageAccountType"),
        source_disk_id=text(obj(os_disk, "source"), "id"),
        os_disk_size_gb=integer(os_disk, "sizeInGB"),
        replication_read="replicationStatus" in props,
        tags=tags(raw),
    )


def accepted_operation_id(continuation_token: str) -> str:
    """ARM's id of an accepted long-running operation, read from the poller's token.

    The token holds ARM's first answer; its Azure-AsyncOperation URL ends with the operation
    id (``.../capsOperations/{id}``), which ARM also sends as that answer's
    ``x-ms-request-id``. Kept with the operation, it finds the request in Azure's activity
    log. "" when the token has no such URL.
    """
    try:
        payload = json.loads(base64.b64decode(continuation_token))
        headers = payload["data"]["response"]["headers"]
    except (ValueError, KeyError, TypeError):
        return ""
    url = next(
        (str(v) for k, v in headers.items() if k.lower() in ("azure-asyncoperation", "location")),
        "",
    )
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] if url else ""


def _arm_time(value: datetime) -> str:
    """An end-of-life date as ARM takes it (ISO 8601 in UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- galleries -----------------------------------------------------------------------------


@gateway_call
def galleries(subscription_id: str) -> list[Gallery]:
    """Every gallery of the subscription (read without SDK models: ``paging.py``)."""
    request = build_galleries_list_request(subscription_id=subscription_id)
    pages = raw_pages(compute_client(subscription_id), request)
    return [gallery_from_raw(raw) for page in pages for raw in page]


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
    """The image definitions of one gallery (read without SDK models: ``paging.py``)."""
    request = build_gallery_images_list_by_gallery_request(
        resource_group_name=resource_group, gallery_name=gallery, subscription_id=subscription_id
    )
    pages = raw_pages(compute_client(subscription_id), request)
    return [definition_from_raw(raw) for page in pages for raw in page]


@gateway_call
def gallery_image_definition_get(
    subscription_id: str, resource_group: str, gallery: str, definition: str
) -> GalleryImageDefinition:
    ops = compute_client(subscription_id).gallery_images
    return definition_from_raw(as_raw(ops.get(resource_group, gallery, definition)))


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


def gallery_image_version_pages(
    subscription_id: str, resource_group: str, gallery: str, definition: str
) -> Iterator[list[GalleryImageVersion]]:
    """The versions of one image definition, one list per ARM page, read without SDK models
    and parsed as they are asked for (``paging.py``); a failing page raises ``AzureError``
    after the pages before it."""
    request = build_gallery_image_versions_list_by_gallery_image_request(
        resource_group_name=resource_group,
        gallery_name=gallery,
        gallery_image_name=definition,
        subscription_id=subscription_id,
    )
    for page in raw_pages(compute_client(subscription_id), request):
        yield [version_from_raw(raw) for raw in page]


@gateway_call
def gallery_image_versions(
    subscription_id: str, resource_group: str, gallery: str, definition: str
) -> list[GalleryImageVersion]:
    pages = gallery_image_version_pages(subscription_id, resource_group, gallery, definition)
    return [version for page in pages for version in page]


@gateway_call
def gallery_image_version_get(
    subscription_id: str, resource_group: str, gallery: str, definition: str, version: str
) -> GalleryImageVersion:
    ops = compute_client(subscription_id).gallery_image_versions
    raw = ops.get(resource_group, gallery, definition, version, expand="ReplicationStatus")
    return version_from_raw(as_raw(raw))


def _regions_body(target_regions: Sequence[TargetRegion]) -> list[dict[str, Any]]:
    regions: list[dict[str, Any]] = []
    for r in target_regions:
        region: dict[str, Any] = {
            "name": r.name,
            "regionalReplicaCount": r.regional_replica_count,
            "storageAccountType": r.storage_account_type,
        }
        if r.exclude_from_latest:
            region["excludeFromLatest"] = True
        regions.append(region)
    return regions


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
    exclude_from_latest: bool = False,
    end_of_life_date: datetime | None = None,
) -> str:
    """PUT an image version from a managed image id or straight from a VM id.

    ``exclude_from_latest=True`` creates it hidden from "latest" until someone promotes it
    (a catalog approval clears the flag).
    """
    _, _, provider_type, _ = parse_resource_id(source_id)
    if provider_type.lower() == "microsoft.compute/virtualmachines":
        source = {"virtualMachineId": source_id}
    else:
        source = {"id": source_id}
    profile: dict[str, Any] = {"targetRegions": _regions_body(target_regions)}
    if exclude_from_latest:
        profile["excludeFromLatest"] = True
    if end_of_life_date is not None:
        profile["endOfLifeDate"] = _arm_time(end_of_life_date)
    body = {
        "location": location,
        "properties": {
            "publishingProfile": profile,
            "storageProfile": {"source": source},
        },
    }
    ops = compute_client(subscription_id).gallery_image_versions
    return lro.begin(ops.begin_create_or_update, resource_group, gallery, definition, version, body)


@gateway_call
def gallery_image_version_begin_update(
    subscription_id: str,
    resource_group: str,
    gallery: str,
    definition: str,
    version: str,
    *,
    exclude_from_latest: bool | None = None,
    end_of_life_date: datetime | None = None,
    target_regions: Sequence[TargetRegion] | None = None,
    allow_region_removal: bool = False,
) -> str:
    """PATCH a version's publishing profile with only what changes; returns the token.

    This is the review gate: ``exclude_from_latest=False`` promotes a version to "latest"
    (the highest version not excluded), ``True`` hides it. It also changes the replication:
    ``target_regions`` is the whole new list (regions added, replica counts changed, regions
    left out removed; a region's storage account type is fixed once it is replicated), and
    removing a region needs ``allow_region_removal`` (sent as the version's
    ``safetyProfile.allowDeletionOfReplicatedLocations``; Azure refuses the removal
    otherwise). Azure answers 200 with ``provisioningState: Updating`` and an
    Azure-AsyncOperation to poll (the operation kind ``gallery_image_version_update`` reads
    the final version).
    """
    profile: dict[str, Any] = {}
    if exclude_from_latest is not None:
        profile["excludeFromLatest"] = exclude_from_latest
    if end_of_life_date is not None:
        profile["endOfLifeDate"] = _arm_time(end_of_life_date)
    if target_regions is not None:
        profile["targetRegions"] = _regions_body(target_regions)
    if not profile:
        raise ValueError(
            "nothing to update: give exclude_from_latest, end_of_life_date or target_regions"
        )
    properties: dict[str, Any] = {"publishingProfile": profile}
    if allow_region_removal:
        properties["safetyProfile"] = {"allowDeletionOfReplicatedLocations": True}
    body = {"properties": properties}
    ops = compute_client(subscription_id).gallery_image_versions
    return lro.begin(ops.begin_update, resource_group, gallery, definition, version, body)


@gateway_call
def gallery_image_version_begin_delete(
    subscription_id: str, resource_group: str, gallery: str, definition: str, version: str
) -> str:
    """Delete an image version (a capture's partial one, in Failed state, say)."""
    ops = compute_client(subscription_id).gallery_image_versions
    return lro.begin(ops.begin_delete, resource_group, gallery, definition, version)
