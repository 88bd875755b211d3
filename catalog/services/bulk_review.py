"""Reviewing several images at once: the preview (what each image would get, nothing
written) and the decisions, one per image, each judged on its own.

The same decision, note and end of life go to every ticked image; each is then exactly the
single decision of ``review.review_decide`` (its permission check, its rules, its own
transaction, its audit event, its Azure effect), so one image refused does not undo the
others and the results page says, per image, what became of it. The preview also works out
what the decisions do together: excluding the last versions "latest" may pick in a
definition leaves it with no latest version, which it says before anything is sent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied

from catalog import selectors
from catalog.choices import REVIEW_PERMISSION
from catalog.decisions import DecisionSpec
from catalog.models import CatalogImage
from catalog.services.review import review_decide
from contoso_images.core.errors import ActionRefused

DECIDE = "decide"
SKIP = "skip"

#: Result outcomes, per image.
RECORDED = "recorded"
QUEUED = "queued"
REFUSED = "refused"


def bulk_limit() -> int:
    """The most images one multi-select reviews (each is a request's worth of work)."""
    return int(getattr(settings, "CATALOG_BULK_LIMIT", 200))


@dataclass(frozen=True)
class PlanItem:
    image: CatalogImage
    outcome: str  # DECIDE | SKIP
    reason: str = ""
    #: Carried out in Azure (a gallery version and a decision with an effect).
    in_azure: bool = False
    #: With the other ticked images, this leaves its definition with no latest version.
    leaves_no_latest: bool = False


def review_plan(*, images: list[CatalogImage], spec: DecisionSpec) -> list[PlanItem]:
    """What the decision would do to each image, in a handful of queries; nothing written."""
    busy = selectors.unfinished_operations(images)
    plan: list[PlanItem] = []
    for image in images:
        reason = _skip_reason(image, spec, busy.get(image.pk))
        if reason:
            plan.append(PlanItem(image, SKIP, reason))
        else:
            in_azure = image.is_gallery_version and spec.effect is not None
            plan.append(PlanItem(image, DECIDE, in_azure=in_azure))
    return _with_latest_warnings(plan, spec)


def _skip_reason(image: CatalogImage, spec: DecisionSpec, busy: Any) -> str:
    if image.gone_at and not spec.when_gone:
        return "Deleted in Azure: only comments can be added to its record."
    if spec.status_after and image.review_status == spec.status_after:
        return f"Already {image.get_review_status_display().lower()}."
    if busy is not None and image.is_gallery_version and spec.effect is not None:
        return f"{busy.label} is under way on it; decide when it has finished."
    return ""


def _with_latest_warnings(plan: list[PlanItem], spec: DecisionSpec) -> list[PlanItem]:
    """Mark the items that, together, exclude every version "latest" may pick in their
    definition."""
    if spec.effect is None or not spec.effect.exclude_from_latest:
        return plan
    excluded: Counter[int] = Counter(
        item.image.definition_id
        for item in plan
        if item.outcome == DECIDE
        and item.image.definition_id is not None
        and item.image.is_gallery_version
        and not item.image.exclude_from_latest
        and not item.image.gone_at
    )
    if not excluded:
        return plan
    candidates = selectors.latest_candidates([item.image for item in plan])
    emptied = {
        definition
        for definition, count in excluded.items()
        if candidates.get(definition, 0) and candidates[definition] - count <= 0
    }
    return [
        PlanItem(
            item.image,
            item.outcome,
            item.reason,
            item.in_azure,
            leaves_no_latest=item.outcome == DECIDE
            and item.image.definition_id in emptied
            and not item.image.exclude_from_latest,
        )
        for item in plan
    ]


@dataclass(frozen=True)
class ResultItem:
    image_id: int
    name: str
    outcome: str  # RECORDED | QUEUED | REFUSED
    reason: str = ""
    operation_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "image_id": self.image_id,
            "name": self.name,
            "outcome": self.outcome,
            "reason": self.reason,
            "operation_id": self.operation_id,
        }


def review_many(
    *,
    images: list[CatalogImage],
    user: Any,
    spec: DecisionSpec,
    note: str = "",
    end_of_life_date: datetime | None = None,
) -> list[ResultItem]:
    """Make the decision on each image, one by one; a refusal is that image's result.

    Raises PermissionDenied (nothing written) for a user who may not review at all; the
    permission is checked again for each image by ``review_decide``."""
    if user is None or not user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Your role does not allow reviewing images.")
    if len(images) > bulk_limit():
        raise ActionRefused(f"One review covers at most {bulk_limit()} images; tick fewer.")
    results = []
    for image in images:
        try:
            decision = review_decide(
                image=image,
                user=user,
                decision=spec.value,
                note=note,
                end_of_life_date=end_of_life_date,
            )
        except (ActionRefused, PermissionDenied) as exc:
            results.append(ResultItem(image.pk, image.display_name, REFUSED, str(exc)))
            continue
        if decision.operation_id is not None:
            results.append(
                ResultItem(
                    image.pk,
                    image.display_name,
                    QUEUED,
                    "Being carried out in Azure.",
                    decision.operation_id,
                )
            )
        else:
            results.append(ResultItem(image.pk, image.display_name, RECORDED, "Recorded."))
    return results
