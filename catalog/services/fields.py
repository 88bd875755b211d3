"""Azure's answers turned into catalog fields: one place, shared by the sync of a whole
subscription and the read of a single image."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from catalog.models import ImageDefinition
from contoso_images import azure

DEFINITION_FIELDS = (
    "resource_id",
    "resource_group",
    "gallery_name",
    "name",
    "location",
    "publisher",
    "offer",
    "sku",
    "os_type",
    "os_state",
    "hyper_v_generation",
    "architecture",
    "security_type",
    "features",
    "purchase_plan",
    "description",
    "end_of_life_date",
    "provisioning_state",
)
IMAGE_FIELDS = (
    "definition_id",
    "resource_id",
    "name",
    "resource_group",
    "location",
    "os_type",
    "os_state",
    "hyper_v_generation",
    "architecture",
    "security_type",
    "provisioning_state",
    "created_in_azure_at",
    "source_id",
    "replication",
    "replication_state",
    "replica_count",
    "storage_account_type",
    "os_disk_size_gb",
    "exclude_from_latest",
    "end_of_life_date",
    "version_sort",
    "tags",
)


def version_sort_key(version: str) -> str:
    """``1.10.0`` → ``0000000001.0000000010.0000000000``: sorts as integers in SQL."""
    parts = []
    for part in version.split("."):
        parts.append(part.zfill(10) if part.isdigit() else "0" * 10)
    return ".".join(parts)[:40]


def region_key(name: str) -> str:
    """``"West Europe"`` and ``"westeurope"`` are the same region (Azure echoes either)."""
    return name.replace(" ", "").lower()


def regions_signature(regions: Iterable[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((region_key(r["region"]), int(r.get("replica_count") or 0)) for r in regions)


def definition_fields(definition: azure.GalleryImageDefinition) -> dict[str, Any]:
    return {
        "resource_id": definition.id,
        "resource_group": definition.resource_group,
        "gallery_name": definition.gallery,
        "name": definition.name,
        "location": definition.location,
        "publisher": definition.publisher,
        "offer": definition.offer,
        "sku": definition.sku,
        "os_type": definition.os_type,
        "os_state": definition.os_state,
        "hyper_v_generation": definition.hyper_v_generation,
        "architecture": definition.architecture,
        "security_type": definition.security_type,
        "features": [list(pair) for pair in definition.features],
        "purchase_plan": definition.purchase_plan,
        "description": definition.description,
        "end_of_life_date": definition.end_of_life_date,
        "provisioning_state": definition.provisioning_state,
    }


def managed_image_fields(image: azure.ManagedImage) -> dict[str, Any]:
    return {
        "definition_id": None,
        "resource_id": image.id,
        "name": image.name,
        "resource_group": image.resource_group,
        "location": image.location,
        "os_type": image.os_type,
        "os_state": image.os_state,
        "hyper_v_generation": image.hyper_v_generation,
        "architecture": "",
        "security_type": "",
        "provisioning_state": image.provisioning_state,
        "created_in_azure_at": image.time_created,
        "source_id": image.source_id,
        "replication": [],
        "replication_state": "",
        "replica_count": None,
        "storage_account_type": image.storage_account_type,
        "os_disk_size_gb": image.os_disk_size_gb,
        "exclude_from_latest": False,
        "end_of_life_date": None,
        "version_sort": "",
        "tags": dict(image.tags),
    }


def replication_entries(
    version: azure.GalleryImageVersion, cached: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One entry per target region: what the listing says (replicas, storage, exclusion)
    with the state and progress of the last read that had them."""
    read = {region_key(r.region): r for r in version.replication}
    before = {region_key(r.get("region", "")): r for r in cached}
    entries = []
    for target in version.target_regions:
        key = region_key(target.name)
        status = read.get(key)
        if status is not None:
            state, progress, details = status.state, status.progress, status.details
        else:
            old = before.get(key, {})
            state, progress, details = (
                old.get("state", ""),
                old.get("progress"),
                old.get("details", ""),
            )
        entries.append(
            {
                "region": target.name,
                "state": state,
                "progress": progress,
                "details": details,
                "replica_count": target.regional_replica_count,
                "storage_account_type": target.storage_account_type,
                "exclude_from_latest": target.exclude_from_latest,
            }
        )
    return entries


def version_fields(
    version: azure.GalleryImageVersion, definition: ImageDefinition, cached: Any = None
) -> dict[str, Any]:
    """A version's catalog fields; what only a replication read knows is kept from
    ``cached`` (the row as it was) when this answer lacks it."""
    replication = replication_entries(version, list(cached.replication) if cached else [])
    state = version.replication_state
    if not version.replication_read:
        state = cached.replication_state if cached is not None else ""
    return {
        "definition_id": definition.pk,
        "resource_id": version.id,
        "name": version.name,
        "resource_group": version.resource_group,
        "location": version.location,
        "os_type": definition.os_type,
        "os_state": definition.os_state,
        "hyper_v_generation": definition.hyper_v_generation,
        "architecture": definition.architecture,
        "security_type": definition.security_type,
        "provisioning_state": version.provisioning_state,
        "created_in_azure_at": version.published_date,
        "source_id": version.source_id or version.source_disk_id,
        "replication": replication,
        "replication_state": state,
        "replica_count": version.replica_count,
        "storage_account_type": version.storage_account_type,
        "os_disk_size_gb": version.os_disk_size_gb,
        "exclude_from_latest": version.exclude_from_latest,
        "end_of_life_date": version.end_of_life_date,
        "version_sort": version_sort_key(version.name),
        "tags": dict(version.tags),
    }
