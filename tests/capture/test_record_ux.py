"""A capture's record and what tells of it (issue 20): why each step was skipped, the image
named in the notification, the guest's output on either OS, the catalog's current review."""

from __future__ import annotations

import pytest

from contoso_images.arm_emulator.handlers_vms import run_command_output
from contoso_images.azure.vms import run_command_result_from_raw
from tests.capture.conftest import run_to_end
from tests.capture.test_collisions_and_retries import _options
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.capture.services import capture_request, capture_retry

pytestmark = pytest.mark.django_db


def _messages(operation) -> dict[str, tuple[str, str]]:
    return {s.name: (s.status, s.message) for s in operation.steps.all()}


def test_each_skipped_step_says_why_it_was_skipped(
    inventory, emulator, operator_user, operator_client, auditor_client
):
    vm = inventory["web-prod-01"]
    capture, _ = capture_request(vm=vm, options=_options(), user=operator_user)
    done = run_to_end(capture.operation)
    assert done.status == "succeeded", done.error_summary
    steps = _messages(done)
    assert steps["delete_source"] == ("skipped", "Not asked for: the VM is kept.")
    assert steps["create_definition"] == (
        "skipped",
        "Already existed: Image definition win2022-base exists.",
    )
    page = operator_client.get(f"/captures/{capture.pk}/").content.decode()
    assert "Not asked for: the VM is kept." in page
    assert "Already existed: Image definition win2022-base exists." in page
    history = auditor_client.get("/audit/captures/").content.decode()
    assert "(already done)" not in history
    assert "(Not asked for: the VM is kept.)" in history
    assert "(Already existed: Image definition win2022-base exists.)" in history


def test_a_step_an_earlier_attempt_did_is_said_so(inventory, emulator, operator_user):
    vm = inventory["web-prod-01"]
    emulator.queue_operation_failure(path_contains="/deallocate")
    capture, _ = capture_request(vm=vm, options=_options(), user=operator_user)
    assert run_to_end(capture.operation).status == "failed"
    retried = capture_retry(capture=capture, user=operator_user, typed_name=vm.name)
    done = run_to_end(retried.operation)
    assert done.status == "succeeded", done.error_summary
    status, message = _messages(done)["guest_prepare"]
    assert status == "skipped"
    assert message == (
        f"Already done by an earlier attempt: capture #{capture.pk} generalized the guest OS."
    )


def test_a_confirmed_linux_guest_is_not_said_to_be_sysprepped(inventory, emulator, operator_user):
    vm = inventory["api-prod-01"]
    capture, _ = capture_request(
        vm=vm,
        options=_options(
            guest_preparation=GuestPreparation.CONFIRMED,
            kind=CaptureKind.MANAGED_IMAGE,
            image_name="img-api-linux",
            gallery="",
            definition="",
            target_regions=[],
        ),
        user=operator_user,
    )
    assert run_to_end(capture.operation).status == "succeeded", capture.operation.error_summary
    status, message = _messages(capture.operation)["guest_prepare"]
    assert status == "skipped" and message.startswith("Not asked for: ")
    assert "waagent -deprovision+user" in message and "sysprep" not in message


def test_the_notification_names_the_image_made_and_links_it(
    inventory, emulator, operator_user, operator_client
):
    vm = inventory["web-prod-01"]
    capture, _ = capture_request(vm=vm, options=_options(), user=operator_user)
    done = run_to_end(capture.operation)
    assert done.progress_message == "Made image version gal_contoso / win2022-base / 1.2.0."
    html = operator_client.get("/notifications/").content.decode()
    assert "Not asked for: the VM is kept." not in html
    assert "Made image version gal_contoso / win2022-base / 1.2.0." in html
    assert f'href="/captures/by-operation/{done.pk}/"' in html


@pytest.mark.parametrize("os_type", ["Windows", "Linux"])
def test_run_command_output_reads_the_same_for_both_oses(os_type):
    from vmops.capture.steps import guest_output

    statuses = run_command_result_from_raw(run_command_output(os_type, "hello", "careful"))
    assert guest_output(statuses) == "[stdout]\nhello\n[stderr]\ncareful"
    quiet = run_command_result_from_raw(run_command_output(os_type, ""))
    assert guest_output(quiet) == "[stdout]\n(nothing printed)\n[stderr]\n(nothing printed)"
    assert guest_output(()) == ""


def test_a_windows_run_command_capture_shows_the_guest_output(
    inventory, emulator, operator_user, operator_client
):
    vm = inventory["web-prod-01"]
    assert vm.os_type == "Windows"
    capture, _ = capture_request(vm=vm, options=_options(), user=operator_user)
    assert run_to_end(capture.operation).status == "succeeded"
    capture.refresh_from_db()
    assert capture.guest_output.startswith("[stdout]\n")
    html = operator_client.get(f"/captures/{capture.pk}/").content.decode()
    assert "What Run Command printed in the guest" in html


def test_the_record_follows_the_catalog_review(inventory, emulator, operator_user, operator_client):
    from catalog.models import CatalogImage

    vm = inventory["web-prod-01"]
    capture, _ = capture_request(
        vm=vm, options=_options(exclude_from_latest=True), user=operator_user
    )
    assert run_to_end(capture.operation).status == "succeeded"
    html = operator_client.get(f"/captures/{capture.pk}/").content.decode()
    assert "Excluded until a manager approves it" in html
    # A manager approves it, and Azure carried it out (the catalog's row says both).
    CatalogImage.objects.filter(resource_key=capture.image_id.lower()).update(
        review_status="approved", exclude_from_latest=False, is_latest=True
    )
    html = operator_client.get(f"/captures/{capture.pk}/").content.decode()
    assert "Excluded until a manager approves it" not in html
    assert "Approved in the catalog: the latest version" in html
    CatalogImage.objects.filter(resource_key=capture.image_id.lower()).update(
        review_status="rejected", exclude_from_latest=True, is_latest=False
    )
    html = operator_client.get(f"/captures/{capture.pk}/").content.decode()
    assert "Rejected in the catalog: excluded from latest" in html
