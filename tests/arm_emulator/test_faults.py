"""Fault injection: throttling, server errors, latency and dropped connections."""

from __future__ import annotations

import pytest
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)

from .conftest import PROD_RG, make_client, power


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


# --- applied, then the answer is lost (issue #12) -------------------------------------------


def _prov_time(client, vm: str):
    view = client.virtual_machines.instance_view(PROD_RG, vm)
    return next(s.time for s in view.statuses if s.code.startswith("ProvisioningState/"))


def test_applied_then_504_the_restart_happens_and_the_log_says_so(emu, sub):
    """The front door loses the answer of an accepted restart: the client sees 504, the
    VM restarts anyway, and the log records 202 with ``lost="504"``."""
    client = make_client(emu, sub, retry_total=0)
    emu.set_durations(restart=30)
    before = _prov_time(client, "web-prod-01")
    emu.advance(2)
    emu.queue_fault(method="POST", path_contains="/web-prod-01/restart", status=504, applied=True)
    emu.clear_request_log()
    with pytest.raises(HttpResponseError) as exc:
        client.virtual_machines.begin_restart(PROD_RG, "web-prod-01")
    assert exc.value.status_code == 504
    [entry] = emu.request_log()
    assert (entry.method, entry.status, entry.lost, entry.applied) == ("POST", 202, "504", True)
    assert power(client, PROD_RG, "web-prod-01") == "PowerState/starting"
    assert _prov_time(client, "web-prod-01") > before  # accepted: the time moved
    emu.advance(31)
    assert power(client, PROD_RG, "web-prod-01") == "PowerState/running"


@pytest.mark.parametrize(
    ("kwargs", "lost", "error"),
    [
        ({"timeout": True}, "timeout", ServiceResponseTimeoutError),
        ({"drop": True}, "drop", ServiceResponseError),
    ],
)
def test_applied_then_timeout_or_reset_is_not_retried_for_post(emu, sub, kwargs, lost, error):
    """A read timeout or a reset after the request went out is ServiceResponseError in
    azure-core, which does not retry a POST (default retry settings here): the power-off
    happened once, and the caller must find out by reading the VM."""
    client = make_client(emu, sub)
    emu.queue_fault(method="POST", path_contains="/web-prod-01/powerOff", applied=True, **kwargs)
    emu.clear_request_log()
    with pytest.raises(error):
        client.virtual_machines.begin_power_off(PROD_RG, "web-prod-01")
    assert [(e.method, e.status, e.lost) for e in emu.request_log()] == [("POST", 202, lost)]
    assert power(client, PROD_RG, "web-prod-01") == "PowerState/stopped"


def test_a_retried_post_after_a_lost_500_meets_the_first_one(emu, sub):
    """azure-core retries a POST on 500: when the first one was applied, the retry finds
    the restart under way and Azure refuses it (409, OperationNotAllowed)."""
    client = make_client(emu, sub)
    emu.set_durations(restart=30)
    emu.queue_fault(method="POST", path_contains="/web-prod-02/restart", status=500, applied=True)
    emu.clear_request_log()
    with pytest.raises(ResourceExistsError) as exc:
        client.virtual_machines.begin_restart(PROD_RG, "web-prod-02")
    assert exc.value.error.code == "OperationNotAllowed"
    log = [(e.method, e.status, e.lost) for e in emu.request_log()]
    assert log == [("POST", 202, "500"), ("POST", 409, "")]
    assert sum(e.applied for e in emu.request_log()) == 1


def test_a_timeout_before_the_request_applies_nothing(emu, client):
    """A connect timeout: the power-off never reached Azure. azure-core does not retry a
    POST (nor a PATCH) after a transport error; it does retry a GET."""
    emu.queue_fault(method="POST", path_contains="/web-prod-01/powerOff", timeout=True)
    emu.queue_fault(method="GET", path_contains="/web-prod-01/instanceView", timeout=True)
    emu.clear_request_log()
    with pytest.raises(ServiceRequestTimeoutError):
        client.virtual_machines.begin_power_off(PROD_RG, "web-prod-01")
    assert power(client, PROD_RG, "web-prod-01") == "PowerState/running"
    assert [(e.method, e.status, e.lost) for e in emu.request_log()] == [
        ("POST", 0, ""),
        ("GET", 0, ""),
        ("GET", 200, ""),
    ]


def test_applied_lost_rate_loses_answers_of_applied_requests(emu, sub):
    client = make_client(emu, sub, retry_total=0)
    emu.set_faults(applied_lost_rate=1.0)
    emu.clear_request_log()
    with pytest.raises((HttpResponseError, ServiceResponseError)):
        client.virtual_machines.begin_deallocate(PROD_RG, "web-prod-02")
    [entry] = emu.request_log()
    assert entry.status == 202 and entry.lost in ("500", "503", "504", "timeout", "drop")
    emu.clear_faults()
    assert power(client, PROD_RG, "web-prod-02") in (
        "PowerState/deallocated",
        "PowerState/deallocating",
    )


def test_applied_faults_need_a_way_to_lose_the_answer(emu):
    with pytest.raises(ValueError, match="applied"):
        emu.queue_fault(status=409, applied=True)
    with pytest.raises(ValueError, match="drop or a timeout"):
        emu.queue_fault(drop=True, timeout=True)


def test_an_older_state_file_gets_the_new_columns(tmp_path):
    """A state file written before timeouts and lost answers existed still opens."""
    import sqlite3

    from contoso_images.arm_emulator import Emulator

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE fault_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT, "
            "path_contains TEXT NOT NULL, status INTEGER NOT NULL, retry_after INTEGER, "
            "drop_conn INTEGER NOT NULL, remaining INTEGER NOT NULL);"
            "CREATE TABLE request_log (id INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT "
            "NULL, path TEXT NOT NULL, status INTEGER NOT NULL, at REAL NOT NULL, duration_ms "
            "REAL NOT NULL);"
            "INSERT INTO request_log (method, path, status, at, duration_ms) "
            "VALUES ('GET', '/x', 200, 0, 1);"
        )
    emu = Emulator(path)
    emu.queue_fault(drop=True, applied=True)
    assert emu.request_log()[0].lost == ""
    emu.store.close()
