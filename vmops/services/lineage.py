"""Which catalog entry each VM was built from, read from its ``storageProfile.imageReference``.

A Marketplace reference is matched to the entry of its exact version if the catalog has one
(``exactVersion``, or the pinned version), else to the entry that follows "latest"; an
``id`` to the managed image or gallery version of that id, and a gallery definition's id
(a VM built from "the latest version") to the definition's latest version in the catalog.
Run after every inventory sync and when a deployment records its VM; a VM whose reference
is no entry of the catalog keeps no link (one a deployment made keeps the one it was given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.choices import Decision, ReviewStatus
from catalog.models import CatalogImage, ReviewDecision
from contoso_images.core.models import Subscription
from vmops.models import VirtualMachine


def _marketplace_key(ref: dict[str, str], version: str) -> str:
    return (
        f"marketplace:{ref.get('publisher', '')}:{ref.get('offer', '')}:"
        f"{ref.get('sku', '')}:{version}".lower()
    )


def candidate_keys(ref: dict[str, Any]) -> list[str]:
    """The catalog keys a reference may match, best first."""
    if ref.get("id"):
        return [str(ref["id"]).lower()]
    if not ref.get("publisher"):
        return []
    exact = ref.get("exact_version") or ""
    version = ref.get("version") or "latest"
    keys = [_marketplace_key(ref, v) for v in (exact, version) if v and v.lower() != "latest"]
    keys.append(_marketplace_key(ref, "latest"))
    return keys


def link_catalog_images(*, subscription: Subscription | None = None) -> int:
    """Link every VM (of one subscription, or all) to its catalog entry; returns how many
    links changed. A fixed number of queries, whatever the number of VMs."""
    vms = VirtualMachine.objects.exclude(image_reference={})
    if subscription is not None:
        vms = vms.filter(subscription=subscription)
    rows = list(vms.only("pk", "image_reference", "catalog_image_id"))
    wanted = {key for vm in rows for key in candidate_keys(vm.image_reference)}
    if not wanted:
        return 0
    by_key = dict(
        CatalogImage.objects.filter(resource_key__in=wanted).values_list("resource_key", "pk")
    )
    # A gallery definition's id: its latest version in the catalog.
    for key, pk in CatalogImage.objects.filter(
        definition__resource_key__in=wanted, is_latest=True, gone_at__isnull=True
    ).values_list("definition__resource_key", "pk"):
        by_key.setdefault(key, pk)
    changed = []
    for vm in rows:
        found = next((by_key[k] for k in candidate_keys(vm.image_reference) if k in by_key), None)
        if found is not None and found != vm.catalog_image_id:
            vm.catalog_image_id = found
            changed.append(vm)
    VirtualMachine.objects.bulk_update(changed, ["catalog_image"], batch_size=500)
    return len(changed)


def risky_images_q() -> Any:
    """The catalog entries a VM should not be running on: rejected, deprecated (by a
    reviewer, or by its publisher in the Marketplace) or past their end of life."""
    from django.db.models import Q
    from django.utils import timezone

    return (
        Q(review_status__in=[ReviewStatus.REJECTED, ReviewStatus.DEPRECATED])
        | Q(end_of_life_date__lte=timezone.now())
        | Q(image_state__iexact="deprecated")
    )


@dataclass(frozen=True)
class ImageWarning:
    """Why a VM's image is a problem, in words, with the reviewer's decision if any."""

    sentence: str
    decision: ReviewDecision | None


def image_warning(image: CatalogImage | None) -> ImageWarning | None:
    if image is None or not CatalogImage.objects.filter(risky_images_q(), pk=image.pk).exists():
        return None
    if image.review_status == ReviewStatus.REJECTED:
        sentence = f"{image} was rejected in the catalog."
    elif image.review_status == ReviewStatus.DEPRECATED:
        sentence = f"{image} is deprecated in the catalog."
    elif image.eol_passed:
        sentence = f"{image} is past its end of life ({image.end_of_life_date:%Y-%m-%d})."
    else:
        sentence = f"{image} is deprecated by its publisher."
    decision = (
        image.decisions.filter(decision__in=[Decision.REJECT, Decision.DEPRECATE])
        .select_related("decided_by")
        .order_by("-decided_at")
        .first()
    )
    return ImageWarning(sentence, decision)
