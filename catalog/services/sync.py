"""Keeping the custom images of the catalog in step with Azure.

Azure is the source of truth. A sync reads, per subscription, one listing per gallery level
(managed images; galleries; the definitions of each gallery; the versions of each
definition) and writes only what changed, in bulk. Replication status (per-region state and
progress) is only in a single version's GET with ``$expand=ReplicationStatus``, so the sync
reads it only for versions whose replication is not known to be complete (new ones, ones
Azure shows changing, ones still replicating): once replicated to its regions, a version
stays so until its regions change, which the listing shows. ARM requests per full sync:

    1 (subscriptions) + per subscription: 1 (managed images) + 1 (galleries)
    + 1 per gallery (definitions) + 1 per definition (versions)
    + 1 per version whose replication is not yet known complete   (0 once settled)

(each listing takes one more request per 100 items). Images that vanish from Azure are
marked gone, never deleted, so their review history stays; a listing that fails leaves
everything as it was (nothing is marked gone from a partial view).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.choices import ImageKind
from catalog.models import CatalogImage, CatalogSyncState, ImageDefinition
from contoso_images import azure
from contoso_images.azure.ids import resource_names
from contoso_images.core.models import Subscription
from contoso_images.core.services import subscriptions_sync

logger = logging.getLogger(__name__)

BATCH = 500
#: A click on "Refresh now" within this many seconds of the last one queues nothing more.
SYNC_REQUEST_WINDOW_SECONDS = 30
CUSTOM_KINDS = (ImageKind.MANAGED_IMAGE, ImageKind.GALLERY_VERSION)

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


# --- reading Azure -------------------------------------------------------------------------


@dataclass
class Listing:
    """Everything one subscription's custom images are, as Azure listed them."""

    images: list[azure.ManagedImage] = field(default_factory=list)
    galleries: list[azure.Gallery] = field(default_factory=list)
    definitions: list[azure.GalleryImageDefinition] = field(default_factory=list)
    versions: list[azure.GalleryImageVersion] = field(default_factory=list)
    replication_reads: int = 0


def version_sort_key(version: str) -> str:
    """``1.10.0`` → ``0000000001.0000000010.0000000000``: sorts as integers in SQL."""
    parts = []
    for part in version.split("."):
        parts.append(part.zfill(10) if part.isdigit() else "0" * 10)
    return ".".join(parts)[:40]


def region_key(name: str) -> str:
    """``"West Europe"`` and ``"westeurope"`` are the same region (Azure echoes either)."""
    return name.replace(" ", "").lower()


def _regions_signature(regions: Iterable[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((region_key(r["region"]), int(r.get("replica_count") or 0)) for r in regions)


def _needs_replication_read(version: azure.GalleryImageVersion, cached: Any) -> bool:
    """Read a version's replication only while it can still change: a new version, one Azure
    shows being created or updated, one not yet replicated everywhere, or one whose target
    regions changed since."""
    if version.replication_read:
        return False
    if cached is None or cached.replication_state not in ("Completed", "Failed"):
        return True
    if version.provisioning_state != "Succeeded" or cached.provisioning_state != "Succeeded":
        return True
    listed = _regions_signature(_replication_entries(version, []))
    return listed != _regions_signature(cached.replication)


def _read_subscription(subscription_id: str) -> Listing:
    known = {
        row.resource_key: row
        for row in CatalogImage.objects.filter(
            subscription__subscription_id=subscription_id, kind=ImageKind.GALLERY_VERSION
        ).only("resource_key", "replication_state", "provisioning_state", "replication")
    }
    listing = Listing(
        images=azure.managed_images(subscription_id),
        galleries=azure.galleries(subscription_id),
    )
    for gallery in listing.galleries:
        try:
            definitions = azure.gallery_image_definitions(
                subscription_id, gallery.resource_group, gallery.name
            )
        except azure.AzureError as exc:
            if not exc.is_not_found:
                raise
            continue  # deleted between the two listings: its images are gone
        listing.definitions += definitions
        for definition in definitions:
            try:
                versions = azure.gallery_image_versions(
                    subscription_id, definition.resource_group, gallery.name, definition.name
                )
            except azure.AzureError as exc:
                if not exc.is_not_found:
                    raise
                continue
            for version in versions:
                if _needs_replication_read(version, known.get(version.id.lower())):
                    version = _with_replication(version)
                    listing.replication_reads += 1
                listing.versions.append(version)
    return listing


def _with_replication(version: azure.GalleryImageVersion) -> azure.GalleryImageVersion:
    try:
        return azure.gallery_image_version_get(
            version.subscription_id,
            version.resource_group,
            version.gallery,
            version.definition,
            version.name,
        )
    except azure.AzureError as exc:
        if exc.is_not_found:
            return version  # deleted meanwhile; the next listing says so
        raise


# --- turning Azure's answers into catalog fields ------------------------------------------


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


def _replication_entries(
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
    replication = _replication_entries(version, list(cached.replication) if cached else [])
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


def _definition_key(version_id: str) -> str:
    """A version's id without ``/versions/{name}``: its definition's key."""
    return version_id.lower().rsplit("/versions/", 1)[0]


# --- syncing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogSyncResult:
    subscription: str
    managed_images: int = 0
    galleries: int = 0
    definitions: int = 0
    versions: int = 0
    created: int = 0
    updated: int = 0
    gone: int = 0
    replication_reads: int = 0
    throttled_until: Any = None
    error: str = ""

    def __str__(self) -> str:
        if self.error:
            return f"{self.subscription}: {self.error}"
        return (
            f"{self.subscription}: {self.managed_images} managed images, {self.galleries} "
            f"galleries, {self.definitions} definitions, {self.versions} versions listed; "
            f"{self.created} new, {self.updated} changed, {self.gone} gone"
        )


def catalog_sync_all(*, force: bool = False) -> list[CatalogSyncResult]:
    """Sync every subscription's custom images (the schedule, "Refresh now" and
    ``manage.py sync_catalog`` call this)."""
    try:
        subscriptions = subscriptions_sync()
    except azure.AzureError as exc:
        logger.warning("Listing subscriptions failed: %s", exc)
        subscriptions = list(Subscription.objects.all())
    return [catalog_sync(subscription=sub, force=force) for sub in subscriptions]


def catalog_sync(*, subscription: Subscription, force: bool = False) -> CatalogSyncResult:
    """Sync one subscription. Throttling is recorded, and the next sync waits for it."""
    state, _ = CatalogSyncState.objects.get_or_create(subscription=subscription)
    now = timezone.now()
    if not force and state.retry_after and state.retry_after > now:
        return CatalogSyncResult(
            str(subscription),
            throttled_until=state.retry_after,
            error="skipped: Azure asked us to wait",
        )
    try:
        listing = _read_subscription(subscription.subscription_id)
    except azure.AzureError as exc:
        retry_at = now + timedelta(seconds=exc.retry_after or 60) if exc.is_throttled else None
        CatalogSyncState.objects.filter(pk=state.pk).update(
            error=exc.sentence, retry_after=retry_at
        )
        logger.warning("Catalog sync of %s failed: %s", subscription.subscription_id, exc)
        return CatalogSyncResult(str(subscription), throttled_until=retry_at, error=exc.sentence)
    result = _apply(subscription, state, listing, now)
    CatalogSyncState.objects.filter(pk=state.pk).update(synced_at=now, error="", retry_after=None)
    return result


@transaction.atomic
def _apply(
    subscription: Subscription, state: CatalogSyncState, listing: Listing, now: datetime
) -> CatalogSyncResult:
    """Write one subscription's listing. ``now`` is when it was asked for: rows refreshed
    after it (by a review effect that just finished) hold newer news and are left alone."""
    CatalogSyncState.objects.select_for_update().filter(pk=state.pk).first()
    definitions, def_created, def_updated, def_gone = _apply_definitions(
        subscription, listing.definitions, now
    )
    existing = {
        row.resource_key: row
        for row in CatalogImage.objects.filter(subscription=subscription, kind__in=CUSTOM_KINDS)
    }
    to_create: list[CatalogImage] = []
    to_update: list[CatalogImage] = []
    seen: set[str] = set()

    def upsert(key: str, kind: str, fields: dict[str, Any]) -> None:
        seen.add(key)
        row = existing.get(key)
        if row is None:
            to_create.append(
                CatalogImage(
                    kind=kind,
                    subscription=subscription,
                    resource_key=key,
                    first_seen_at=now,
                    reported_at=now,
                    **fields,
                )
            )
            return
        if row.reported_at and row.reported_at > now:
            return
        changed = _assign(row, fields)
        if row.gone_at is not None:
            row.gone_at = None
            changed = True
        row.reported_at = now
        if changed:
            to_update.append(row)

    for image in listing.images:
        upsert(image.id.lower(), ImageKind.MANAGED_IMAGE, managed_image_fields(image))
    for version in listing.versions:
        definition = definitions.get(_definition_key(version.id))
        if definition is None:
            continue  # its definition was not listed (deleted meanwhile)
        key = version.id.lower()
        fields = version_fields(version, definition, existing.get(key))
        upsert(key, ImageKind.GALLERY_VERSION, fields)

    CatalogImage.objects.bulk_create(to_create, batch_size=BATCH)
    CatalogImage.objects.bulk_update(to_update, [*IMAGE_FIELDS, "gone_at"], batch_size=BATCH)
    gone_ids = [row.pk for key, row in existing.items() if key not in seen and row.gone_at is None]
    for start in range(0, len(gone_ids), BATCH):
        CatalogImage.objects.filter(pk__in=gone_ids[start : start + BATCH]).update(
            gone_at=now, is_latest=False
        )
    CatalogImage.objects.filter(
        subscription=subscription, kind__in=CUSTOM_KINDS, gone_at__isnull=True, reported_at__lt=now
    ).update(reported_at=now)
    recompute_latest(definition_ids=[d.pk for d in definitions.values()])
    return CatalogSyncResult(
        str(subscription),
        managed_images=len(listing.images),
        galleries=len(listing.galleries),
        definitions=len(listing.definitions),
        versions=len(listing.versions),
        created=len(to_create) + def_created,
        updated=len(to_update) + def_updated,
        gone=len(gone_ids) + def_gone,
        replication_reads=listing.replication_reads,
    )


def _assign(row: Any, fields: dict[str, Any]) -> bool:
    changed = False
    for name, value in fields.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _apply_definitions(
    subscription: Subscription, listed: list[azure.GalleryImageDefinition], now: datetime
) -> tuple[dict[str, ImageDefinition], int, int, int]:
    existing = {
        row.resource_key: row for row in ImageDefinition.objects.filter(subscription=subscription)
    }
    to_create: list[ImageDefinition] = []
    to_update: list[ImageDefinition] = []
    for definition in listed:
        key = definition.id.lower()
        fields = definition_fields(definition)
        row = existing.get(key)
        if row is None:
            row = ImageDefinition(
                subscription=subscription,
                resource_key=key,
                first_seen_at=now,
                reported_at=now,
                **fields,
            )
            to_create.append(row)
            existing[key] = row
            continue
        changed = _assign(row, fields)
        if row.gone_at is not None:
            row.gone_at = None
            changed = True
        row.reported_at = now
        if changed:
            to_update.append(row)
    ImageDefinition.objects.bulk_create(to_create, batch_size=BATCH)
    ImageDefinition.objects.bulk_update(
        to_update, [*DEFINITION_FIELDS, "gone_at", "reported_at"], batch_size=BATCH
    )
    listed_keys = {d.id.lower() for d in listed}
    gone = [r.pk for k, r in existing.items() if k not in listed_keys and r.gone_at is None]
    ImageDefinition.objects.filter(pk__in=gone).update(gone_at=now)
    live = {k: r for k, r in existing.items() if k in listed_keys}
    return live, len(to_create), len(to_update), len(gone)


def recompute_latest(*, definition_ids: Iterable[int]) -> int:
    """Mark, in each definition, the version Azure deploys for "latest": the highest version
    number that is not excluded from latest (and still exists). Returns rows changed."""
    ids = list(definition_ids)
    if not ids:
        return 0
    rows = list(
        CatalogImage.objects.filter(definition_id__in=ids, kind=ImageKind.GALLERY_VERSION).only(
            "pk", "definition_id", "version_sort", "exclude_from_latest", "gone_at", "is_latest"
        )
    )
    best: dict[int, CatalogImage] = {}
    for row in rows:
        if row.gone_at is not None or row.exclude_from_latest or row.definition_id is None:
            continue
        current = best.get(row.definition_id)
        if current is None or row.version_sort > current.version_sort:
            best[row.definition_id] = row
    winners = {row.pk for row in best.values()}
    changed = []
    for row in rows:
        latest = row.pk in winners
        if row.is_latest != latest:
            row.is_latest = latest
            changed.append(row)
    CatalogImage.objects.bulk_update(changed, ["is_latest"], batch_size=BATCH)
    return len(changed)


def catalog_sync_request() -> bool:
    """Queue a sync now, once however often it is asked for; True when one was queued."""
    from django.core.cache import cache
    from django_q.tasks import async_task

    if not cache.add(
        "catalog:sync-requested", timezone.now().isoformat(), SYNC_REQUEST_WINDOW_SECONDS
    ):
        return False
    async_task(
        "catalog.tasks.catalog_sync_scheduled", task_name="catalog-sync-now", group="catalog-sync"
    )
    return True


# --- one image at a time: after a capture, on its page, after a review effect -------------

MANAGED_IMAGE_PROVIDER = "microsoft.compute/images"
GALLERY_VERSION_PROVIDER = "microsoft.compute/galleries/images/versions"


def record_captured_image(
    resource_id: str, *, operation_id: int | None, source_vm_id: str
) -> CatalogImage:
    """Put a just-created managed image or gallery version into the catalog, with its
    provenance (the capture Operation and the VM it was captured from).

    Reads that one image from Azure (a managed image: 1 GET; a gallery version: its
    definition and the version with its replication, 2 GETs), so the catalog shows it
    right away instead of at the next sync. It starts "not reviewed". Safe to call again
    (an existing entry is updated, its review history kept). Raises ``ValueError`` for an id
    that is neither, and ``AzureError`` when Azure cannot be read.
    """
    subscription_id, resource_group, provider, name = azure.parse_resource_id(resource_id)
    subscription, _ = Subscription.objects.get_or_create(subscription_id=subscription_id)
    if provider.lower() == MANAGED_IMAGE_PROVIDER:
        image = azure.managed_image_get(subscription_id, resource_group, name)
        row = _upsert_managed_image(subscription, image)
    elif provider.lower() == GALLERY_VERSION_PROVIDER:
        gallery, definition_name, version_name = resource_names(resource_id)[-3:]
        row = _read_and_upsert_version(
            subscription, resource_group, gallery, definition_name, version_name
        )
    else:
        raise ValueError(f"not a managed image or gallery image version id: {resource_id!r}")
    CatalogImage.objects.filter(pk=row.pk).update(
        capture_operation_id=operation_id, source_vm_id=source_vm_id.lower()
    )
    row.refresh_from_db()
    return row


def image_read_live(*, image: CatalogImage) -> CatalogImage:
    """Read one custom image from Azure now (its page, the end of a review effect) and bring
    its catalog entry up to date; an image Azure no longer has is marked gone, and the
    error raised."""
    if image.kind == ImageKind.MARKETPLACE or image.subscription is None:
        return image
    sub = image.subscription
    try:
        if image.kind == ImageKind.MANAGED_IMAGE:
            found = azure.managed_image_get(sub.subscription_id, image.resource_group, image.name)
            _upsert_managed_image(sub, found)
        else:
            definition = image.definition
            assert definition is not None
            _read_and_upsert_version(
                sub, image.resource_group, definition.gallery_name, definition.name, image.name
            )
    except azure.AzureError as exc:
        if exc.is_not_found:
            CatalogImage.objects.filter(pk=image.pk).update(gone_at=timezone.now(), is_latest=False)
            if image.definition_id:
                recompute_latest(definition_ids=[image.definition_id])
        raise
    image.refresh_from_db()
    return image


def _read_and_upsert_version(
    subscription: Subscription, resource_group: str, gallery: str, definition: str, version: str
) -> CatalogImage:
    sub_id = subscription.subscription_id
    found_definition = azure.gallery_image_definition_get(
        sub_id, resource_group, gallery, definition
    )
    found_version = azure.gallery_image_version_get(
        sub_id, resource_group, gallery, definition, version
    )
    return upsert_version(subscription, found_definition, found_version)


@transaction.atomic
def upsert_version(
    subscription: Subscription,
    definition: azure.GalleryImageDefinition,
    version: azure.GalleryImageVersion,
) -> CatalogImage:
    """Write one version and its definition as Azure showed them."""
    now = timezone.now()
    definition_row, _ = ImageDefinition.objects.update_or_create(
        resource_key=definition.id.lower(),
        defaults={**definition_fields(definition), "reported_at": now, "gone_at": None},
        create_defaults={
            **definition_fields(definition),
            "subscription": subscription,
            "first_seen_at": now,
            "reported_at": now,
        },
    )
    return apply_version_read(definition=definition_row, version=version)


@transaction.atomic
def apply_version_read(
    *, definition: ImageDefinition, version: azure.GalleryImageVersion
) -> CatalogImage:
    """Write one version as a read of it showed it (its definition already in the catalog);
    "latest" is decided again."""
    key = version.id.lower()
    cached = CatalogImage.objects.filter(resource_key=key).first()
    fields = version_fields(version, definition, cached)
    row = _upsert_image(
        definition.subscription, ImageKind.GALLERY_VERSION, key, fields, timezone.now()
    )
    recompute_latest(definition_ids=[definition.pk])
    row.refresh_from_db()
    return row


def _upsert_managed_image(subscription: Subscription, image: azure.ManagedImage) -> CatalogImage:
    return _upsert_image(
        subscription,
        ImageKind.MANAGED_IMAGE,
        image.id.lower(),
        managed_image_fields(image),
        timezone.now(),
    )


def _upsert_image(
    subscription: Subscription, kind: str, key: str, fields: dict[str, Any], now: datetime
) -> CatalogImage:
    row, _ = CatalogImage.objects.update_or_create(
        resource_key=key,
        defaults={**fields, "reported_at": now, "gone_at": None},
        create_defaults={
            **fields,
            "kind": kind,
            "subscription": subscription,
            "first_seen_at": now,
            "reported_at": now,
        },
    )
    return row
