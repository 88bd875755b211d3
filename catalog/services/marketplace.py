"""The Azure Marketplace, browsed one level at a time and cached, and the allow-list.

The real Marketplace has thousands of publishers, so it is never crawled: each level
(publishers of a region, offers of a publisher, SKUs of an offer, versions of a SKU) is one
ARM request when first asked for and then comes from Django's cache (per process by default,
Redis when configured) for ``CATALOG_MARKETPLACE_CACHE_SECONDS`` (6 hours by default:
publishers and offers change over weeks, new versions appear a few times a month). Searching
inside a level filters the cached list and costs no request.

Reviewers add Marketplace images to the catalog (a pinned version or "latest"), so that the
organisation's allow-list lives beside its custom images.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from catalog.choices import REVIEW_PERMISSION, Decision, ImageKind
from catalog.models import CatalogImage
from catalog.services.review import review_decide
from contoso_images import azure
from contoso_images.audit.services import Subject, record
from contoso_images.core.errors import ActionRefused
from contoso_images.core.models import Subscription
from contoso_images.core.services import subscriptions_sync
from contoso_images.core.users import Person, signed_in

DEFAULT_CACHE_SECONDS = 6 * 60 * 60
DEFAULT_REGION = "westeurope"
LEVELS = ("publishers", "offers", "skus", "versions")
LATEST = "latest"


def cache_seconds() -> int:
    return int(getattr(settings, "CATALOG_MARKETPLACE_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))


def default_region() -> str:
    return str(getattr(settings, "CATALOG_MARKETPLACE_REGION", DEFAULT_REGION))


def _key(kind: str, *parts: str) -> str:
    """A cache key safe for every backend (Marketplace names hold any character)."""
    digest = hashlib.sha256("\x1f".join(p.lower() for p in parts).encode()).hexdigest()[:40]
    return f"catalog:marketplace:{kind}:{digest}"


def marketplace_subscription() -> str:
    """The subscription whose view of the Marketplace is browsed (the first one managed)."""
    first = Subscription.objects.order_by("display_name", "subscription_id").first()
    if first is None:
        subscriptions = subscriptions_sync()
        if not subscriptions:
            raise ActionRefused("No Azure subscription is configured, so there is no Marketplace.")
        return subscriptions[0].subscription_id
    return first.subscription_id


class UnknownRegion(ActionRefused):
    """A ``location`` that is no region of the subscription: the asker's mistake (400), not
    Azure's failure."""


#: ARM's codes for a location it does not know (Marketplace reads answer 400
#: NoRegisteredProviderFound; other providers say LocationNotAvailableForResourceType).
_UNKNOWN_LOCATION_CODES = frozenset(
    {"NoRegisteredProviderFound", "LocationNotAvailableForResourceType", "InvalidLocation"}
)


def subscription_regions(subscription_id: str) -> list[str] | None:
    """The names of the subscription's physical regions, cached like a Marketplace level
    (regions change over months); ``None`` when Azure cannot be asked (then ARM's own
    answer to the read decides)."""
    key = _key("regions", subscription_id)
    names = cache.get(key)
    if names is None:
        try:
            names = sorted(r.name.lower() for r in azure.regions(subscription_id) if r.name)
        except azure.AzureError:
            return None
        cache.set(key, names, cache_seconds())
    return list(names)


def _unknown_region(location: str, known: list[str] | None) -> UnknownRegion:
    offered = f"; choose one of {', '.join(known)}" if known else ""
    return UnknownRegion(f"'{location}' is not an Azure region this subscription offers{offered}.")


def check_region(subscription_id: str, location: str) -> None:
    """Refuse a ``location`` the subscription does not offer, before asking Azure for the
    Marketplace there (an unknown one would otherwise come back as ARM's raw 400)."""
    known = subscription_regions(subscription_id)
    if known is not None and location.lower() not in known:
        raise _unknown_region(location, known)


@contextmanager
def _in_region(subscription_id: str, location: str) -> Iterator[None]:
    """Ask Azure about ``location``: an unknown one is refused before any request when the
    subscription's regions are known, and ARM's refusal of it (when they could not be read)
    becomes the same sentence instead of ARM's raw text."""
    check_region(subscription_id, location)
    try:
        yield
    except azure.AzureError as exc:
        if exc.code in _UNKNOWN_LOCATION_CODES:
            raise _unknown_region(location, subscription_regions(subscription_id)) from exc
        raise


@dataclass(frozen=True)
class Level:
    """One level of the Marketplace tree: its names and whether they came from the cache."""

    name: str  # publishers | offers | skus | versions
    items: list[str]
    cached: bool


def level_of(*, publisher: str = "", offer: str = "", sku: str = "") -> str:
    if publisher and offer and sku:
        return "versions"
    if publisher and offer:
        return "skus"
    if publisher:
        return "offers"
    return "publishers"


def marketplace_level(
    *, subscription_id: str, location: str, publisher: str = "", offer: str = "", sku: str = ""
) -> Level:
    """The names one level down from what is given, from the cache when it has them.

    Versions come newest first (compared as integer tuples); other levels alphabetically.
    Raises UnknownRegion (a sentence) for a location the subscription does not offer, and
    AzureError when Azure is asked and refuses (an unknown publisher: NotFound).
    """
    name = level_of(publisher=publisher, offer=offer, sku=sku)
    parent = {
        "publishers": (),
        "offers": (publisher,),
        "skus": (publisher, offer),
        "versions": (publisher, offer, sku),
    }[name]
    key = _key(name, subscription_id, location, *parent)
    items = cache.get(key)
    if items is not None:
        return Level(name, list(items), cached=True)
    with _in_region(subscription_id, location):
        if name == "publishers":
            items = azure.marketplace_publishers(subscription_id, location)
        elif name == "offers":
            items = azure.marketplace_offers(subscription_id, location, publisher)
        elif name == "skus":
            items = azure.marketplace_skus(subscription_id, location, publisher, offer)
        else:
            items = azure.marketplace_versions(subscription_id, location, publisher, offer, sku)
    cache.set(key, list(items), cache_seconds())
    return Level(name, list(items), cached=False)


def search(items: list[str], query: str) -> list[str]:
    """Names containing every word of ``query`` (case-insensitive)."""
    words = query.lower().split()
    if not words:
        return items
    return [item for item in items if all(word in item.lower() for word in words)]


def marketplace_image_detail(
    *, subscription_id: str, location: str, publisher: str, offer: str, sku: str, version: str
) -> azure.MarketplaceImage:
    """One Marketplace image (OS, generation, architecture, plan, deprecation), cached.

    "latest" is resolved as the Azure CLI does (the newest version name, one small request,
    cached like a level), then that version is read.
    """
    wanted = version.strip() or LATEST
    if wanted.lower() == LATEST:
        latest_key = _key("latest", subscription_id, location, publisher, offer, sku)
        resolved = cache.get(latest_key)
        if resolved is None:
            with _in_region(subscription_id, location):
                resolved = azure.marketplace_latest_version(
                    subscription_id, location, publisher, offer, sku
                )
            if resolved is None:
                raise ActionRefused(f"{publisher}:{offer}:{sku} has no version in {location}.")
            cache.set(latest_key, resolved, cache_seconds())
        wanted = str(resolved)
    key = _key("image", subscription_id, location, publisher, offer, sku, wanted)
    image = cache.get(key)
    if image is None:
        with _in_region(subscription_id, location):
            image = azure.marketplace_image(
                subscription_id, location, publisher, offer, sku, wanted
            )
        cache.set(key, image, cache_seconds())
    assert isinstance(image, azure.MarketplaceImage)
    return image


def marketplace_key(publisher: str, offer: str, sku: str, version: str) -> str:
    return f"marketplace:{publisher}:{offer}:{sku}:{version}".lower()


def _entry_fields(detail: azure.MarketplaceImage) -> dict[str, Any]:
    deprecation = detail.deprecation
    alternative = ""
    if deprecation and deprecation.alternative_value:
        alternative = f"{deprecation.alternative_type} {deprecation.alternative_value}".strip()
    return {
        "location": detail.location,
        "os_type": detail.os_type,
        "os_state": "Generalized",
        "hyper_v_generation": detail.hyper_v_generation,
        "architecture": detail.architecture,
        "security_type": detail.security_type,
        "os_disk_size_gb": detail.os_disk_size_gb,
        "plan": detail.plan,
        "features": [list(pair) for pair in detail.features],
        "image_state": detail.image_state,
        "deprecation_time": deprecation.scheduled_time if deprecation else None,
        "deprecation_alternative": alternative,
        "reported_at": timezone.now(),
    }


def marketplace_entry_add(
    *,
    user: Person,
    location: str,
    publisher: str,
    offer: str,
    sku: str,
    version: str,
    approve: bool = False,
    note: str = "",
) -> tuple[CatalogImage, bool]:
    """Add a Marketplace image to the catalog; returns (entry, created).

    The image is read first (so only images that exist are added, with their OS, plan and
    deprecation); an entry already in the catalog is returned as it is. ``approve`` records
    an approval at once (Marketplace decisions have no Azure effect). The addition itself
    is written to the audit record (``catalog.marketplace.add``) in the same transaction,
    approved or not.
    """
    if user is None or not user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Your role does not allow adding images to the catalog.")
    publisher, offer, sku = publisher.strip(), offer.strip(), sku.strip()
    version = version.strip() or LATEST
    if not (publisher and offer and sku) or any(":" in p for p in (publisher, offer, sku)):
        raise ActionRefused("Give the publisher, offer and SKU of the image.")
    key = marketplace_key(publisher, offer, sku, version)
    existing = CatalogImage.objects.filter(resource_key=key).first()
    if existing is not None:
        return existing, False
    try:
        detail = marketplace_image_detail(
            subscription_id=marketplace_subscription(),
            location=location,
            publisher=publisher,
            offer=offer,
            sku=sku,
            version=version,
        )
    except azure.AzureError as exc:
        raise ActionRefused(exc.sentence) from exc
    now = timezone.now()
    with transaction.atomic():  # the entry and its record, or neither
        entry = CatalogImage.objects.create(
            kind=ImageKind.MARKETPLACE,
            resource_key=key,
            name=f"{publisher}:{offer}:{sku}:{version}",
            publisher=publisher,
            offer=offer,
            sku=sku,
            version=version,
            added_by=signed_in(user),
            first_seen_at=now,
            **_entry_fields(detail),
        )
        record(
            action="catalog.marketplace.add",
            actor=user,
            target=Subject(kind="marketplace-image", id=entry.subject_id, name=entry.name),
            parameters={
                "urn": entry.urn,
                "location": entry.location,
                "approve": bool(approve),
                "plan": entry.plan,
                "image_state": entry.image_state,
                "deprecation_time": entry.deprecation_time,
            },
            detail="Added to the catalog"
            + (", approved at once." if approve else ", not reviewed yet."),
        )
        if approve:
            review_decide(image=entry, user=user, decision=Decision.APPROVE, note=note)
            entry.refresh_from_db()
    return entry, True


def marketplace_entry_refresh(*, image: CatalogImage) -> azure.MarketplaceImage:
    """Read a Marketplace entry's image (cached) and update its deprecation and plan."""
    detail = marketplace_image_detail(
        subscription_id=marketplace_subscription(),
        location=image.location or default_region(),
        publisher=image.publisher,
        offer=image.offer,
        sku=image.sku,
        version=image.version,
    )
    fields = _entry_fields(detail)
    CatalogImage.objects.filter(pk=image.pk).update(**fields)
    for name, value in fields.items():
        setattr(image, name, value)
    return detail
