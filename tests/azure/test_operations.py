"""Continuation tokens: begun here, resumed anywhere (even in another process), bounded waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from contoso_images import azure as gateway
from contoso_images.azure import AzureError

from .conftest import pick

ROOT = Path(__file__).resolve().parents[2]

RESUME = """
import json, sys
import django
django.setup()
from contoso_images.azure import operation_status
kind, token, sub = sys.argv[1:4]
status = operation_status(kind, token, subscription_id=sub, wait_seconds=5)
print(json.dumps({"state": status.state, "error": str(status.error) if status.error else None}))
"""


def test_begin_returns_a_token_without_polling_or_threads(emulator, subscription_id, vms):
    vm = pick(vms, power_state="running")
    threads_before = threading.active_count()
    emulator.clear_request_log()
    token = gateway.vm_begin_power_off(subscription_id, vm.resource_group, vm.name)
    log = emulator.request_log()
    assert [(e.method, e.status) for e in log] == [("POST", 202)]  # the action only, no poll
    assert threading.active_count() == threads_before  # no LROPoller thread left behind
    assert isinstance(token, str) and len(token) > 40


def test_resumed_in_another_process(emulator, emulator_path, subscription_id, vms):
    vm = pick(vms, power_state="running")
    token = gateway.vm_begin_deallocate(subscription_id, vm.resource_group, vm.name)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "contoso_images.settings",
        "DJANGO_TESTING": "1",
        "AZURE_MODE": "emulator",
        "AZURE_EMULATOR_STATE": str(emulator_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", RESUME, "vm_deallocate", token, subscription_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"state": "succeeded", "error": None}
    assert (
        gateway.vm_get(subscription_id, vm.resource_group, vm.name).vm.power_state == "deallocated"
    )


def test_in_progress_and_bounded_wait(emulator, subscription_id, vms):
    emulator.set_durations(all=60)
    vm = pick(vms, power_state="running")
    token = gateway.vm_begin_power_off(subscription_id, vm.resource_group, vm.name)
    started = time.monotonic()
    status = gateway.operation_status("vm_power_off", token, subscription_id=subscription_id)
    assert status.state == "in_progress" and not status.done and status.error is None
    status = gateway.operation_status(
        "vm_power_off", token, subscription_id=subscription_id, wait_seconds=0.5
    )
    assert status.state == "in_progress"
    assert time.monotonic() - started < 5
    assert gateway.vm_get(subscription_id, vm.resource_group, vm.name).vm.power_state == "stopping"


def test_unknown_kind(subscription_id):
    with pytest.raises(ValueError, match="unknown operation kind"):
        gateway.operation_status("vm_explode", "token", subscription_id=subscription_id)


def test_version_under_a_missing_gallery(subscription_id, vms):
    vm = vms[0]
    with pytest.raises(AzureError) as caught:
        gateway.gallery_image_version_begin_create(
            subscription_id,
            vm.resource_group,
            "no-such-gallery",
            "def",
            "1.0.0",
            location=vm.location,
            source_id=vm.id,
            target_regions=[gateway.TargetRegion(vm.location)],
        )
    err = caught.value
    assert err.code == "ParentResourceNotFound" and err.is_not_found
    assert "Parent resource" in err.message and "not found" in err.message
    assert err.sentence.endswith("does not exist, so nothing can be created or read under it.")


PREEMPTED = "Operation execution has been preempted by a more recent operation."


@pytest.mark.parametrize(
    ("failure", "sentence"),
    [
        ({}, "An internal execution error occurred. Please retry later."),
        (
            {"code": "OperationPreempted", "message": PREEMPTED, "status": "Canceled"},
            "A more recent operation on this resource replaced this one.",
        ),
    ],
)
def test_failed_operation_is_reported_not_raised(emulator, subscription_id, vms, failure, sentence):
    vm = pick(vms, power_state="running")
    emulator.queue_operation_failure(path_contains=f"/{vm.name}/powerOff", **failure)
    token = gateway.vm_begin_power_off(subscription_id, vm.resource_group, vm.name)
    status = gateway.operation_status("vm_power_off", token, subscription_id=subscription_id)
    assert status.state == "failed" and status.done and status.result is None
    assert isinstance(status.error, AzureError)
    assert status.error.code == failure.get("code", "InternalOperationError")
    assert status.error.message == failure.get(
        "message", "An internal execution error occurred. Please retry later."
    )
    assert status.error.sentence == sentence
    after = gateway.vm_get(subscription_id, vm.resource_group, vm.name).vm
    assert (after.power_state, after.provisioning_state) == ("running", "Succeeded")


@pytest.mark.parametrize(
    ("begin", "kind", "retry_after"),
    [
        ("vm_begin_deallocate", "vm_deallocate", "10"),  # Azure's Retry-After is not slept on
        ("vm_begin_power_off", "vm_power_off", None),  # no Retry-After: the client's interval
    ],
)
def test_polling_never_sleeps_in_tests_with_or_without_retry_after(
    emulator, subscription_id, vms, begin, kind, retry_after
):
    import base64

    vm = pick(vms, power_state="running")
    emulator.set_durations(all=5)  # still in progress at the first polls
    token = getattr(gateway, begin)(subscription_id, vm.resource_group, vm.name)
    initial = json.loads(base64.b64decode(token))["data"]["response"]["headers"]
    assert initial.get("Retry-After") == retry_after
    started = time.monotonic()
    status = gateway.operation_status(kind, token, subscription_id=subscription_id)
    assert status.state == "in_progress"
    emulator.set_durations(all=0)
    emulator.advance(6)
    status = gateway.operation_status(kind, token, subscription_id=subscription_id, wait_seconds=30)
    assert status.state == "succeeded"
    # Polls at the SDK's own interval (5 s) or at Retry-After (10 s) would block here; the
    # emulator transport caps every sleep (0 when all durations are 0).
    assert time.monotonic() - started < 3
