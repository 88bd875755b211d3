"""What one image row (or the image page's status panel) shows, worked out once in Python.

The list, the row polls, a refused decision and the image's page render the same row, so
they read it from here: whether a review effect is under way (and the row polls), whether
the last one failed, and which decisions are worth offering now with what each does.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.urls import reverse

from catalog.choices import EffectStatus
from catalog.decisions import OfferedDecision, offered_decisions
from catalog.models import CatalogImage, ReviewDecision
from contoso_images.operations.models import Operation


@dataclass(frozen=True)
class ImageRow:
    image: CatalogImage
    #: The unfinished operation carrying a decision out, if any (the row polls meanwhile).
    operation: Operation | None
    #: The newest decision whose effect failed and was not overtaken by another status.
    failed_effect: ReviewDecision | None
    polling: bool
    poll_seconds: int
    can_review: bool
    #: ``/catalog/images/``: the row's links are built on it (reversed once per page).
    image_base: str
    decisions: list[OfferedDecision]
    #: The image's definition has no version "latest" may pick (a gallery version only).
    no_latest: bool = False
    #: The image is its definition's latest and every other version is excluded (or gone):
    #: excluding it (reject, deprecate) leaves the definition with no latest version.
    leaves_no_latest: bool = False

    def context(self) -> dict[str, Any]:
        """The row as template context: the row partial reads ``row``, the status panel its
        names at the top level."""
        return {"row": self, **{field.name: getattr(self, field.name) for field in fields(self)}}


def image_row(
    image: CatalogImage,
    operation: Operation | None,
    effect: ReviewDecision | None,
    *,
    can_review: bool,
    image_base: str,
    candidates: dict[int, int] | None = None,
) -> ImageRow:
    """The row of one image; ``operation`` is its unfinished one or the one a poll watches,
    ``effect`` its newest decision with an effect in Azure, ``candidates`` the count of
    versions "latest" may pick per definition (``selectors.latest_candidates``)."""
    unfinished = operation if operation is not None and operation.is_unfinished else None
    failed = None
    if (
        effect is not None
        and unfinished is None
        and effect.effect_status == EffectStatus.NOT_CARRIED_OUT
        and (
            image.review_status_changed_at is None
            or effect.decided_at > image.review_status_changed_at
        )
    ):
        failed = effect
    return ImageRow(
        image=image,
        operation=unfinished,
        failed_effect=failed,
        polling=unfinished is not None,
        poll_seconds=poll_seconds(),
        can_review=can_review,
        image_base=image_base,
        decisions=offered_decisions(image),
        **latest_warnings(image, candidates),
    )


def latest_warnings(image: CatalogImage, candidates: dict[int, int] | None) -> dict[str, bool]:
    """Whether the image's definition has no latest version, and whether excluding the image
    would leave it with none."""
    if not image.is_gallery_version or candidates is None or image.definition_id is None:
        return {"no_latest": False, "leaves_no_latest": False}
    count = candidates.get(image.definition_id, 0)
    definition_gone = image.definition is not None and image.definition.gone_at is not None
    return {
        "no_latest": count == 0 and not definition_gone,
        "leaves_no_latest": image.is_latest and count <= 1 and not image.gone_at,
    }


def image_base() -> str:
    """The path every image's URLs start with (``/catalog/images/``), reversed once per page
    rather than three times per row."""
    return reverse("catalog:image_detail", args=[0]).removesuffix("0/")


def poll_seconds() -> int:
    return int(getattr(settings, "CATALOG_ROW_POLL_SECONDS", 2))
