"""Reads for the capture pages: the wizard's choices from Azure, the history, one record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from contoso_images import azure
from contoso_images.core.users import Person
from vmops.capture import preflight
from vmops.capture.models import Capture
from vmops.models import VirtualMachine

VIEW_PERMISSIONS = ("vmops.capture_virtualmachine", "audit.view_audit")


def may_view(user: Person) -> bool:
    """Operators (who capture) and auditors (who review past captures) see the records."""
    return any(user.has_perm(permission) for permission in VIEW_PERMISSIONS)


@dataclass(frozen=True)
class WizardChoices:
    galleries: list[azure.Gallery]
    #: "resource group/gallery" -> its image definitions
    definitions: dict[str, list[azure.GalleryImageDefinition]]
    regions: list[azure.Region]


def wizard_choices(vm: VirtualMachine) -> WizardChoices:
    """The galleries, definitions and regions of the VM's subscription (1 + galleries + 1
    ARM reads: a short wait the wizard cannot do without)."""
    sub = vm.subscription.subscription_id
    galleries = azure.galleries(sub)
    definitions = {
        f"{g.resource_group}/{g.name}": azure.gallery_image_definitions(
            sub, g.resource_group, g.name
        )
        for g in galleries
    }
    return WizardChoices(galleries, definitions, azure.regions(sub))


def proposed_version(vm: VirtualMachine, gallery: azure.Gallery, definition: str) -> str:
    """The next patch after the definition's highest version ("1.0.0" for a new one)."""
    try:
        versions = azure.gallery_image_versions(
            vm.subscription.subscription_id, gallery.resource_group, gallery.name, definition
        )
    except azure.AzureError as exc:
        if exc.is_not_found:
            return "1.0.0"
        raise
    return preflight.next_patch([v.name for v in versions])


def capture_history(*, user: Person, filters: dict[str, Any]) -> QuerySet[Capture]:
    """Every capture the user may see, newest first, filtered (a fixed number of queries)."""
    if not may_view(user):
        return Capture.objects.none()
    qs = Capture.objects.select_related("vm__subscription", "operation", "requested_by")
    if value := filters.get("vm"):
        qs = qs.filter(vm__name__icontains=value)
    if value := filters.get("person"):
        qs = qs.filter(requested_by__username__icontains=value)
    if value := filters.get("kind"):
        qs = qs.filter(kind=value)
    if value := filters.get("target"):
        qs = qs.filter(
            Q(image_name__icontains=value)
            | Q(gallery__icontains=value)
            | Q(definition__icontains=value)
        )
    if value := filters.get("outcome"):
        if value == "abandoned":
            qs = qs.filter(abandoned_at__isnull=False)
        else:
            qs = qs.filter(operation__status=value)
    since: date | None = filters.get("since")
    if since:
        qs = qs.filter(requested_at__date__gte=since)
    until: date | None = filters.get("until")
    if until:
        qs = qs.filter(requested_at__date__lte=until)
    return qs.order_by("-requested_at", "-pk")


def capture_get(*, user: Person, pk: int) -> Capture:
    """One capture with its VM and operation; DoesNotExist when unknown or not visible."""
    return capture_history(user=user, filters={}).get(pk=pk)


def captures_of_vm(vm: VirtualMachine, limit: int = 10) -> list[Capture]:
    return list(
        Capture.objects.filter(vm=vm)
        .select_related("operation", "requested_by")
        .order_by("-requested_at")[:limit]
    )


def situation(capture: Capture) -> tuple[str, bool]:
    """What a stopped capture left behind, in one sentence, and whether an image of its
    name exists that was made from its VM, so that deleting it is this capture's to offer
    (one ARM read of the image)."""
    vm = capture.vm
    parts = []
    exists = False
    if vm.gone_at:
        parts.append("the VM no longer exists")
    else:
        state = vm.get_power_state_display().lower()
        parts.append(f"the VM is {'generalized and ' if vm.generalized else ''}{state}")
    noun = (
        f"image version {capture.image_name}"
        if capture.gallery
        else (f"image {capture.image_name}")
    )
    try:
        sub = vm.subscription.subscription_id
        if capture.gallery:
            found = azure.gallery_image_version_get(
                sub,
                capture.image_resource_group,
                capture.gallery,
                capture.definition,
                capture.image_name,
            )
            state, source = found.provisioning_state, found.source_id
        else:
            found_image = azure.managed_image_get(
                sub, capture.image_resource_group, capture.image_name
            )
            state, source = found_image.provisioning_state, found_image.source_id
        if preflight.same_resource(source, vm.azure_id):
            parts.append(f"{noun} exists in {state or 'an unknown'} state")
            exists = True
        else:
            parts.append(f"{noun} exists, made from {source or 'another source'}, not from this VM")
    except azure.AzureError as exc:
        if not exc.is_not_found:
            parts.append(f"whether {noun} exists could not be read ({exc.code})")
        else:
            parts.append(f"{noun} does not exist")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + ".", exists


@dataclass(frozen=True)
class CatalogReview:
    """The catalog's current word on the image a capture made (read at every view)."""

    status: str
    status_label: str
    #: As the catalog last read it from Azure (an approval lifts it once Azure carried it out).
    exclude_from_latest: bool
    is_latest: bool


def catalog_review(capture: Capture) -> CatalogReview | None:
    """The review of the captured image, or None before it entered the catalog (one query).

    The capture's own ``exclude_from_latest`` is what was asked for at the start; after a
    manager's approval the page must say so, not "excluded until a manager approves it".
    """
    from catalog.models import CatalogImage

    image = (
        CatalogImage.objects.filter(resource_key=capture.image_id.strip().lower())
        .only("review_status", "exclude_from_latest", "is_latest")
        .first()
    )
    if image is None:
        return None
    return CatalogReview(
        status=image.review_status,
        status_label=image.get_review_status_display(),
        exclude_from_latest=image.exclude_from_latest,
        is_latest=image.is_latest,
    )
