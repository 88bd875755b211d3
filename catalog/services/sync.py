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
from catalog.services.fields import (
    DEFINITION_FIELDS,
    IMAGE_FIELDS,
    definition_fields,
    managed_image_fields,
    regions_signature,
    replication_entries,
    version_fields,
)
from contoso_images import azure
from contoso_images.core.models import Subscription
from contoso_images.core.services import subscriptions_sync, sync_request_claim

logger = logging.getLogger(__name__)

BATCH = 500
CUSTOM_KINDS = (ImageKind.MANAGED_IMAGE, ImageKind.GALLERY_VERSION)

# --- reading Azure -------------------------------------------------------------------------


@dataclass
class Listing:
    """Everything one subscription's custom images are, as Azure listed them."""

    images: list[azure.ManagedImage] = field(default_factory=list)
    galleries: list[azure.Gallery] = field(default_factory=list)
    definitions: list[azure.GalleryImageDefinition] = field(default_factory=list)
    versions: list[azure.GalleryImageVersion] = field(default_factory=list)
    replication_reads: int = 0


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
    listed = regions_signature(replication_entries(version, []))
    return listed != regions_signature(cached.replication)


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
    """Queue a sync now, once however often it is asked for (on any number of web
    processes); True when one was queued."""
    from django_q.tasks import async_task

    if not sync_request_claim("catalog", timezone.now()):
        return False
    async_task(
        "catalog.tasks.catalog_sync_scheduled", task_name="catalog-sync-now", group="catalog-sync"
    )
    return True
