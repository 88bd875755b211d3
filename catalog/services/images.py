"""One image at a time: right after a capture, on its page, after a review effect.

A single image is read from Azure and written to the catalog at once, instead of waiting
for the next sync; "latest" of its definition is decided again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.choices import ImageKind
from catalog.models import CatalogImage, ImageDefinition
from catalog.services.fields import definition_fields, managed_image_fields, version_fields
from catalog.services.sync import recompute_latest
from contoso_images import azure
from contoso_images.azure.ids import resource_names
from contoso_images.core.models import Subscription

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
        # As Azure spelled it (links to the VM match it case-insensitively).
        capture_operation_id=operation_id,
        source_vm_id=source_vm_id,
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
            found_version = azure.gallery_image_version_get(
                sub.subscription_id,
                image.resource_group,
                definition.gallery_name,
                definition.name,
                image.name,
            )
            apply_version_read(definition=definition, version=found_version)
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
