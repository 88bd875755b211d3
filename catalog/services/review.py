"""Review decisions: recorded for ever, and for gallery versions carried out in Azure.

A decision is written in the request's transaction together with, for a gallery version,
the Operation that carries it out (what each decision does is its spec in
``catalog.decisions``: approve clears exclude-from-latest so the version can be "latest";
reject and deprecate set it, deprecate also sets the end of life). The badge changes only
when Azure has done it: the effect's ``on_succeeded`` runs inside the transaction that ends
the operation and puts the new status in force, so the badge and the operation's end are
one fact. A refused update leaves the badge as it was and the decision
reads "not carried out", with ARM's error as a sentence (from its operation).

Decisions on managed images and Marketplace entries have no Azure effect: they are recorded
and in force at once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from catalog.choices import REVIEW_PERMISSION
from catalog.decisions import DecisionSpec, GalleryEffect, decision_spec
from catalog.models import CatalogImage, ReviewDecision
from catalog.services.sync import recompute_latest
from contoso_images.audit.services import Outcome, Subject, record
from contoso_images.core.errors import ActionRefused
from contoso_images.core.users import Person, signed_in
from contoso_images.operations.models import Operation
from contoso_images.operations.services import operation_request, refusals_outlive_rollback

logger = logging.getLogger(__name__)


def image_snapshot(image: CatalogImage) -> dict[str, Any]:
    """The image as it was when decided on, kept with the decision."""
    definition = image.definition

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "kind": image.kind,
        "name": image.name,
        "display_name": image.display_name,
        "resource_id": image.resource_id,
        "urn": image.urn if image.is_marketplace else "",
        "gallery": definition.gallery_name if definition else "",
        "definition": definition.name if definition else "",
        "location": image.location,
        "os_type": image.os_type,
        "os_state": image.os_state,
        "hyper_v_generation": image.hyper_v_generation,
        "architecture": image.architecture,
        "security_type": image.security_type,
        "provisioning_state": image.provisioning_state,
        "source_id": image.source_id,
        "replication_state": image.replication_state,
        "exclude_from_latest": image.exclude_from_latest,
        "is_latest": image.is_latest,
        "end_of_life_date": when(image.end_of_life_date),
        "review_status": image.review_status,
        "image_state": image.image_state,
        "plan": image.plan,
        "gone_at": when(image.gone_at),
    }


def effect_parameters(
    spec: DecisionSpec, effect: GalleryEffect, end_of_life_date: datetime | None
) -> dict[str, Any]:
    """What the review effect asks Azure for (stored on the operation)."""
    return {
        "decision": spec.value,
        "exclude_from_latest": effect.exclude_from_latest,
        "end_of_life_date": end_of_life_date.isoformat() if end_of_life_date else None,
    }


def review_decide(
    *,
    image: CatalogImage,
    user: Person,
    decision: str,
    note: str = "",
    end_of_life_date: datetime | None = None,
) -> ReviewDecision:
    """Record a reviewer's decision; on a gallery version, queue its Azure effect.

    Raises PermissionDenied for users without ``catalog.review_image`` and ActionRefused
    (a sentence) for anything the rules forbid: a missing reason, an end of life in the
    past, a decision on a deleted image, or a decision while another one is still being
    carried out on the same version. Nothing is written when it raises.
    """
    if user is None or not user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Your role does not allow reviewing images.")
    try:
        spec = decision_spec(decision)
    except KeyError:
        raise ActionRefused("Unknown decision.") from None
    note = (note or "").strip()
    if spec.note_required and not note:
        raise ActionRefused(f"Say why: a {spec.label.lower()} needs a note.")
    if end_of_life_date is not None and not spec.takes_end_of_life:
        raise ActionRefused("Only a deprecation takes an end-of-life date.")
    if end_of_life_date is not None and end_of_life_date <= timezone.now():
        raise ActionRefused("The end-of-life date must be in the future (Azure refuses past ones).")
    if image.gone_at and not spec.when_gone:
        raise ActionRefused(
            f"{image.display_name} was deleted in Azure; only comments can be added to its record."
        )
    with refusals_outlive_rollback(), transaction.atomic():
        operation = None
        if image.is_gallery_version and spec.effect is not None:
            operation = _request_effect(image, user, spec, spec.effect, end_of_life_date)
        record = ReviewDecision.objects.create(
            image=image,
            decision=spec.decision,
            note=note,
            end_of_life_date=end_of_life_date,
            decided_by=signed_in(user),
            decided_at=timezone.now(),
            status_before=image.review_status,
            snapshot=image_snapshot(image),
            operation=operation,
        )
        if operation is None and spec.status_after:
            _put_in_force(image, spec.status_after, end_of_life_date)
        record_decision_in_audit(record)
    return record


def _request_effect(
    image: CatalogImage,
    user: Person,
    spec: DecisionSpec,
    effect: GalleryEffect,
    end_of_life_date: datetime | None,
) -> Operation:
    operation, created = operation_request(
        kind=effect.kind,
        target=image.target,
        subject=image,
        user=user,
        parameters=effect_parameters(spec, effect, end_of_life_date),
    )
    if not created:
        # The same decision clicked twice: the first is under way, the second records nothing.
        raise ActionRefused(
            f"{operation.label} of {image.display_name} is already being carried out in Azure; "
            "this decision was not recorded. Try again when it has finished."
        )
    return operation


def _put_in_force(
    image: CatalogImage, status: str, end_of_life_date: datetime | None = None
) -> None:
    now = timezone.now()
    fields: dict[str, Any] = {"review_status": status, "review_status_changed_at": now}
    if end_of_life_date is not None:
        fields["end_of_life_date"] = end_of_life_date
    CatalogImage.objects.filter(pk=image.pk).update(**fields)
    for name, value in fields.items():
        setattr(image, name, value)


def record_decision_in_audit(decision: ReviewDecision) -> None:
    """Write the decision to the audit record, inside the decision's transaction (a record
    that cannot be written undoes the decision).

    ``catalog.review.<decision>``: accepted when its Azure effect is queued (the operation's
    own events say how it ended), succeeded when it is in force at once.
    """
    image = decision.image
    effect = decision.operation is not None
    record(
        action=f"catalog.review.{decision.decision}",
        actor=decision.decided_by,
        target=Subject(
            kind=image.target.type if image.resource_id else "marketplace-image",
            id=image.subject_id,
            name=image.display_name,
        ),
        outcome=Outcome.ACCEPTED if effect else Outcome.SUCCEEDED,
        parameters={
            "note": decision.note,
            "end_of_life_date": (
                decision.end_of_life_date.isoformat() if decision.end_of_life_date else None
            ),
            "status_before": decision.status_before,
            "effect": "queued in Azure" if effect else "recorded only",
            "image": decision.snapshot,
        },
        operation=decision.operation,
        related=("catalog.review", decision.pk),
    )


# --- the effect's outcome ------------------------------------------------------------------


def effect_succeeded(*, operation: Operation) -> None:
    """Azure carried a decision out: the badge changes, and "latest" moves if it must.

    Its effect's ``on_succeeded`` (catalog.specs): it runs inside the transaction that
    records the operation's success, and commits or rolls back with it."""
    decision = ReviewDecision.objects.select_related("image").filter(operation=operation).first()
    if decision is None:
        logger.warning("Review effect %s has no decision", operation.pk)
        return
    image = decision.image
    parameters = operation.parameters
    now = timezone.now()
    fields: dict[str, Any] = {
        "review_status": decision_spec(decision.decision).status_after or image.review_status,
        "review_status_changed_at": now,
        "exclude_from_latest": bool(parameters.get("exclude_from_latest")),
        "reported_at": now,
    }
    if decision.end_of_life_date is not None:
        fields["end_of_life_date"] = decision.end_of_life_date
    CatalogImage.objects.filter(pk=image.pk).update(**fields)
    if image.definition_id:
        recompute_latest(definition_ids=[image.definition_id])
