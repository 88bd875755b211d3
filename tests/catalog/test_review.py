"""Review decisions: recorded for ever; on gallery versions carried out in Azure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from catalog.choices import EffectStatus, ReviewStatus
from catalog.models import CatalogImage, ImmutableDecision, ReviewDecision
from catalog.services import review_decide
from contoso_images import azure
from contoso_images.core.errors import ActionRefused
from contoso_images.operations.engine import run as operation_run
from contoso_images.operations.models import Operation

pytestmark = pytest.mark.django_db


def _fresh(image):
    return CatalogImage.objects.select_related("definition", "subscription").get(pk=image.pk)


def _patches(emulator):
    return [e for e in emulator.request_log() if e.method == "PATCH"]


def _azure_version(image):
    d = image.definition
    return azure.gallery_image_version_get(
        image.subscription.subscription_id, image.resource_group, d.gallery_name, d.name, image.name
    )


def _exclude_in_azure(image):
    d = image.definition
    token = azure.gallery_image_version_begin_update(
        image.subscription.subscription_id,
        image.resource_group,
        d.gallery_name,
        d.name,
        image.name,
        exclude_from_latest=True,
    )
    sub = image.subscription.subscription_id
    assert (
        azure.operation_status(
            "gallery_image_version_update", token, subscription_id=sub, wait_seconds=5
        ).state
        == "succeeded"
    )


# --- gallery versions: carried out in Azure ------------------------------------------------


def test_approval_is_recorded_first_and_in_force_once_azure_did_it(
    catalog, emulator, reviewer_user
):
    version = catalog["win2022-base 1.0.0"]
    _exclude_in_azure(version)
    from catalog.services import catalog_sync_all

    catalog_sync_all()
    version = _fresh(version)
    assert version.exclude_from_latest
    emulator.clear_request_log()

    decision = review_decide(image=version, user=reviewer_user, decision="approve", note="Good.")

    assert emulator.request_log() == []  # nothing is sent from the request
    assert decision.operation.kind == "catalog.approve"
    assert decision.operation.status == "queued"
    assert decision.effect_status == EffectStatus.TO_CARRY_OUT
    assert _fresh(version).review_status == ReviewStatus.NOT_REVIEWED  # not yet in force
    assert decision.snapshot["exclude_from_latest"] is True
    assert decision.status_before == ReviewStatus.NOT_REVIEWED

    operation = operation_run(operation_id=decision.operation.pk)

    assert operation.status == "succeeded"
    assert len(_patches(emulator)) == 1
    assert operation.state["arm_operation_id"]  # ARM's id of the accepted update
    assert _azure_version(version).exclude_from_latest is False
    version = _fresh(version)
    assert version.review_status == ReviewStatus.APPROVED
    assert not version.exclude_from_latest
    decision = ReviewDecision.objects.get(pk=decision.pk)
    assert decision.effect_status == EffectStatus.CARRIED_OUT


def test_approving_an_excluded_version_makes_it_latest(catalog, emulator, reviewer_user):
    newer = catalog["win2022-base 1.1.0"]
    older = catalog["win2022-base 1.0.0"]
    _exclude_in_azure(newer)
    from catalog.services import catalog_sync_all

    catalog_sync_all()
    assert _fresh(older).is_latest and not _fresh(newer).is_latest
    decision = review_decide(image=_fresh(newer), user=reviewer_user, decision="approve")
    operation_run(operation_id=decision.operation.pk)
    assert _fresh(newer).is_latest and not _fresh(older).is_latest


def test_rejecting_the_latest_moves_latest_back(catalog, emulator, reviewer_user):
    newer = catalog["win2022-base 1.1.0"]
    decision = review_decide(
        image=newer, user=reviewer_user, decision="reject", note="Fails the CIS benchmark."
    )
    operation_run(operation_id=decision.operation.pk)
    assert _azure_version(newer).exclude_from_latest is True
    newer = _fresh(newer)
    assert newer.review_status == ReviewStatus.REJECTED
    assert newer.exclude_from_latest and not newer.is_latest
    assert _fresh(catalog["win2022-base 1.0.0"]).is_latest


def test_deprecation_excludes_and_sets_the_end_of_life_in_azure(catalog, emulator, reviewer_user):
    version = catalog["legacy-app 1.0.0"]
    eol = (timezone.now() + timedelta(days=20)).replace(microsecond=0)
    decision = review_decide(
        image=version,
        user=reviewer_user,
        decision="deprecate",
        note="Replaced by the 2022 build.",
        end_of_life_date=eol,
    )
    assert decision.operation.parameters == {
        "decision": "deprecate",
        "exclude_from_latest": True,
        "end_of_life_date": eol.isoformat(),
    }
    operation_run(operation_id=decision.operation.pk)
    in_azure = _azure_version(version)
    assert in_azure.exclude_from_latest is True
    assert in_azure.end_of_life_date == eol
    version = _fresh(version)
    assert version.review_status == ReviewStatus.DEPRECATED
    assert version.end_of_life_date == eol
    assert version.eol_soon


def test_the_badge_is_put_in_force_by_the_effect_itself_not_by_a_listener(
    catalog, emulator, reviewer_user, monkeypatch
):
    """The effect's spec puts its status in force with the success: with no listener at all
    (none filters events by kind any more), a rejection still changes the badge."""
    from contoso_images.operations import registry

    assert not [f for f in registry._listeners if f.__module__.startswith("catalog")]
    version = catalog["win2022-base 1.0.0"]
    decision = review_decide(image=version, user=reviewer_user, decision="reject", note="No.")
    monkeypatch.setattr(registry, "_listeners", [])
    operation_run(operation_id=decision.operation.pk)
    version = _fresh(version)
    assert (version.review_status, version.exclude_from_latest) == (ReviewStatus.REJECTED, True)


def test_a_badge_change_that_cannot_be_recorded_is_undone_with_the_success(
    catalog, emulator, reviewer_user, monkeypatch
):
    """The badge and the operation's end are one fact: an audit record that cannot be
    written undoes both, and the operation is taken up again later."""
    from contoso_images.operations import registry

    def refuse(event):
        if event.name == "succeeded":
            raise RuntimeError("the record cannot be written")

    version = catalog["win2022-base 1.0.0"]
    decision = review_decide(image=version, user=reviewer_user, decision="reject", note="No.")
    monkeypatch.setattr(registry, "_listeners", [refuse])
    operation = operation_run(operation_id=decision.operation.pk)
    assert operation.status == "running"
    assert _fresh(version).review_status == ReviewStatus.NOT_REVIEWED
    monkeypatch.setattr(registry, "_listeners", [])
    Operation.objects.filter(pk=operation.pk).update(lease_until=None)
    assert operation_run(operation_id=operation.pk).status == "succeeded"
    assert _fresh(version).review_status == ReviewStatus.REJECTED


def test_a_decision_azure_already_shows_sends_nothing(catalog, emulator, reviewer_user):
    version = catalog["ubuntu2204-base 1.0.0"]  # already included in latest
    decision = review_decide(image=version, user=reviewer_user, decision="approve")
    emulator.clear_request_log()
    operation = operation_run(operation_id=decision.operation.pk)
    assert operation.status == "succeeded"
    assert _patches(emulator) == []
    assert "nothing was sent" in operation.progress_message
    assert _fresh(version).review_status == ReviewStatus.APPROVED


def test_a_refused_update_leaves_the_badge_and_says_why(catalog, emulator, reviewer_user):
    version = catalog["win2022-base 1.1.0"]
    emulator.queue_operation_failure(
        path_contains="/versions/1.1.0",
        code="OperationNotAllowed",
        message="The gallery image version cannot be updated while it is being replicated.",
    )
    decision = review_decide(image=version, user=reviewer_user, decision="reject", note="No.")
    operation = operation_run(operation_id=decision.operation.pk)
    assert operation.status == "failed"
    assert operation.error_code == "OperationNotAllowed"
    assert operation.error_summary == (
        "The gallery image version cannot be updated while it is being replicated."
    )
    version = _fresh(version)
    assert version.review_status == ReviewStatus.NOT_REVIEWED
    decision = ReviewDecision.objects.get(pk=decision.pk)
    assert decision.effect_status == EffectStatus.NOT_CARRIED_OUT
    # The catalog shows what Azure shows after the failure (the update's 200 had already
    # applied the flag, and the version is Failed), not what was asked for.
    in_azure = _azure_version(version)
    assert version.provisioning_state == in_azure.provisioning_state == "Failed"
    assert version.exclude_from_latest == in_azure.exclude_from_latest


def test_a_request_azure_refuses_at_once_is_not_carried_out(catalog, emulator, reviewer_user):
    version = catalog["win2022-base 1.1.0"]
    emulator.queue_fault(method="PATCH", path_contains="/versions/1.1.0", status=409)
    decision = review_decide(image=version, user=reviewer_user, decision="reject", note="No.")
    operation = operation_run(operation_id=decision.operation.pk)
    assert operation.status == "failed"
    assert operation.error_summary == (
        "Another request changed this resource at the same moment. Try again shortly."
    )
    assert operation.request_id  # ARM's request id of the refusal
    version = _fresh(version)
    assert version.review_status == ReviewStatus.NOT_REVIEWED
    assert version.is_latest and not version.exclude_from_latest


def test_a_second_decision_while_one_is_carried_out_is_refused(catalog, reviewer_user):
    version = catalog["win2022-base 1.1.0"]
    review_decide(image=version, user=reviewer_user, decision="approve")
    with pytest.raises(ActionRefused) as refused:
        review_decide(image=version, user=reviewer_user, decision="reject", note="Changed my mind")
    assert "already in progress" in str(refused.value)
    with pytest.raises(ActionRefused, match="already being carried out"):
        review_decide(image=version, user=reviewer_user, decision="approve")
    assert ReviewDecision.objects.filter(image=version).count() == 1
    assert Operation.objects.filter(target_key=version.resource_key).count() == 1


def test_a_version_deleted_in_azure_fails_with_a_sentence(catalog, emulator, reviewer_user):
    version = catalog["legacy-app 1.0.0"]
    decision = review_decide(image=version, user=reviewer_user, decision="approve")
    emulator.handle(
        "DELETE",
        f"https://management.azure.com{version.resource_id}?api-version=2026-03-03",
        {},
        None,
    )
    operation = operation_run(operation_id=decision.operation.pk)
    assert operation.status == "failed"
    assert operation.error_summary == (
        "The image version no longer exists in Azure; nothing was changed."
    )
    assert _fresh(version).review_status == ReviewStatus.NOT_REVIEWED


# --- managed images and Marketplace entries: recorded only ---------------------------------


def test_a_decision_on_a_managed_image_is_in_force_at_once_without_azure(
    catalog, emulator, reviewer_user
):
    image = catalog["img-legacy-app-2016"]
    emulator.clear_request_log()
    eol = timezone.now() + timedelta(days=90)
    decision = review_decide(
        image=image, user=reviewer_user, decision="deprecate", note="Old", end_of_life_date=eol
    )
    assert decision.operation is None
    assert decision.effect_status == EffectStatus.RECORDED
    assert emulator.request_log() == []
    image = _fresh(image)
    assert image.review_status == ReviewStatus.DEPRECATED
    assert image.end_of_life_date == eol


def test_a_comment_changes_no_status(catalog, reviewer_user):
    image = catalog["win2022-base 1.0.0"]
    decision = review_decide(image=image, user=reviewer_user, decision="comment", note="Looks ok")
    assert decision.operation is None
    assert _fresh(image).review_status == ReviewStatus.NOT_REVIEWED


# --- rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["operator_user", "auditor_user", "roleless_user"])
def test_only_reviewers_decide(request, catalog, fixture):
    user = request.getfixturevalue(fixture)
    with pytest.raises(PermissionDenied):
        review_decide(image=catalog["win2022-base 1.0.0"], user=user, decision="approve")
    assert not ReviewDecision.objects.exists()
    assert not Operation.objects.exists()


@pytest.mark.parametrize(
    ("decision", "note", "eol_days", "message"),
    [
        ("reject", "", None, "needs a note"),
        ("deprecate", " ", None, "needs a note"),
        ("comment", "", None, "needs a note"),
        ("deprecate", "old", -1, "must be in the future"),
        ("approve", "", 10, "Only a deprecation"),
        ("promote", "", None, "Unknown decision"),
    ],
)
def test_bad_decisions_are_refused_and_write_nothing(
    catalog, reviewer_user, decision, note, eol_days, message
):
    eol = timezone.now() + timedelta(days=eol_days) if eol_days is not None else None
    with pytest.raises(ActionRefused, match=message):
        review_decide(
            image=catalog["img-legacy-app-2016"],
            user=reviewer_user,
            decision=decision,
            note=note,
            end_of_life_date=eol,
        )
    assert not ReviewDecision.objects.exists()


def test_a_gone_image_takes_comments_only(catalog, reviewer_user):
    image = catalog["img-legacy-app-2016"]
    CatalogImage.objects.filter(pk=image.pk).update(gone_at=timezone.now())
    image = _fresh(image)
    with pytest.raises(ActionRefused, match="deleted in Azure"):
        review_decide(image=image, user=reviewer_user, decision="approve")
    review_decide(image=image, user=reviewer_user, decision="comment", note="Deleted by Ops.")


def test_decisions_are_never_edited_or_deleted(catalog, reviewer_user):
    decision = review_decide(
        image=catalog["img-legacy-app-2016"], user=reviewer_user, decision="approve"
    )
    decision.note = "rewritten"
    with pytest.raises(ImmutableDecision):
        decision.save()
    with pytest.raises(ImmutableDecision):
        decision.delete()
    with pytest.raises(ImmutableDecision):
        ReviewDecision.objects.filter(pk=decision.pk).update(note="rewritten")
    with pytest.raises(ImmutableDecision):
        ReviewDecision.objects.all().delete()
    assert ReviewDecision.objects.get(pk=decision.pk).note == ""


# --- the audit record ----------------------------------------------------------------------


def test_every_decision_is_in_the_audit_record(catalog, emulator, reviewer_user):
    from contoso_images.audit.models import AuditEvent

    version = catalog["win2022-base 1.1.0"]
    managed = catalog["img-legacy-app-2016"]
    effect = review_decide(image=version, user=reviewer_user, decision="reject", note="CIS fails")
    recorded = review_decide(image=managed, user=reviewer_user, decision="approve")
    operation_run(operation_id=effect.operation.pk)

    first = AuditEvent.objects.get(action="catalog.review.reject")
    assert (first.target_key, first.actor_username, first.outcome) == (
        version.resource_key,
        reviewer_user.username,
        "accepted",
    )
    assert (first.related_kind, first.related_id) == ("catalog.review", str(effect.pk))
    assert first.operation_id == effect.operation.pk
    assert "CIS fails" in first.parameters
    second = AuditEvent.objects.get(action="catalog.review.approve")
    assert (second.target_key, second.outcome) == (managed.resource_key, "succeeded")
    assert second.operation_id is None and second.related_id == str(recorded.pk)
    # The effect's own end is recorded by the operations engine's events.
    assert AuditEvent.objects.filter(
        operation_id=effect.operation.pk, action="catalog.reject.succeeded"
    ).exists()


def test_a_refused_decision_leaves_no_audit_event_of_a_decision(catalog, reviewer_user):
    from contoso_images.audit.models import AuditEvent

    with pytest.raises(ActionRefused):
        review_decide(image=catalog["img-legacy-app-2016"], user=reviewer_user, decision="reject")
    assert not AuditEvent.objects.filter(action__startswith="catalog.review.").exists()
