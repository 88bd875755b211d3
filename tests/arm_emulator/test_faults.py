"""Fault injection: throttling, server errors, latency and dropped connections."""

from __future__ import annotations

import pytest
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from .conftest import PROD_RG, make_client


def test_queued_429_is_retried_by_the_sdk(emu, sub, client):
    emu.clear_request_log()
    emu.queue_fault(method="GET", path_contains="/virtualMachines/web-prod-01", count=2)
    assert client.virtual_machines.get(PROD_RG, "web-prod-01").name == "web-prod-01"
    assert [e.status for e in emu.request_log()] == [429, 429, 200]


def test_queued_business_errors_carry_no_retry_after_so_the_sdk_does_not_retry(emu, client):
    emu.queue_fault(method="POST", path_contains="/web-prod-01/powerOff", status=409)
    emu.queue_fault(method="GET", path_contains="/virtualMachines/web-prod-02", status=404)
    emu.queue_fault(method="GET", path_contains="/virtualMachines/web-prod-03", status=400)
    emu.clear_request_log()
    with pytest.raises(ResourceExistsError) as exc:
        client.virtual_machines.begin_power_off(PROD_RG, "web-prod-01")
    assert "Retry-After" not in exc.value.response.headers
    with pytest.raises(ResourceNotFoundError) as exc:
        client.virtual_machines.get(PROD_RG, "web-prod-02")
    assert "Retry-After" not in exc.value.response.headers
    with pytest.raises(HttpResponseError) as exc:
        client.virtual_machines.get(PROD_RG, "web-prod-03")
    assert exc.value.status_code == 400 and "Retry-After" not in exc.value.response.headers
    assert [e.status for e in emu.request_log()] == [409, 404, 400]  # each answered once


def test_an_explicit_retry_after_on_a_409_is_sent_and_the_sdk_retries(emu, client):
    emu.queue_fault(
        method="GET", path_contains="/virtualMachines/web-prod-01", status=409, retry_after=1
    )
    emu.clear_request_log()
    assert client.virtual_machines.get(PROD_RG, "web-prod-01").name == "web-prod-01"
    assert [e.status for e in emu.request_log()] == [409, 200]


@pytest.mark.parametrize("status", [429, 503])
def test_queued_429_and_503_default_to_retry_after_1(emu, sub, status):
    client = make_client(emu, sub, retry_total=0)
    emu.queue_fault(method="GET", path_contains="/virtualMachines/web-prod-01", status=status)
    with pytest.raises(HttpResponseError) as exc:
        client.virtual_machines.get(PROD_RG, "web-prod-01")
    assert exc.value.status_code == status
    assert exc.value.response.headers["Retry-After"] == "1"


def test_throttle_body_and_headers(emu, sub):
    emu.set_faults(throttle_rate=1.0, retry_after=2)
    client = make_client(emu, sub, retry_total=0)
    with pytest.raises(HttpResponseError) as exc:
        client.virtual_machines.get(PROD_RG, "web-prod-01")
    err = exc.value
    assert err.status_code == 429
    assert err.response.headers["Retry-After"] == "2"
    assert err.error.code == "OperationNotAllowed"
    assert err.error.message.startswith("The server rejected the request because too many")
    assert err.error.details[0].code == "TooManyRequests"
    emu.clear_faults()
    assert client.virtual_machines.get(PROD_RG, "web-prod-01").name == "web-prod-01"


def test_env_overrides_fault_rates(emu, sub, monkeypatch):
    monkeypatch.setenv("AZURE_EMULATOR_SERVER_ERROR_RATE", "1")
    client = make_client(emu, sub, retry_total=0)
    with pytest.raises(HttpResponseError) as exc:
        client.virtual_machines.get(PROD_RG, "web-prod-01")
    assert exc.value.status_code in (500, 503)


def test_queued_500_on_post_is_retried(emu, client):
    emu.queue_fault(method="POST", path_contains="/powerOff", status=500, retry_after=None)
    client.virtual_machines.begin_power_off(PROD_RG, "web-prod-01").result()
    statuses = [(e.method, e.status) for e in emu.request_log()]
    assert ("POST", 500) in statuses and ("POST", 202) in statuses


def test_queued_drop_raises_service_error(emu, sub):
    client = make_client(emu, sub, retry_total=0)
    emu.queue_fault(path_contains="/virtualMachines/web-prod-01", drop=True)
    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        client.virtual_machines.get(PROD_RG, "web-prod-01")
    assert client.virtual_machines.get(PROD_RG, "web-prod-01").name == "web-prod-01"
    assert [e.status for e in emu.request_log()][-2:] == [0, 200]


def test_dropped_connection_is_retried_by_default(emu, client):
    emu.queue_fault(path_contains="/instanceView", drop=True)
    assert client.virtual_machines.instance_view(PROD_RG, "web-prod-01").statuses


def test_latency_is_added(emu, client):
    emu.set_faults(latency_ms=40)
    emu.clear_request_log()
    client.virtual_machines.get(PROD_RG, "web-prod-01")
    assert emu.request_log()[0].duration_ms >= 40


def test_faults_are_shared_through_the_state_file(emu, state_path, sub):
    from contoso_images.arm_emulator import Emulator

    emu.set_faults(throttle_rate=1.0)
    other = Emulator(state_path)
    assert other.fault_settings().throttle_rate == 1.0
    status, headers, _ = other.handle(
        "GET",
        f"https://management.azure.com/subscriptions/{sub}/providers/Microsoft.Compute/"
        "virtualMachines?api-version=2026-04-01",
        {},
        None,
    )
    assert status == 429 and headers["Retry-After"] == "1"


def test_other_hosts_are_refused(emu):
    import requests

    from contoso_images.azure.emulator_transport import EmulatorTransport

    transport = EmulatorTransport(emu)
    with pytest.raises(requests.exceptions.ConnectionError):
        transport.session.get("https://example.com/")
