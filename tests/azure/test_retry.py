"""Throttling, server errors and dropped connections: bounded retries, then AzureError."""

from __future__ import annotations

import time

import pytest

from contoso_images import azure as gateway
from contoso_images.azure import AzureError

from .conftest import pick


def test_throttling_is_retried_then_succeeds(emulator, subscription_id):
    emulator.queue_fault(
        method="GET", path_contains="/virtualMachines", status=429, retry_after=1, count=2
    )
    emulator.clear_request_log()
    vms = gateway.vm_list_with_power_state(subscription_id)
    assert vms
    statuses = [e.status for e in emulator.request_log()]
    assert statuses[:3] == [429, 429, 200]


def test_throttling_beyond_the_cap_is_surfaced_with_retry_after(
    emulator, subscription_id, settings
):
    settings.AZURE_MAX_RETRY_WAIT = 10
    emulator.queue_fault(
        method="GET", path_contains="/virtualMachines", status=429, retry_after=1200, count=1
    )
    emulator.clear_request_log()
    started = time.monotonic()
    with pytest.raises(AzureError) as caught:
        gateway.vm_list_with_power_state(subscription_id)
    assert time.monotonic() - started < 5  # never slept on the 1200 s Retry-After
    err = caught.value
    assert err.is_throttled and err.code == "TooManyRequests" and err.status_code == 429
    assert err.retry_after == 1200
    assert (
        err.sentence
        == "Azure is throttling requests for this subscription; try again in 1200 seconds."
    )
    assert [e.status for e in emulator.request_log()] == [429]  # handed back at once


def test_throttling_on_an_action(emulator, subscription_id, vms):
    vm = pick(vms, power_state="running")
    emulator.queue_fault(
        method="POST", path_contains="/powerOff", status=429, retry_after=600, count=1
    )
    with pytest.raises(AzureError) as caught:
        gateway.vm_begin_power_off(subscription_id, vm.resource_group, vm.name)
    assert caught.value.is_throttled and caught.value.retry_after == 600


def test_retries_are_bounded(emulator, subscription_id):
    emulator.queue_fault(
        method="GET", path_contains="/virtualMachines", status=429, retry_after=1, count=50
    )
    emulator.clear_request_log()
    with pytest.raises(AzureError) as caught:
        gateway.vm_list_with_power_state(subscription_id)
    assert caught.value.is_throttled
    assert len(emulator.request_log()) == 4  # 1 try + retry_total (3)


def test_server_error_is_retried(emulator, subscription_id):
    emulator.queue_fault(
        method="GET", path_contains="/virtualMachines", status=503, retry_after=1, count=1
    )
    assert gateway.vm_list_with_power_state(subscription_id)


def test_dropped_connection_on_an_action_is_connection_failed(emulator, subscription_id, vms):
    vm = pick(vms, power_state="running")
    emulator.queue_fault(method="POST", path_contains="/restart", drop=True, count=1)
    with pytest.raises(AzureError) as caught:
        gateway.vm_begin_restart(subscription_id, vm.resource_group, vm.name)
    err = caught.value
    assert err.code == "ConnectionFailed"
    assert "Could not reach Azure Resource Manager" in err.sentence


def test_dropped_connections_on_reads_are_retried_then_surfaced(emulator, subscription_id, vms):
    vm = vms[0]
    emulator.queue_fault(
        method="GET", path_contains=f"/virtualMachines/{vm.name}", drop=True, count=1
    )
    assert gateway.vm_get(subscription_id, vm.resource_group, vm.name).vm.id == vm.id
    emulator.queue_fault(
        method="GET", path_contains=f"/virtualMachines/{vm.name}", drop=True, count=20
    )
    with pytest.raises(AzureError) as caught:
        gateway.vm_get(subscription_id, vm.resource_group, vm.name)
    assert caught.value.code == "ConnectionFailed"


@pytest.mark.parametrize(
    "loss", [{"status": 500}, {"status": 503}, {"timeout": True}, {"drop": True}]
)
def test_a_put_whose_answer_is_lost_is_not_sent_again(emulator, subscription_id, vms, loss):
    """azure-core resends a PUT after a 5xx, a timeout or a reset: Azure may have created the
    resource already, so the gateway hands the loss back and the engine looks before sending."""
    resource_group = vms[0].resource_group
    emulator.clear_request_log()
    emulator.queue_fault(method="PUT", path_contains="/galleries/gal_lost", applied=True, **loss)
    with pytest.raises(AzureError):
        gateway.gallery_begin_create(
            subscription_id, resource_group, "gal_lost", location="westeurope"
        )
    puts = [e for e in emulator.request_log() if e.method == "PUT"]
    assert [e.applied for e in puts] == [True] and puts[0].lost
    assert gateway.galleries(subscription_id)  # it exists: the first PUT took effect


def test_a_throttled_put_is_retried(emulator, subscription_id, vms):
    """A 429 says nothing was applied: sending the PUT again is safe."""
    emulator.queue_fault(method="PUT", path_contains="/galleries/gal_429", status=429, count=1)
    emulator.clear_request_log()
    gateway.gallery_begin_create(
        subscription_id, vms[0].resource_group, "gal_429", location="westeurope"
    )
    assert [e.status for e in emulator.request_log() if e.method == "PUT"][:2] == [429, 201]
