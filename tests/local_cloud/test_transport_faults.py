"""Transport faults over real sockets: the gateway's rules hold when the network, not an
adapter, loses things. A write whose answer was lost (reset mid-body, read timeout) is never
sent again; a refused connection or a failed TLS handshake reaches nothing; a poll that fails
is an observation failure, not the operation's. Each ends with the right state in the
emulator and exactly one write in its request log."""

from __future__ import annotations

import time

import pytest

from contoso_images import azure as gateway
from contoso_images.azure import AzureError
from contoso_images.azure.errors import CONNECTION_FAILED


def _vm(subscription_id: str, power_state: str) -> gateway.VirtualMachine:
    vms = gateway.vm_list_with_power_state(subscription_id)
    return next(v for v in vms if v.power_state == power_state and not v.generalized)


def _writes(emu, method: str, fragment: str) -> list:
    return [e for e in emu.request_log() if e.method == method and fragment in e.path]


def _power(subscription_id: str, vm: gateway.VirtualMachine) -> str:
    return gateway.vm_get(subscription_id, vm.resource_group, vm.name).vm.power_state


def test_post_reset_mid_response_is_not_resent(local_cloud, emu):
    sub = emu.subscription_ids()[0]
    vm = _vm(sub, "running")
    emu.queue_fault(method="POST", path_contains="/deallocate", drop=True, applied=True)
    with pytest.raises(AzureError) as caught:
        gateway.vm_begin_deallocate(sub, vm.resource_group, vm.name)
    assert caught.value.code == CONNECTION_FAILED and caught.value.is_transient
    [write] = _writes(emu, "POST", "/deallocate")
    assert (write.status, write.lost) == (202, "drop")
    assert _power(sub, vm) == "deallocated"  # Azure did it; only the answer was lost


@pytest.mark.parametrize("reset_point", ["body", "start"])
def test_put_whose_answer_is_reset_is_not_resent(local_cloud, emu, reset_point):
    """azure-core resends a PUT after "Connection aborted" (reset before the answer); the
    gateway does not: the gallery may exist already."""
    emu.network.set_reset_point(reset_point)
    sub = emu.subscription_ids()[0]
    emu.queue_fault(method="PUT", path_contains="/galleries/", drop=True, applied=True)
    with pytest.raises(AzureError) as caught:
        gateway.gallery_begin_create(sub, "rg-images", "galNew", location="westeurope")
    assert caught.value.code == CONNECTION_FAILED
    [write] = _writes(emu, "PUT", "/galleries/galNew")
    assert write.applied and write.lost == "drop"
    names = {g.name for g in gateway.galleries(sub)}
    assert "galNew" in names


@pytest.mark.slow
def test_delete_past_the_read_timeout_is_not_resent(local_cloud, emu, settings):
    settings.AZURE_READ_TIMEOUT = 0.5
    gateway.clear_client_cache()
    sub = emu.subscription_ids()[0]
    vm = _vm(sub, "deallocated")
    emu.queue_fault(
        method="DELETE", path_contains=f"/virtualMachines/{vm.name}", timeout=True, applied=True
    )
    started = time.monotonic()
    with pytest.raises(AzureError) as caught:
        gateway.vm_begin_delete(sub, vm.resource_group, vm.name)
    assert time.monotonic() - started < 5  # the client's read timeout, not the server's hold
    assert caught.value.code == CONNECTION_FAILED
    [write] = _writes(emu, "DELETE", f"/virtualMachines/{vm.name}")
    assert write.applied and write.lost == "timeout"
    assert vm.name not in {v.name for v in gateway.vm_list_with_power_state(sub)}


@pytest.mark.slow
def test_post_past_the_read_timeout_is_not_resent(local_cloud, emu, settings):
    settings.AZURE_READ_TIMEOUT = 0.5
    gateway.clear_client_cache()
    sub = emu.subscription_ids()[0]
    vm = _vm(sub, "running")
    emu.queue_fault(method="POST", path_contains="/powerOff", timeout=True, applied=True)
    with pytest.raises(AzureError) as caught:
        gateway.vm_begin_power_off(sub, vm.resource_group, vm.name)
    assert caught.value.code == CONNECTION_FAILED
    assert len(_writes(emu, "POST", "/powerOff")) == 1
    assert _power(sub, vm) == "stopped"


def test_refused_connections_reach_nothing_then_the_retry_is_the_only_write(local_cloud, emu):
    sub = emu.subscription_ids()[0]
    vm = _vm(sub, "deallocated")  # also opens a pooled keep-alive connection
    emu.network.refuse_connections()
    assert emu.network.wait_applied()
    with pytest.raises(AzureError) as caught:
        gateway.vm_begin_start(sub, vm.resource_group, vm.name)
    assert caught.value.code == CONNECTION_FAILED
    assert "refused" in caught.value.message.lower()
    assert _writes(emu, "POST", "/start") == []
    emu.network.refuse_connections(False)
    assert emu.network.wait_applied()
    assert _power(sub, vm) == "deallocated"  # nothing happened meanwhile
    gateway.vm_begin_start(sub, vm.resource_group, vm.name)
    [write] = _writes(emu, "POST", "/start")
    assert write.applied and not write.lost


def test_a_tls_failure_reaches_nothing(local_cloud, emu):
    sub = emu.subscription_ids()[0]
    vm = _vm(sub, "running")  # the token is fetched and cached before the fault
    emu.network.serve_wrong_certificate()
    assert emu.network.wait_applied()
    with pytest.raises(AzureError) as caught:
        gateway.vm_begin_restart(sub, vm.resource_group, vm.name)
    assert caught.value.code == CONNECTION_FAILED
    assert "certificate" in caught.value.message.lower()
    assert _writes(emu, "POST", "/restart") == []
    emu.network.clear()
    assert emu.network.wait_applied()
    gateway.vm_begin_restart(sub, vm.resource_group, vm.name)
    assert len(_writes(emu, "POST", "/restart")) == 1


def test_a_failed_poll_is_not_a_failed_operation(local_cloud, emu):
    """Observation failures (every poll broken off mid-answer) raise a transient error; the
    operation itself succeeded and the next poll says so."""
    sub = emu.subscription_ids()[0]
    vm = _vm(sub, "running")
    token = gateway.vm_begin_deallocate(sub, vm.resource_group, vm.name)
    emu.queue_fault(method="GET", path_contains="/operations/", drop=True, applied=True, count=10)
    with pytest.raises(AzureError) as caught:
        gateway.operation_status("vm_deallocate", token, subscription_id=sub)
    assert caught.value.is_transient
    emu.clear_faults()
    status = gateway.operation_status("vm_deallocate", token, subscription_id=sub)
    assert status.state == "succeeded"
    assert len(_writes(emu, "POST", "/deallocate")) == 1


def test_a_dropped_read_is_retried(local_cloud, emu):
    """A GET that never took effect is safe to send again: azure-core does, once."""
    sub = emu.subscription_ids()[0]
    emu.queue_fault(method="GET", path_contains="/virtualMachines", drop=True)
    assert gateway.vm_list_with_power_state(sub)
    statuses = [e.status for e in emu.request_log() if e.method == "GET"]
    assert statuses == [0, 200]
