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

(each listing takes one more request per 100 items). The listings are read without SDK
models and written as they arrive (managed images a page at a time, each gallery's
definitions, each definition's versions a page at a time). Images that vanish from Azure
are marked gone, never deleted, so their review history stays; only once every listing of
the subscription has been read: a listing that fails keeps what was written before it (real
news) and marks nothing gone. The sync of one subscription is a kind registered with core's
sync pattern (``contoso_images.core.sync``): claimed first, so two syncs of a subscription
never run at once, with failures and throttling recorded there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import transaction
from django.db.models import Q

from catalog.choices import REFRESH_ACTION, VIEW_PERMISSION, ImageKind
from catalog.models import CatalogImage, ImageDefinition
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
from contoso_images.core.sync import SyncKind, SyncResult, SyncUnit, sync_run

logger = logging.getLogger(__name__)

BATCH = 500
CUSTOM_KINDS = (ImageKind.MANAGED_IMAGE, ImageKind.GALLERY_VERSION)

# --- reading Azure -------------------------------------------------------------------------


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


# --- syncing -------------------------------------------------------------------------------

#: The catalog's kind in core's sync pattern (SyncState.kind, SyncRequest.name).
CATALOG = "catalog"


@dataclass(frozen=True)
class CatalogSyncResult(SyncResult):
    managed_images: int = 0
    galleries: int = 0
    definitions: int = 0
    versions: int = 0
    created: int = 0
    updated: int = 0
    gone: int = 0
    replication_reads: int = 0

    def __str__(self) -> str:
        if self.error:
            return f"{self.unit}: {self.error}"
        return (
            f"{self.unit}: {self.managed_images} managed images, {self.galleries} "
            f"galleries, {self.definitions} definitions, {self.versions} versions listed; "
            f"{self.created} new, {self.updated} changed, {self.gone} gone"
        )


def catalog_sync_all(*, force: bool = False) -> list[CatalogSyncResult]:
    """Sync every subscription's custom images: ``sync_run("catalog")``, which the schedule,
    "Refresh now" and ``manage.py sync_catalog`` run."""
    return cast(list[CatalogSyncResult], sync_run(CATALOG, force=force))


def catalog_sync(*, subscription: Subscription, force: bool = False) -> CatalogSyncResult:
    """Sync one subscription now (core's pattern: claimed first, outcome recorded)."""
    (result,) = sync_run(CATALOG, force=force, subscription=subscription)
    return cast(CatalogSyncResult, result)


def catalog_sync_unit(unit: SyncUnit) -> CatalogSyncResult:
    """Sync one claimed subscription, writing each listing as it arrives; once all of them
    were read, mark what they did not show as gone and move "latest" where it now is.

    ``unit.started_at`` is when the listings were asked for: rows refreshed after it (by a
    review effect that just finished) hold newer news and are left alone. Raises
    ``AzureError`` when a listing fails; what was written before stays, nothing is gone."""
    subscription = unit.subscription
    subscription_id = subscription.subscription_id
    writer = CatalogWriter(subscription, unit.started_at)
    for images in azure.managed_image_pages(subscription_id):
        writer.images(images)
        unit.keep_alive()
    galleries = azure.galleries(subscription_id)
    for gallery in galleries:
        try:
            listed = azure.gallery_image_definitions(
                subscription_id, gallery.resource_group, gallery.name
            )
        except azure.AzureError as exc:
            if not exc.is_not_found:
                raise
            continue  # deleted between the two listings: its images are gone
        definitions = writer.definitions(listed)
        unit.keep_alive()
        for definition in listed:
            row = definitions[definition.id.lower()]
            try:
                for versions in azure.gallery_image_version_pages(
                    subscription_id, definition.resource_group, gallery.name, definition.name
                ):
                    writer.versions(row, _with_replication_where_needed(writer, versions))
                    unit.keep_alive()
            except azure.AzureError as exc:
                if not exc.is_not_found:
                    raise
                continue  # deleted meanwhile: its versions not yet written are gone
    gone = writer.finish()
    return CatalogSyncResult(
        str(subscription),
        managed_images=writer.managed_images,
        galleries=len(galleries),
        definitions=writer.definitions_listed,
        versions=writer.versions_listed,
        created=writer.created,
        updated=writer.updated,
        gone=gone,
        replication_reads=writer.replication_reads,
    )


def _with_replication_where_needed(
    writer: CatalogWriter, versions: list[azure.GalleryImageVersion]
) -> list[azure.GalleryImageVersion]:
    """The page's versions, those whose replication can still change read one by one."""
    cached = {
        row.resource_key: row
        for row in CatalogImage.objects.filter(
            resource_key__in=[v.id.lower() for v in versions], kind=ImageKind.GALLERY_VERSION
        ).only("resource_key", "replication_state", "provisioning_state", "replication")
    }
    out = []
    for version in versions:
        if _needs_replication_read(version, cached.get(version.id.lower())):
            version = _with_replication(version)
            writer.replication_reads += 1
        out.append(version)
    return out


class CatalogWriter:
    """Writes one subscription's listings as they arrive, one transaction per page (or per
    gallery's definitions). Each write reads only its own rows (by ARM id), creates the new
    ones, updates the changed ones and marks the rest as reported now; :meth:`finish` is for
    the end of a complete set of listings only."""

    def __init__(self, subscription: Subscription, now: datetime) -> None:
        self.subscription = subscription
        self.now = now
        self.managed_images = self.definitions_listed = self.versions_listed = 0
        self.created = self.updated = self.replication_reads = 0
        self.definition_ids: set[int] = set()

    def images(self, images: list[azure.ManagedImage]) -> None:
        self.managed_images += len(images)
        self._upsert(
            ImageKind.MANAGED_IMAGE, {i.id.lower(): managed_image_fields(i) for i in images}
        )

    def versions(
        self, definition: ImageDefinition, versions: list[azure.GalleryImageVersion]
    ) -> None:
        self.versions_listed += len(versions)
        self.definition_ids.add(definition.pk)
        with transaction.atomic():
            existing = self._existing([v.id.lower() for v in versions])
            fields = {
                v.id.lower(): version_fields(v, definition, existing.get(v.id.lower()))
                for v in versions
            }
            self._upsert(ImageKind.GALLERY_VERSION, fields, existing)

    @staticmethod
    def _existing(keys: list[str]) -> dict[str, CatalogImage]:
        return {row.resource_key: row for row in CatalogImage.objects.filter(resource_key__in=keys)}

    @transaction.atomic
    def _upsert(
        self,
        kind: str,
        listed: dict[str, dict[str, Any]],
        existing: dict[str, CatalogImage] | None = None,
    ) -> None:
        now = self.now
        if existing is None:
            existing = self._existing(list(listed))
        to_create: list[CatalogImage] = []
        to_update: list[CatalogImage] = []
        reported: list[int] = []
        for key, fields in listed.items():
            row = existing.get(key)
            if row is None:
                to_create.append(
                    CatalogImage(
                        kind=kind,
                        subscription=self.subscription,
                        resource_key=key,
                        first_seen_at=now,
                        reported_at=now,
                        **fields,
                    )
                )
                continue
            if row.reported_at and row.reported_at > now:
                continue  # newer news than this listing
            changed = _assign(row, fields)
            if row.gone_at is not None:
                row.gone_at = None
                changed = True
            if changed:
                row.reported_at = now
                to_update.append(row)
            elif row.reported_at is None or row.reported_at < now:
                reported.append(row.pk)
        CatalogImage.objects.bulk_create(to_create, batch_size=BATCH)
        CatalogImage.objects.bulk_update(
            to_update, [*IMAGE_FIELDS, "gone_at", "reported_at"], batch_size=BATCH
        )
        if reported:
            CatalogImage.objects.filter(pk__in=reported).update(reported_at=now)
        self.created += len(to_create)
        self.updated += len(to_update)

    @transaction.atomic
    def definitions(self, listed: list[azure.GalleryImageDefinition]) -> dict[str, ImageDefinition]:
        """Write one gallery's definitions; their rows by key, for their versions."""
        now = self.now
        self.definitions_listed += len(listed)
        by_key = {d.id.lower(): d for d in listed}
        existing = {
            row.resource_key: row
            for row in ImageDefinition.objects.filter(resource_key__in=list(by_key))
        }
        to_create: list[ImageDefinition] = []
        to_update: list[ImageDefinition] = []
        reported: list[int] = []
        for key, definition in by_key.items():
            fields = definition_fields(definition)
            row = existing.get(key)
            if row is None:
                row = ImageDefinition(
                    subscription=self.subscription,
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
            if changed:
                row.reported_at = now
                to_update.append(row)
            elif row.reported_at < now:
                reported.append(row.pk)
        ImageDefinition.objects.bulk_create(to_create, batch_size=BATCH)
        ImageDefinition.objects.bulk_update(
            to_update, [*DEFINITION_FIELDS, "gone_at", "reported_at"], batch_size=BATCH
        )
        if reported:
            ImageDefinition.objects.filter(pk__in=reported).update(reported_at=now)
        self.created += len(to_create)
        self.updated += len(to_update)
        self.definition_ids.update(row.pk for row in existing.values())
        return existing

    @transaction.atomic
    def finish(self) -> int:
        """After every listing was read: mark gone what none of them showed (whatever was
        not reported since they were asked for) and move "latest". Returns rows gone."""
        now = self.now
        unseen = Q(gone_at__isnull=True) & (Q(reported_at__lt=now) | Q(reported_at__isnull=True))
        gone_definitions = ImageDefinition.objects.filter(unseen, subscription=self.subscription)
        gone = gone_definitions.update(gone_at=now)
        gone_images = CatalogImage.objects.filter(
            unseen, subscription=self.subscription, kind__in=CUSTOM_KINDS
        )
        self.definition_ids.update(
            gone_images.exclude(definition_id=None).values_list("definition_id", flat=True)
        )
        gone += gone_images.update(gone_at=now, is_latest=False)
        recompute_latest(definition_ids=self.definition_ids)
        return gone


def _assign(row: Any, fields: dict[str, Any]) -> bool:
    changed = False
    for name, value in fields.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


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


#: The catalog's kind, registered by ``CatalogConfig.ready``.
CATALOG_SYNC = SyncKind(
    name=CATALOG,
    sync=catalog_sync_unit,
    result=CatalogSyncResult,
    task="catalog.tasks.catalog_sync_scheduled",
    every="CATALOG_SYNC_SECONDS",
    page="catalog:catalog_index",
    status_url="catalog:catalog_sync_status",
    refresh_url="catalog:catalog_refresh",
    view_permission=VIEW_PERMISSION,
    # The managers who review it and (vmops adds them) the IT staff who capture into it.
    # Auditors read what is there; their view must not cause Azure traffic.
    refresh_action=REFRESH_ACTION,
    noun="the catalog",
    synced_text="Custom images synced",
    never_synced_text="Custom images not synced yet",
    element_id="catalog-sync-status",
    event="catalog-synced",
)
