"""Reads for the catalog pages: each returns a queryset or plain data in a fixed number of
queries, however many images the catalog holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from catalog.choices import VIEW_PERMISSION, ImageKind, Lifecycle, ReviewStatus
from catalog.models import EOL_SOON, CatalogImage, ReviewDecision
from contoso_images.core.users import Person
from contoso_images.operations import selectors as operation_selectors
from contoso_images.operations.models import Operation

#: The review filter's pseudo-status: not reviewed and still in Azure, oldest first.
AWAITING = "awaiting"

#: The default order groups gallery versions under their definitions, newest first.
GROUPED = (
    "kind",
    F("definition__gallery_name").asc(nulls_first=True),
    F("definition__name").asc(nulls_first=True),
    "-version_sort",
    "name",
    "pk",
)
SORTS: dict[str, tuple[Any, ...]] = {
    "grouped": GROUPED,
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "created": (F("created_in_azure_at").asc(nulls_last=True), "pk"),
    "-created": (F("created_in_azure_at").desc(nulls_last=True), "-pk"),
    "waiting": ("first_seen_at", "pk"),
    "status": ("review_status", "name", "pk"),
    "location": ("location", "name", "pk"),
    "-location": ("-location", "name", "pk"),
    "eol": (F("end_of_life_date").asc(nulls_last=True), "name", "pk"),
    "-eol": (F("end_of_life_date").desc(nulls_last=True), "name", "pk"),
}


def catalog_queryset(*, user: Person) -> QuerySet[CatalogImage]:
    """Every catalog entry the user may see (all of them for holders of view_catalog)."""
    if not user.has_perm(VIEW_PERMISSION):
        return CatalogImage.objects.none()
    return CatalogImage.objects.all()


def catalog_list(
    *, user: Person, filters: dict[str, Any], sort: str = "grouped"
) -> QuerySet[CatalogImage]:
    """The filtered, sorted catalog, with what every row shows joined in."""
    qs = catalog_queryset(user=user).select_related("definition", "subscription")
    if not filters.get("include_gone") and filters.get("lifecycle") != Lifecycle.GONE:
        qs = qs.filter(gone_at__isnull=True)
    if value := filters.get("kind"):
        qs = qs.filter(kind=value)
    if value := filters.get("os_type"):
        qs = qs.filter(os_type__iexact=value)
    if value := filters.get("generation"):
        qs = qs.filter(hyper_v_generation=value)
    if value := filters.get("architecture"):
        qs = qs.filter(architecture__iexact=value)
    if value := filters.get("location"):
        qs = qs.filter(location__iexact=value)
    if value := filters.get("review"):
        qs = _review_filter(qs, value)
    if value := filters.get("lifecycle"):
        qs = _lifecycle_filter(qs, value)
    if value := filters.get("q"):
        for word in str(value).split():
            qs = qs.filter(
                Q(name__icontains=word)
                | Q(definition__name__icontains=word)
                | Q(definition__gallery_name__icontains=word)
                | Q(resource_group__icontains=word)
                | Q(publisher__icontains=word)
                | Q(offer__icontains=word)
                | Q(sku__icontains=word)
            )
    return qs.order_by(*SORTS.get(effective_sort(filters, sort), GROUPED))


def effective_sort(filters: dict[str, Any], sort: str) -> str:
    """The order a view is listed in: the reviewers' queue ("Awaiting review") is oldest
    first unless another order is asked for."""
    if filters.get("review") == AWAITING and sort == "grouped":
        return "waiting"
    return sort if sort in SORTS else "grouped"


def _review_filter(qs: QuerySet[CatalogImage], value: str) -> QuerySet[CatalogImage]:
    if value == AWAITING:
        return qs.filter(review_status=ReviewStatus.NOT_REVIEWED, gone_at__isnull=True)
    return qs.filter(review_status=value)


def _lifecycle_filter(qs: QuerySet[CatalogImage], value: str) -> QuerySet[CatalogImage]:
    now = timezone.now()
    if value == Lifecycle.LATEST:
        return qs.filter(is_latest=True)
    if value == Lifecycle.EXCLUDED:
        return qs.filter(kind=ImageKind.GALLERY_VERSION, exclude_from_latest=True)
    if value == Lifecycle.EOL_SOON:
        window = Q(end_of_life_date__gt=now, end_of_life_date__lte=now + EOL_SOON)
        deprecating = Q(deprecation_time__gt=now, deprecation_time__lte=now + EOL_SOON)
        return qs.filter(window | deprecating)
    if value == Lifecycle.PAST_EOL:
        return qs.filter(
            Q(end_of_life_date__lte=now)
            | Q(deprecation_time__lte=now)
            | Q(image_state="Deprecated")
        )
    if value == Lifecycle.GONE:
        return qs.filter(gone_at__isnull=False)
    return qs


@dataclass(frozen=True)
class Overview:
    total: int
    awaiting: int
    approved: int
    rejected: int
    deprecated: int
    eol_soon: int
    past_eol: int
    marketplace: int
    custom: int


def catalog_overview(*, user: Person) -> Overview:
    """The tile counts, in one aggregate query."""
    now = timezone.now()
    live = catalog_queryset(user=user).filter(gone_at__isnull=True)
    counts = live.aggregate(
        total=Count("pk"),
        awaiting=Count("pk", filter=Q(review_status=ReviewStatus.NOT_REVIEWED)),
        approved=Count("pk", filter=Q(review_status=ReviewStatus.APPROVED)),
        rejected=Count("pk", filter=Q(review_status=ReviewStatus.REJECTED)),
        deprecated=Count("pk", filter=Q(review_status=ReviewStatus.DEPRECATED)),
        eol_soon=Count(
            "pk",
            filter=Q(end_of_life_date__gt=now, end_of_life_date__lte=now + EOL_SOON)
            | Q(deprecation_time__gt=now, deprecation_time__lte=now + EOL_SOON),
        ),
        past_eol=Count(
            "pk",
            filter=Q(end_of_life_date__lte=now)
            | Q(deprecation_time__lte=now)
            | Q(image_state="Deprecated"),
        ),
        marketplace=Count("pk", filter=Q(kind=ImageKind.MARKETPLACE)),
        custom=Count("pk", filter=~Q(kind=ImageKind.MARKETPLACE)),
    )
    return Overview(**counts)


def catalog_filter_choices(*, user: Person) -> dict[str, list[str]]:
    """Options of the filter form that depend on the data, from one query."""
    rows = (
        catalog_queryset(user=user)
        .filter(gone_at__isnull=True)
        .order_by()  # the model's ordering would make DISTINCT return every entry
        .values_list("location", "os_type", "architecture")
        .distinct()
    )
    locations: set[str] = set()
    os_types: set[str] = set()
    architectures: set[str] = set()
    for location, os_type, architecture in rows:
        locations.add(location.lower())
        os_types.add(os_type)
        architectures.add(architecture)
    return {
        "locations": sorted(locations - {""}),
        "os_types": sorted(os_types - {""}),
        "architectures": sorted(architectures - {""}),
    }


def unfinished_operations(images: Iterable[CatalogImage]) -> dict[int, Operation]:
    """The unfinished operation (a review effect) of each image that has one (one query)."""
    rows = [image for image in images if image.resource_id]
    by_target = operation_selectors.unfinished_by_target(image.resource_key for image in rows)
    return {
        image.pk: by_target[image.resource_key] for image in rows if image.resource_key in by_target
    }


def last_effects(images: Iterable[CatalogImage]) -> dict[int, ReviewDecision]:
    """Each image's most recent decision that had an Azure effect, with its operation (one
    query): rows say whether it was carried out, and why not."""
    ids = [image.pk for image in images if image.is_gallery_version]
    if not ids:
        return {}
    latest: dict[int, ReviewDecision] = {}
    decisions = (
        ReviewDecision.objects.filter(image_id__in=ids, operation__isnull=False)
        .select_related("operation")
        .order_by("image_id", "-decided_at", "-pk")
    )
    for decision in decisions:
        latest.setdefault(decision.image_id, decision)
    return latest


def latest_candidates(images: Iterable[CatalogImage]) -> dict[int, int]:
    """Per definition of these images, how many of its versions "latest" may pick (not
    deleted, not excluded from latest); one query. 0: the definition has no latest version,
    and ``az vm create --image <definition>`` fails; 1 with the image latest: excluding it
    would leave none."""
    ids = {image.definition_id for image in images if image.definition_id is not None}
    if not ids:
        return {}
    counts = dict.fromkeys(ids, 0)
    rows = (
        CatalogImage.objects.filter(
            definition_id__in=ids,
            kind=ImageKind.GALLERY_VERSION,
            gone_at__isnull=True,
            exclude_from_latest=False,
        )
        .values("definition_id")
        .annotate(n=Count("pk"))
        .values_list("definition_id", "n")
    )
    counts.update(dict(rows))
    return counts


def images_by_ids(*, user: Person, ids: Iterable[int]) -> list[CatalogImage]:
    """The catalog entries with these ids that the user sees, in catalog order (one query);
    unknown ids are left out."""
    return list(
        catalog_queryset(user=user)
        .filter(pk__in=list(ids))
        .select_related("definition", "subscription")
        .order_by(*GROUPED)
    )


def image_get(*, user: Person, pk: int) -> CatalogImage:
    """One catalog entry with what its page shows; raises DoesNotExist for unknown ones."""
    return (
        catalog_queryset(user=user)
        .select_related("definition", "subscription", "added_by", "capture_operation")
        .get(pk=pk)
    )


def image_by_resource_id(*, user: Person, resource_id: str) -> CatalogImage | None:
    """The entry with this ARM id (ids are case-insensitive), if the user may see it."""
    return catalog_queryset(user=user).filter(resource_key=resource_id.strip().lower()).first()


def review_history(*, image: CatalogImage) -> list[ReviewDecision]:
    """Every decision on the image, newest first, with who made it and its operation."""
    return list(
        ReviewDecision.objects.filter(image=image)
        .select_related("decided_by", "operation")
        .order_by("-decided_at", "-pk")
    )


def definition_versions(*, image: CatalogImage) -> list[CatalogImage]:
    """The versions of the image's definition (itself included), highest first."""
    if image.definition_id is None:
        return []
    return list(
        CatalogImage.objects.filter(definition_id=image.definition_id)
        .select_related("definition")
        .order_by("-version_sort", "pk")
    )


def source_image(*, image: CatalogImage) -> CatalogImage | None:
    """The catalog entry the image was made from (a version made from a managed image)."""
    if not image.source_id:
        return None
    return CatalogImage.objects.filter(resource_key=image.source_id.lower()).first()


def made_from(*, image: CatalogImage) -> list[CatalogImage]:
    """Catalog entries made from this one (gallery versions of a managed image)."""
    if not image.resource_key or image.is_marketplace:
        return []
    return list(
        CatalogImage.objects.filter(source_id__iexact=image.resource_id)
        .select_related("definition")
        .order_by("pk")
    )
