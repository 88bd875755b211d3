"""Asking for a capture, retrying, cancelling or abandoning one, cleaning up after one.

A capture is checked against Azure's rules before anything is queued (the wizard's form);
then its operation and its Capture row are written in one transaction, and the engine
carries it out step by step. What changes outside the engine (abandoning a capture) and
every refusal of these rules are written to the audit record here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from contoso_images.audit.services import Outcome, record
from contoso_images.core.errors import ActionRefused
from contoso_images.core.users import Person, signed_in
from contoso_images.operations.models import Operation
from contoso_images.operations.registry import Target
from contoso_images.operations.services import (
    operation_cancel,
    operation_request,
    refusals_outlive_rollback,
)
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.capture.models import Capture
from vmops.capture.selectors import situation
from vmops.capture.specs import DELETE_PARTIAL_IMAGE, KINDS
from vmops.models import VirtualMachine


@dataclass(frozen=True)
class CaptureOptions:
    """What the operator chose in the wizard (already checked by its form)."""

    kind: str
    guest_preparation: str
    image_resource_group: str
    image_name: str
    gallery: str = ""
    definition: str = ""
    new_definition: dict[str, Any] = field(default_factory=dict)
    target_regions: list[dict[str, Any]] = field(default_factory=list)
    end_of_life_date: date | None = None
    exclude_from_latest: bool = True
    delete_source: bool = False


def image_id(vm: VirtualMachine, options: CaptureOptions) -> str:
    """The ARM id of the image a capture produces (known before it exists)."""
    base = (
        f"/subscriptions/{vm.subscription.subscription_id}/resourceGroups/"
        f"{options.image_resource_group}/providers/Microsoft.Compute"
    )
    if CaptureKind(options.kind).to_gallery:
        return (
            f"{base}/galleries/{options.gallery}/images/{options.definition}/versions/"
            f"{options.image_name}"
        )
    return f"{base}/images/{options.image_name}"


def capture_request(
    *, vm: VirtualMachine, options: CaptureOptions, user: Person, retry_of: Capture | None = None
) -> tuple[Capture, bool]:
    """Queue a capture of ``vm``; (capture, created). A second click gets the one under way."""
    kind = CaptureKind(options.kind)
    if not kind.generalized:
        options = CaptureOptions(
            **{**options.__dict__, "guest_preparation": GuestPreparation.NOT_NEEDED}
        )
    produced = image_id(vm, options)
    with refusals_outlive_rollback(), transaction.atomic():
        operation, created = operation_request(
            kind=KINDS[kind],
            target=vm.target,
            subject=vm,
            user=user,
            # Every option, so the tamper-evident record holds what was asked for.
            parameters={
                "capture_kind": kind.value,
                "image_id": produced,
                "image_name": options.image_name,
                "image_resource_group": options.image_resource_group,
                "gallery": options.gallery,
                "definition": options.definition,
                "new_definition": options.new_definition,
                "target_regions": options.target_regions,
                "end_of_life_date": (
                    options.end_of_life_date.isoformat() if options.end_of_life_date else None
                ),
                "exclude_from_latest": options.exclude_from_latest,
                "guest_preparation": options.guest_preparation,
                "delete_source": options.delete_source,
                "retry_of": retry_of.operation_id if retry_of else None,
            },
        )
        if not created:
            existing = Capture.objects.filter(operation=operation).first()
            if existing is None:
                raise ActionRefused(f"{operation.label} of {vm.name} is already in progress.")
            return existing, False
        capture = Capture.objects.create(
            vm=vm,
            operation=operation,
            kind=kind.value,
            guest_preparation=options.guest_preparation,
            requested_by=signed_in(user),
            requested_at=operation.requested_at,
            image_id=produced,
            image_name=options.image_name,
            image_resource_group=options.image_resource_group,
            gallery=options.gallery,
            definition=options.definition,
            new_definition=options.new_definition,
            target_regions=options.target_regions,
            end_of_life_date=options.end_of_life_date,
            exclude_from_latest=options.exclude_from_latest,
            delete_source=options.delete_source,
            retry_of=retry_of,
        )
    return capture, True


def options_of(capture: Capture) -> CaptureOptions:
    return CaptureOptions(
        kind=capture.kind,
        guest_preparation=capture.guest_preparation,
        image_resource_group=capture.image_resource_group,
        image_name=capture.image_name,
        gallery=capture.gallery,
        definition=capture.definition,
        new_definition=capture.new_definition,
        target_regions=capture.target_regions,
        end_of_life_date=capture.end_of_life_date,
        exclude_from_latest=capture.exclude_from_latest,
        delete_source=capture.delete_source,
    )


def retry_needs_typed_name(capture: Capture) -> bool:
    """A retry that may still generalize the VM (or delete it) is as irreversible as the
    wizard was, so it asks for the VM's name again."""
    generalized = VirtualMachine.objects.filter(pk=capture.vm_id).values_list(
        "generalized", flat=True
    )
    return bool(
        (CaptureKind(capture.kind).generalized and not generalized.first()) or capture.delete_source
    )


def _refuse(capture: Capture, action: str, user: Person, reason: str) -> ActionRefused:
    """Record that ``action`` (``retry``, ``abandon``) on ``capture`` was refused, and why (a
    refusal is never dropped in silence, whichever rule made it); the error to raise."""
    record(
        action=f"{capture.operation.kind}.{action}.refused",
        actor=user,
        target=capture.vm.target,
        outcome=Outcome.REFUSED,
        detail=reason,
        operation=capture.operation,
        related=("capture", capture.pk),
    )
    return ActionRefused(reason)


def capture_retry(*, capture: Capture, user: Person, typed_name: str = "") -> Capture:
    """Run a failed (or canceled) capture again with the same options; the steps Azure
    already shows done are skipped. A refusal of its rules is recorded with its reason."""
    if capture.operation.is_unfinished or capture.operation.status == "succeeded":
        raise _refuse(
            capture, "retry", user, "Only a capture that failed or was canceled can be retried."
        )
    if capture.abandoned_at:
        raise _refuse(
            capture,
            "retry",
            user,
            "This capture was abandoned; start a new one from the VM's page.",
        )
    if retry_needs_typed_name(capture) and typed_name.strip() != capture.vm.name:
        raise _refuse(
            capture,
            "retry",
            user,
            f"Type the VM's name, {capture.vm.name}, to retry: the retry marks it generalized "
            "(or deletes it), which cannot be undone. Nothing was queued.",
        )
    retried, _ = capture_request(
        vm=capture.vm, options=options_of(capture), user=user, retry_of=capture
    )
    return retried


def capture_cancel(*, capture: Capture, user: Person) -> Operation:
    """Stop a capture before its irreversible step (the engine refuses after)."""
    return operation_cancel(operation=capture.operation, user=user)


def capture_abandon(*, capture: Capture, user: Person) -> Capture:
    """Give up on a failed capture: it stays in the history, and is offered no more.

    Recorded in the audit trail in the same transaction (``<kind>.abandoned``), once; a
    refusal of its rule is recorded too (``<kind>.abandon.refused``)."""
    if capture.operation.is_unfinished or capture.operation.status == "succeeded":
        raise _refuse(
            capture,
            "abandon",
            user,
            "Only a capture that failed or was canceled can be abandoned.",
        )
    with transaction.atomic():
        abandoned = Capture.objects.filter(pk=capture.pk, abandoned_at__isnull=True).update(
            abandoned_at=timezone.now(), abandoned_by=user
        )
        if abandoned:
            record(
                action=f"{capture.operation.kind}.abandoned",
                actor=user,
                target=capture.vm.target,
                detail="Given up: the capture stays in the history and is offered no more.",
                parameters={"capture_id": capture.pk, "image_id": capture.image_id},
                operation=capture.operation,
                related=("capture", capture.pk),
            )
    capture.refresh_from_db()
    return capture


def partial_image_delete(*, capture: Capture, user: Person) -> Operation:
    """Delete the image (or version) a failed capture left behind. A refusal of its rules
    is recorded like the engine's own (``image.delete_partial.refused``)."""
    target = Target(
        id=capture.image_id,
        type=(
            "Microsoft.Compute/galleries/images/versions"
            if capture.gallery
            else "Microsoft.Compute/images"
        ),
        name=capture.image_name,
        resource_group=capture.image_resource_group,
        subscription_id=capture.vm.subscription.subscription_id,
    )
    reason = ""
    if capture.operation.is_unfinished or capture.operation.status == "succeeded":
        reason = "Only what a failed capture left behind can be deleted here."
    elif not situation(capture)[1]:
        reason = (
            f"{capture.image_name} was not made from {capture.vm.name} (or no longer exists): "
            "this capture has nothing of its own to delete."
        )
    if reason:
        record(
            action=f"{DELETE_PARTIAL_IMAGE.kind}.refused",
            actor=user,
            target=target,
            outcome=Outcome.REFUSED,
            detail=reason,
            related=("capture", capture.pk),
        )
        raise ActionRefused(reason)
    operation, _ = operation_request(
        kind=DELETE_PARTIAL_IMAGE.kind,
        target=target,
        subject=capture,
        user=user,
        parameters={"capture_id": capture.pk},
    )
    return operation
