"""Changing a gallery version's replication after its creation: which regions it is
replicated to, with how many replicas each, on which storage.

Azure allows it (a PATCH of ``publishingProfile.targetRegions``, the same update a review
effect sends); the catalog runs it as the ``catalog.replicate`` operation on the shared
engine (``catalog.specs``). Azure's rules, checked here first so that a refusal is a
sentence rather than ARM's: the version's own region stays in the list; a region already
replicated keeps its storage account type; removing a region needs the version's
``safetyProfile.allowDeletionOfReplicatedLocations`` (sent only when the person asked for
the removal); 1 to 100 replicas per region.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from catalog.choices import REPLICATE_PERMISSION
from catalog.models import CatalogImage
from catalog.services.fields import region_key
from contoso_images.core.errors import ActionRefused
from contoso_images.operations.models import Operation
from contoso_images.operations.services import operation_request, refusals_outlive_rollback

KIND = "catalog.replicate"
MAX_REPLICAS = 100
STORAGE_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS")


@dataclass(frozen=True)
class WantedRegion:
    """One target region as the change asks for it (``name`` as the form gave it)."""

    name: str
    replicas: int
    storage: str

    def as_parameter(self) -> dict[str, Any]:
        return {"name": self.name, "replicas": self.replicas, "storage": self.storage}


def wanted_regions(parameters: dict[str, Any]) -> list[WantedRegion]:
    """The regions stored on a ``catalog.replicate`` operation."""
    return [
        WantedRegion(str(r["name"]), int(r["replicas"]), str(r["storage"]))
        for r in parameters.get("target_regions") or []
    ]


def current_regions(image: CatalogImage) -> dict[str, dict[str, Any]]:
    """The version's target regions as the catalog last read them, by region key."""
    return {region_key(str(r.get("region", ""))): r for r in image.replication or []}


def removed_regions(image: CatalogImage, wanted: list[WantedRegion]) -> list[str]:
    keep = {region_key(r.name) for r in wanted}
    return [str(r.get("region")) for key, r in current_regions(image).items() if key not in keep]


def check_change(image: CatalogImage, wanted: list[WantedRegion], *, allow_removal: bool) -> None:
    """Raise ActionRefused with Azure's rule as a sentence, before anything is sent."""
    if not image.is_gallery_version or image.definition is None:
        raise ActionRefused("Only gallery image versions are replicated to regions.")
    if image.gone_at:
        raise ActionRefused(f"{image.display_name} was deleted in Azure.")
    if not wanted:
        raise ActionRefused("Choose at least one region.")
    keys = [region_key(r.name) for r in wanted]
    if len(set(keys)) != len(keys):
        raise ActionRefused("Each region can be listed once.")
    home = region_key(image.location)
    if home and home not in keys:
        raise ActionRefused(
            f"The version's own region ({image.location}) must stay among its target regions."
        )
    current = current_regions(image)
    for region in wanted:
        if not 1 <= region.replicas <= MAX_REPLICAS:
            raise ActionRefused(f"{region.name}: a region has 1 to {MAX_REPLICAS} replicas.")
        if region.storage not in STORAGE_TYPES:
            raise ActionRefused(f"{region.name}: choose one of {', '.join(STORAGE_TYPES)}.")
        had = current.get(region_key(region.name))
        if (
            had
            and had.get("storage_account_type")
            and had["storage_account_type"] != region.storage
        ):
            raise ActionRefused(
                f"{region.name} is already replicated on {had['storage_account_type']}; Azure "
                "does not change a replicated region's storage type (remove the region, then "
                "add it again)."
            )
    removed = removed_regions(image, wanted)
    if removed and not allow_removal:
        raise ActionRefused(
            f"This removes {', '.join(removed)}: confirm removing replicated regions "
            "(Azure deletes their replicas)."
        )
    unchanged = {region_key(r.name): (r.replicas, r.storage) for r in wanted} == {
        key: (int(r.get("replica_count") or 0), str(r.get("storage_account_type") or ""))
        for key, r in current.items()
    }
    if unchanged:
        raise ActionRefused("This is the replication the version already has; nothing to change.")


def replication_change(
    *,
    image: CatalogImage,
    user: Any,
    regions: list[WantedRegion],
    allow_removal: bool = False,
) -> Operation:
    """Queue the change of the version's replication (its audit events are the
    operation's: requested, then how it ended).

    Raises PermissionDenied for users who may not manage the catalog, ActionRefused (a
    sentence) for what Azure would refuse or while another operation runs on the version.
    """
    if user is None or not user.has_perm(REPLICATE_PERMISSION):
        raise PermissionDenied("Your role does not allow changing an image's replication.")
    check_change(image, regions, allow_removal=allow_removal)
    removing = bool(removed_regions(image, regions))
    parameters = {
        "target_regions": [r.as_parameter() for r in regions],
        "allow_removal": removing,
    }
    with refusals_outlive_rollback(), transaction.atomic():
        operation, created = operation_request(
            kind=KIND, target=image.target, subject=image, user=user, parameters=parameters
        )
    if not created and operation.parameters != parameters:
        raise ActionRefused(
            f"{operation.label} of {image.display_name} is already under way; this change was "
            "not sent. Try again when it has finished."
        )
    return operation  # a repeated click gets the change under way
