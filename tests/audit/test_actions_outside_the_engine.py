"""State changes made outside the operations engine are recorded too, and so are the refusals
of their rules (issue #20, item 6): abandoning a capture, a retry or an abandon refused,
deleting a partial image refused, a Marketplace image added (approved or not)."""

from __future__ import annotations

import pytest

from catalog.services.marketplace import marketplace_entry_add
from contoso_images.audit.models import AuditEvent, Outcome
from contoso_images.core.errors import ActionRefused
from contoso_images.operations import engine
from tests.capture.conftest import run_to_end
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.capture.models import Capture
from vmops.capture.services import (
    CaptureOptions,
    capture_abandon,
    capture_cancel,
    capture_request,
    capture_retry,
    partial_image_delete,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _inline_engine(settings, monkeypatch):
    settings.OPERATION_POLL_SECONDS = 0.01
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)


def _capture(inventory, user) -> Capture:
    capture, _ = capture_request(
        vm=inventory["web-prod-01"],
        options=CaptureOptions(
            kind=CaptureKind.GALLERY_GENERALIZED,
            guest_preparation=GuestPreparation.RUN_COMMAND,
            image_resource_group="rg-images",
            gallery="gal_contoso",
            definition="win2022-base",
            image_name="1.2.0",
            target_regions=[{"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"}],
        ),
        user=user,
    )
    return capture


def _canceled(inventory, user) -> Capture:
    capture = _capture(inventory, user)
    capture_cancel(capture=capture, user=user)
    assert run_to_end(capture.operation).status == "canceled"
    capture.refresh_from_db()
    return capture


def test_abandoning_a_capture_is_recorded(inventory, emulator, operator_user):
    capture = _canceled(inventory, operator_user)

    capture_abandon(capture=capture, user=operator_user)

    event = AuditEvent.objects.get(action="vm.capture_gallery.abandoned")
    assert event.outcome == Outcome.SUCCEEDED
    assert event.actor_username == operator_user.username
    assert event.operation_id == capture.operation_id
    assert event.target_name == "web-prod-01"
    assert (event.related_kind, event.related_id) == ("capture", str(capture.pk))


def test_abandoning_twice_records_it_once(inventory, emulator, operator_user):
    capture = _canceled(inventory, operator_user)
    capture_abandon(capture=capture, user=operator_user)
    capture_abandon(capture=capture, user=operator_user)
    assert AuditEvent.objects.filter(action="vm.capture_gallery.abandoned").count() == 1


def test_an_abandon_refused_by_its_rules_is_recorded(inventory, emulator, operator_user):
    capture = _capture(inventory, operator_user)  # still queued

    with pytest.raises(ActionRefused) as refused:
        capture_abandon(capture=capture, user=operator_user)

    event = AuditEvent.objects.get(action="vm.capture_gallery.abandon.refused")
    assert event.outcome == Outcome.REFUSED
    assert event.detail == str(refused.value)
    assert event.actor_username == operator_user.username
    assert event.operation_id == capture.operation_id


@pytest.mark.parametrize("why", ["unfinished", "abandoned", "no typed name"])
def test_a_retry_refused_by_its_rules_is_recorded(why, inventory, emulator, operator_user):
    capture = _capture(inventory, operator_user)
    if why != "unfinished":
        capture_cancel(capture=capture, user=operator_user)
        run_to_end(capture.operation)
        capture.refresh_from_db()
    if why == "abandoned":
        capture_abandon(capture=capture, user=operator_user)
        capture.refresh_from_db()

    with pytest.raises(ActionRefused) as refused:
        capture_retry(capture=capture, user=operator_user)

    event = AuditEvent.objects.get(action="vm.capture_gallery.retry.refused")
    assert event.outcome == Outcome.REFUSED
    assert event.detail == str(refused.value)
    assert event.operation_id == capture.operation_id
    assert Capture.objects.count() == 1


def test_a_partial_deletion_refused_by_its_rules_is_recorded(inventory, emulator, operator_user):
    capture = _capture(inventory, operator_user)

    with pytest.raises(ActionRefused) as refused:
        partial_image_delete(capture=capture, user=operator_user)

    event = AuditEvent.objects.get(action="image.delete_partial.refused")
    assert event.outcome == Outcome.REFUSED
    assert event.detail == str(refused.value)
    assert event.target_id == capture.image_id


@pytest.fixture
def subscriptions(db, emulator):
    from contoso_images.core.services import subscriptions_sync

    return subscriptions_sync()


@pytest.mark.parametrize("approve", [False, True])
def test_adding_a_marketplace_image_is_recorded_approved_or_not(
    approve, reviewer_user, emulator, subscriptions
):
    entry, created = marketplace_entry_add(
        user=reviewer_user,
        location="westeurope",
        publisher="Canonical",
        offer="0001-com-ubuntu-server-jammy",
        sku="22_04-lts-gen2",
        version="latest",
        approve=approve,
        note="For the build agents.",
    )
    assert created

    event = AuditEvent.objects.get(action="catalog.marketplace.add")
    assert event.outcome == Outcome.SUCCEEDED
    assert event.actor_username == reviewer_user.username
    assert event.target_name == entry.name
    assert event.target_id == entry.subject_id  # as Azure spells it (issue 20, item 10)
    assert event.parameters_data["approve"] is approve
    assert event.parameters_data["urn"] == entry.urn
    approvals = AuditEvent.objects.filter(action="catalog.review.approve").count()
    assert approvals == (1 if approve else 0)

    marketplace_entry_add(
        user=reviewer_user,
        location="westeurope",
        publisher="Canonical",
        offer="0001-com-ubuntu-server-jammy",
        sku="22_04-lts-gen2",
        version="latest",
    )
    assert AuditEvent.objects.filter(action="catalog.marketplace.add").count() == 1  # kept
