"""The catalog's states, each with the label people read (and never colour alone)."""

from __future__ import annotations

from django.db import models


class ImageKind(models.TextChoices):
    MARKETPLACE = "marketplace", "Marketplace"
    MANAGED_IMAGE = "managed_image", "Managed image"
    GALLERY_VERSION = "gallery_version", "Gallery version"


class ReviewStatus(models.TextChoices):
    """The badge: what reviewers decided, once it is in force (for a gallery version, once
    Azure carried it out)."""

    NOT_REVIEWED = "not_reviewed", "Not reviewed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    DEPRECATED = "deprecated", "Deprecated"


class Decision(models.TextChoices):
    """A reviewer's decisions, as stored; what each does is its spec (``catalog.decisions``)."""

    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    DEPRECATE = "deprecate", "Deprecate"
    COMMENT = "comment", "Comment"


class EffectStatus(models.TextChoices):
    """Whether a decision was carried out in Azure (derived from its operation)."""

    RECORDED = "recorded", "Recorded"
    TO_CARRY_OUT = "to_carry_out", "Being carried out in Azure"
    CARRIED_OUT = "carried_out", "Carried out in Azure"
    NOT_CARRIED_OUT = "not_carried_out", "Not carried out"


class Lifecycle(models.TextChoices):
    """Filter values for where an image stands in its life."""

    LATEST = "latest", "Latest of its definition"
    EXCLUDED = "excluded", "Excluded from latest"
    EOL_SOON = "eol_soon", "End of life within 30 days"
    PAST_EOL = "past_eol", "Past end of life"
    GONE = "gone", "Deleted in Azure"


#: The permission every review action needs (checked in views and services alike).
REVIEW_PERMISSION = "catalog.review_image"
VIEW_PERMISSION = "catalog.view_catalog"
#: Changing a gallery version's replication: the managers who run the catalog (the
#: reviewers' role), as Azure admins expect of whoever curates the gallery.
REPLICATE_PERMISSION = REVIEW_PERMISSION

#: Asking Azure for the catalog now (core's `roles.user_may`): reviewers may, and any app
#: above the catalog may add its own permission (vmops adds its operators').
REFRESH_ACTION = "catalog.refresh"
