"""Captures through the emulator, end to end: each kind, failures, retries, cancels."""

from __future__ import annotations

from datetime import date

import pytest

from contoso_images import azure
from contoso_images.core.errors import ActionRefused
from tests.capture.conftest import run_to_end
from tests.helpers import arm_posts
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.capture.services import (
    CaptureOptions,
    capture_abandon,
    capture_cancel,
    capture_request,
    capture_retry,
    partial_image_delete,
)
from vmops.power import START
from vmops.rules import VmState

pytestmark = pytest.mark.django_db

GALLERY = {"image_resource_group": "rg-images", "gallery": "gal_contoso"}


def _gallery_options(**overrides):
    values = {
        "kind": CaptureKind.GALLERY_GENERALIZED,
        "guest_preparation": GuestPreparation.RUN_COMMAND,
        "definition": "win2022-base",
        "image_name": "1.2.0",
        "target_regions": [
            {"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"},
            {"name": "northeurope", "replicas": 2, "storage": "Standard_ZRS"},
        ],
        **GALLERY,
        **overrides,
    }
    return CaptureOptions(**values)


def _steps(operation):
    return list(operation.steps.values_list("name", "status"))


def test_windows_vm_into_a_gallery_version_in_two_regions_with_sysprep_by_run_command(
    inventory, emulator, operator_user
):
    vm = inventory["web-prod-01"]
    capture, created = capture_request(vm=vm, options=_gallery_options(), user=operator_user)
    assert created and capture.operation.kind == "vm.capture_gallery"
    emulator.clear_request_log()

    done = run_to_end(capture.operation)

    assert done.status == "succeeded", (done.step, done.error_summary)
    assert _steps(done) == [
        ("preflight", "succeeded"),
        ("guest_prepare", "succeeded"),
        ("deallocate", "succeeded"),
        ("generalize", "succeeded"),
        ("create_definition", "skipped"),
        ("create_version", "succeeded"),
        ("replicate", "succeeded"),
        ("verify", "succeeded"),
        ("catalog", "succeeded"),
        ("delete_source", "skipped"),
    ]
    version = azure.gallery_image_version_get(
        vm.subscription.subscription_id, "rg-images", "gal_contoso", "win2022-base", "1.2.0"
    )
    assert {r.region.lower().replace(" ", "") for r in version.replication} == {
        "westeurope",
        "northeurope",
    }
    assert version.exclude_from_latest is True  # latest only once a manager approves it
    assert len(arm_posts(emulator, "runCommand")) == 1
    assert len(arm_posts(emulator, "generalize")) == 1
    vm.refresh_from_db()
    assert vm.generalized and vm.power_state == "deallocated"
    assert not START.availability(VmState.of(vm)).allowed
    from catalog.models import CatalogImage

    entry = CatalogImage.objects.get(resource_key=capture.image_id.lower())
    assert entry.capture_operation_id == done.pk


def test_linux_vm_into_a_managed_image_after_the_operators_confirmation(
    inventory, emulator, operator_user
):
    vm = inventory["api-prod-01"]
    options = CaptureOptions(
        kind=CaptureKind.MANAGED_IMAGE,
        guest_preparation=GuestPreparation.CONFIRMED,
        image_resource_group="rg-images",
        image_name="img-api-prod-01",
    )
    capture, _ = capture_request(vm=vm, options=options, user=operator_user)
    done = run_to_end(capture.operation)
    assert done.status == "succeeded", done.error_summary
    assert _steps(done)[1] == ("guest_prepare", "skipped")
    assert arm_posts(emulator, "runCommand") == []
    image = azure.managed_image_get(vm.subscription.subscription_id, "rg-images", "img-api-prod-01")
    assert image.provisioning_state == "Succeeded" and image.hyper_v_generation == "V2"


def test_specialized_capture_keeps_the_vm_running(inventory, emulator, operator_user):
    vm = inventory["web-prod-02"]
    options = _gallery_options(
        kind=CaptureKind.GALLERY_SPECIALIZED,
        guest_preparation=GuestPreparation.NOT_NEEDED,
        definition="web-specialized",
        image_name="1.0.0",
        target_regions=[{"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"}],
        new_definition={
            "location": "westeurope",
            "publisher": "contoso",
            "offer": "web",
            "sku": "specialized",
            "os_type": "Windows",
            "os_state": "Specialized",
            "hyper_v_generation": "V2",
        },
    )
    capture, _ = capture_request(vm=vm, options=options, user=operator_user)
    done = run_to_end(capture.operation)
    assert done.status == "succeeded", done.error_summary
    assert ("create_definition", "succeeded") in _steps(done)
    vm.refresh_from_db()
    assert vm.power_state == "running" and not vm.generalized
    assert arm_posts(emulator, "deallocate") == [] and arm_posts(emulator, "generalize") == []


def test_a_failing_step_stops_the_capture_there_and_a_retry_finishes_it(
    inventory, emulator, operator_user
):
    vm = inventory["web-prod-01"]
    emulator.queue_operation_failure(path_contains="/versions/1.2.0")
    capture, _ = capture_request(vm=vm, options=_gallery_options(), user=operator_user)
    failed = run_to_end(capture.operation)
    assert failed.status == "failed"
    assert failed.step == "create_version"
    assert failed.error_code == "InternalOperationError"
    # The version Azure left behind in Failed state is named in the next attempt's refusal,
    # and can be deleted from the capture's page.
    retried = capture_retry(capture=capture, user=operator_user)
    refused = run_to_end(retried.operation)
    assert refused.status == "failed" and "exists in state Failed" in refused.error_summary
    deletion = partial_image_delete(capture=retried, user=operator_user)
    assert run_to_end(deletion).status == "succeeded"
    third = capture_retry(capture=retried, user=operator_user)
    done = run_to_end(third.operation)
    assert done.status == "succeeded", done.error_summary
    # Generalize and deallocate were done by the first attempt: skipped, not sent again.
    assert dict(_steps(done))["generalize"] == "skipped"
    assert len(arm_posts(emulator, "generalize")) == 1


def test_a_capture_can_be_canceled_before_the_irreversible_step_only(
    inventory, emulator, operator_user
):
    vm = inventory["web-prod-01"]
    capture, _ = capture_request(vm=vm, options=_gallery_options(), user=operator_user)
    capture_cancel(capture=capture, user=operator_user)
    done = run_to_end(capture.operation)
    assert done.status == "canceled"
    vm.refresh_from_db()
    assert not vm.generalized and vm.power_state == "running"
    with pytest.raises(ActionRefused):
        capture_cancel(capture=capture, user=operator_user)
    capture_abandon(capture=capture, user=operator_user)
    with pytest.raises(ActionRefused, match="abandoned"):
        capture_retry(capture=capture, user=operator_user)


def test_no_power_action_runs_beside_a_capture(inventory, operator_user):
    from vmops.services import vm_action_request

    vm = inventory["web-prod-01"]
    capture_request(vm=vm, options=_gallery_options(), user=operator_user)
    with pytest.raises(ActionRefused, match="Capture of web-prod-01 is already in progress"):
        vm_action_request(vm=vm, kind="restart", user=operator_user)


def test_a_version_created_meanwhile_stops_the_capture_before_any_change(
    inventory, emulator, operator_user
):
    vm = inventory["web-prod-01"]
    capture, _ = capture_request(
        vm=vm,
        options=_gallery_options(end_of_life_date=date(2030, 1, 1)),
        user=operator_user,
    )
    other = inventory["web-prod-03"]  # someone captures another VM into the same version
    token = azure.gallery_image_version_begin_create(
        vm.subscription.subscription_id,
        "rg-images",
        "gal_contoso",
        "win2022-base",
        "1.2.0",
        location="westeurope",
        source_id=azure.managed_image_get(
            vm.subscription.subscription_id, "rg-images", "img-win2022-base-20241001"
        ).id,
        target_regions=[azure.TargetRegion("westeurope")],
    )
    assert token and other
    emulator.clear_request_log()
    done = run_to_end(capture.operation)
    assert done.status == "failed" and done.step == "preflight"
    assert "Version 1.2.0 of win2022-base already exists" in done.error_summary
    assert arm_posts(emulator, "runCommand") == [] and arm_posts(emulator, "deallocate") == []
