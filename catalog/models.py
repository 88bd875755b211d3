from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from catalog.choices import Decision, EffectStatus, ImageKind, ReviewStatus
from contoso_images.core.models import Subscription
from contoso_images.operations.models import Operation, OperationStatus
from contoso_images.operations.registry import Target

GALLERY_VERSION_TYPE = "Microsoft.Compute/galleries/images/versions"
MANAGED_IMAGE_TYPE = "Microsoft.Compute/images"
#: How far ahead an end of life counts as "soon" (the lifecycle filter and badge).
EOL_SOON = timedelta(days=30)


class CatalogPermission(models.Model):
    """Anchor for the catalog's role permissions, which belong to the catalog as a whole.

    Unmanaged and table-less: it exists so that `catalog.view_catalog` and
    `catalog.review_image` are real Django permissions that groups can hold.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_catalog", "Can see the image catalog"),
            ("review_image", "Can approve, deprecate or comment on custom images"),
        ]

    def __str__(self) -> str:
        return "Catalog permissions"


class ImageDefinition(models.Model):
    """What Azure last said about one Compute Gallery image definition.

    Its versions are catalog images; the definition carries what they share (OS, generation,
    architecture, security type, identifier) and is where "latest" is decided. Definitions
    that vanish from Azure are marked gone, never deleted.
    """

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="image_definitions"
    )
    #: The ARM id as Azure spelled it; ``resource_key`` is it lower-cased, for matching.
    resource_id = models.CharField(max_length=400)
    resource_key = models.CharField(max_length=400, unique=True)
    resource_group = models.CharField(max_length=90)
    gallery_name = models.CharField(max_length=80)
    name = models.CharField(max_length=80)
    location = models.CharField(max_length=50)
    publisher = models.CharField(max_length=128, blank=True)
    offer = models.CharField(max_length=64, blank=True)
    sku = models.CharField(max_length=64, blank=True)
    os_type = models.CharField(max_length=16, blank=True)
    os_state = models.CharField(max_length=16, blank=True)
    hyper_v_generation = models.CharField(max_length=4, blank=True)
    architecture = models.CharField(max_length=10, blank=True)
    security_type = models.CharField(max_length=60, blank=True)
    features = models.JSONField(default=list, blank=True)
    purchase_plan = models.JSONField(null=True, blank=True)
    description = models.TextField(blank=True)
    end_of_life_date = models.DateTimeField(null=True, blank=True)
    provisioning_state = models.CharField(max_length=20, blank=True)
    first_seen_at = models.DateTimeField()
    reported_at = models.DateTimeField(help_text="When Azure last reported this definition.")
    gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["gallery_name", "name"]

    def __str__(self) -> str:
        return f"{self.gallery_name}/{self.name}"


class CatalogImage(models.Model):
    """One entry of the image catalog: a Marketplace image on the allow-list, a managed
    image, or a Compute Gallery image version.

    Custom images are a cache of what Azure said (with when), refreshed by the sync; they
    are marked gone when Azure no longer lists them and keep their review history for ever.
    ``review_status`` is the badge: for a gallery version it changes only once Azure has
    carried the decision out.
    """

    kind = models.CharField(max_length=20, choices=ImageKind.choices)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    definition = models.ForeignKey(
        ImageDefinition, on_delete=models.PROTECT, null=True, blank=True, related_name="versions"
    )
    #: The ARM id as Azure spelled it ("" for Marketplace entries, which are URNs).
    resource_id = models.CharField(max_length=400, blank=True)
    #: Lower-cased ARM id, or ``marketplace:publisher:offer:sku:version``: what is matched.
    resource_key = models.CharField(max_length=400, unique=True)
    #: The image name, the version number, or the Marketplace URN.
    name = models.CharField(max_length=300)
    resource_group = models.CharField(max_length=90, blank=True)
    location = models.CharField(max_length=50, blank=True)
    os_type = models.CharField(max_length=16, blank=True)
    os_state = models.CharField(max_length=16, blank=True)
    hyper_v_generation = models.CharField(max_length=4, blank=True)
    architecture = models.CharField(max_length=10, blank=True)
    security_type = models.CharField(max_length=60, blank=True)
    provisioning_state = models.CharField(max_length=20, blank=True)
    #: When Azure says it was made (a version's publishedDate; ARM systemData otherwise).
    created_in_azure_at = models.DateTimeField(null=True, blank=True)
    #: The VM, managed image, snapshot or disk it was made from.
    source_id = models.CharField(max_length=600, blank=True)
    #: Per region: name, state, progress, replica_count, storage_account_type,
    #: exclude_from_latest.
    replication = models.JSONField(default=list, blank=True)
    replication_state = models.CharField(max_length=20, blank=True)
    replica_count = models.PositiveIntegerField(null=True, blank=True)
    storage_account_type = models.CharField(max_length=20, blank=True)
    os_disk_size_gb = models.PositiveIntegerField(null=True, blank=True)
    exclude_from_latest = models.BooleanField(default=False)
    end_of_life_date = models.DateTimeField(null=True, blank=True)
    #: The highest version of its definition not excluded from latest, as Azure picks it.
    is_latest = models.BooleanField(default=False)
    #: A gallery version's number as a sortable string (each part zero-padded).
    version_sort = models.CharField(max_length=40, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    # Marketplace entries
    publisher = models.CharField(max_length=128, blank=True)
    offer = models.CharField(max_length=128, blank=True)
    sku = models.CharField(max_length=128, blank=True)
    #: A pinned version, or "latest".
    version = models.CharField(max_length=64, blank=True)
    #: The purchase plan ``{name, product, publisher}``: its terms must be accepted.
    plan = models.JSONField(null=True, blank=True)
    features = models.JSONField(default=list, blank=True)
    #: Marketplace deprecation: Active, ScheduledForDeprecation or Deprecated.
    image_state = models.CharField(max_length=30, blank=True)
    deprecation_time = models.DateTimeField(null=True, blank=True)
    deprecation_alternative = models.CharField(max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Provenance from a capture
    capture_operation = models.ForeignKey(
        Operation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_vm_id = models.CharField(max_length=400, blank=True)
    # Review and bookkeeping
    review_status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.NOT_REVIEWED
    )
    review_status_changed_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(help_text="When it entered the catalog.")
    reported_at = models.DateTimeField(null=True, blank=True)
    gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "name", "pk"]
        indexes = [
            models.Index(fields=["review_status", "first_seen_at"]),
            models.Index(fields=["kind"]),
            models.Index(fields=["location"]),
            models.Index(fields=["end_of_life_date"]),
        ]

    def __str__(self) -> str:
        return self.display_name

    # --- what pages show -------------------------------------------------------------------

    @property
    def display_name(self) -> str:
        definition = self.definition if self.definition_id else None
        if self.kind == ImageKind.GALLERY_VERSION and definition is not None:
            return f"{definition.name} {self.name}"
        return self.name

    @property
    def row_id(self) -> str:
        """The id of this image's row in the catalog, the target of its htmx swaps."""
        return f"image-row-{self.pk}"

    @property
    def is_gallery_version(self) -> bool:
        return self.kind == ImageKind.GALLERY_VERSION

    @property
    def is_marketplace(self) -> bool:
        return self.kind == ImageKind.MARKETPLACE

    @property
    def urn(self) -> str:
        return f"{self.publisher}:{self.offer}:{self.sku}:{self.version}"

    @property
    def eol_passed(self) -> bool:
        return self.end_of_life_date is not None and self.end_of_life_date <= timezone.now()

    @property
    def eol_soon(self) -> bool:
        eol = self.end_of_life_date
        return eol is not None and timezone.now() < eol <= timezone.now() + EOL_SOON

    @property
    def subject_id(self) -> str:
        """The id the audit record names it by, as Azure spelled it (``resource_key`` is the
        lower-cased one, for matching): the ARM id, or ``marketplace:<URN>``."""
        return self.resource_id or f"marketplace:{self.name or self.urn}"

    @property
    def target(self) -> Target:
        """This image as the target of an operation (gallery versions: the review effect)."""
        names = [self.definition.gallery_name, self.definition.name] if self.definition else []
        return Target(
            id=self.resource_id,
            type=GALLERY_VERSION_TYPE if self.is_gallery_version else MANAGED_IMAGE_TYPE,
            name="/".join([*names, self.name]),
            resource_group=self.resource_group,
            subscription_id=self.subscription.subscription_id if self.subscription else "",
        )


class ReviewDecisionQuerySet(models.QuerySet["ReviewDecision"]):
    """Decisions are written once and kept for ever: no bulk change, no delete."""

    def update(self, **kwargs: Any) -> int:
        raise ImmutableDecision("Review decisions are never edited.")

    def delete(self) -> Any:
        raise ImmutableDecision("Review decisions are never deleted.")


class ImmutableDecision(Exception):
    """Raised by any attempt to edit or delete a recorded review decision."""


class ReviewDecision(models.Model):
    """A reviewer's decision on a catalog image: who, when, what, why, and the image as it was.

    Written once and never edited or deleted. For a gallery version the decision's Azure
    effect (exclude-from-latest, end of life) runs as ``operation``; whether it was carried
    out is what that operation says, so nothing here ever needs to change afterwards.
    """

    image = models.ForeignKey(CatalogImage, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=12, choices=Decision.choices)
    note = models.TextField(blank=True)
    #: For a deprecation: the end-of-life date asked for.
    end_of_life_date = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    #: The review status when it was decided.
    status_before = models.CharField(max_length=20, choices=ReviewStatus.choices)
    #: The image as it was (its catalog fields), for the record.
    snapshot = models.JSONField(default=dict)
    #: The operation carrying it out in Azure (gallery versions only).
    operation = models.OneToOneField(
        Operation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ReviewDecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["image", "-decided_at"])]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} of {self.image} by {self.decided_by}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableDecision("Review decisions are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableDecision("Review decisions are never deleted.")

    @property
    def effect_status(self) -> str:
        """Whether Azure carried it out: read off its operation (none: recorded only)."""
        operation = self.operation
        if operation is None:
            return EffectStatus.RECORDED
        if operation.status == OperationStatus.SUCCEEDED:
            return EffectStatus.CARRIED_OUT
        if operation.status == OperationStatus.FAILED:
            return EffectStatus.NOT_CARRIED_OUT
        return EffectStatus.TO_CARRY_OUT

    @property
    def effect_label(self) -> str:
        return EffectStatus(self.effect_status).label
