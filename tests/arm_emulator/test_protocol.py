"""ARM protocol details: LRO headers and polling, paging, api-version, continuation tokens."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time

import pytest
from azure.core.exceptions import HttpResponseError

from contoso_images.arm_emulator import Emulator

from .conftest import PROD_RG, make_client, power

API = "api-version=2026-04-01"
BASE = "https://management.azure.com"


def _vm_url(sub: str, vm: str, suffix: str = "") -> str:
    return (
        f"{BASE}/subscriptions/{sub}/resourceGroups/{PROD_RG}/providers/"
        f"Microsoft.Compute/virtualMachines/{vm}{suffix}?{API}"
    )


def test_post_action_answers_202_with_async_headers(emu, sub):
    status, headers, body = emu.handle("POST", _vm_url(sub, "web-prod-01", "/powerOff"), {}, b"")
    assert (status, body) == (202, b"")
    aao, location = headers["Azure-AsyncOperation"], headers["Location"]
    assert aao.startswith(
        f"{BASE}/subscriptions/{sub}/providers/Microsoft.Compute/locations/westeurope/operations/"
    )
    assert "api-version=2026-04-01" in aao and "monitor=true" not in aao
    assert "monitor=true" in location and "api-version=2026-04-01" in location
    assert "Retry-After" not in headers  # recorded: none on a power off (fidelity doc)
    assert headers["x-ms-request-id"]
    status, _, body = emu.handle("GET", aao, {}, None)
    payload = json.loads(body)
    assert status == 200 and payload["status"] == "Succeeded" and "endTime" in payload
    assert payload["name"] and payload["startTime"]
    assert emu.handle("GET", location, {}, None)[:3:2] == (200, b"")


@pytest.mark.parametrize(
    ("method", "suffix", "retry_after"),
    [
        ("POST", "/deallocate", "10"),  # recorded (azure-sdk-for-net TestVMOperations, 2019)
        ("DELETE", "", "10"),  # recorded (azure-sdk-for-js virtualmachines_delete, 2021)
        ("POST", "/powerOff", None),  # recorded without one (TestVMOperations)
        ("POST", "/restart", None),
        ("POST", "/start", None),
    ],
)
def test_retry_after_only_where_azure_sends_it(emu, sub, method, suffix, retry_after):
    emu.set_durations(all=5)
    vm = "web-prod-03" if suffix == "/start" else "web-prod-01"
    status, headers, _ = emu.handle(method, _vm_url(sub, vm, suffix), {}, b"")
    assert status == 202
    assert headers.get("Retry-After") == retry_after
    # Polls carry none either: the client polls at its own interval.
    poll_status, poll_headers, body = emu.handle("GET", headers["Azure-AsyncOperation"], {}, None)
    assert json.loads(body)["status"] == "InProgress" and "Retry-After" not in poll_headers
    monitor_status, monitor_headers, _ = emu.handle("GET", headers["Location"], {}, None)
    assert monitor_status == 202 and "Retry-After" not in monitor_headers


def test_run_command_image_and_gallery_writes_send_no_retry_after(emu, sub):
    run = _vm_url(sub, "web-prod-01", "/runCommand")
    body = json.dumps({"commandId": "RunPowerShellScript", "script": ["echo hi"]}).encode()
    assert "Retry-After" not in emu.handle("POST", run, {}, body)[1]
    gallery = (
        f"{BASE}/subscriptions/{sub}/resourceGroups/{PROD_RG}/providers/"
        "Microsoft.Compute/galleries/gal_retry?api-version=2024-03-03"
    )
    status, headers, _ = emu.handle(
        "PUT", gallery, {}, json.dumps({"location": "westeurope"}).encode()
    )
    assert status == 201 and "Retry-After" not in headers
    status, headers, _ = emu.handle("DELETE", gallery, {}, None)
    assert status == 202 and "Retry-After" not in headers


def test_monitor_url_is_202_while_running(emu, sub):
    emu.set_durations(deallocate=8)
    _, headers, _ = emu.handle("POST", _vm_url(sub, "web-prod-01", "/deallocate"), {}, b"")
    status, _, body = emu.handle("GET", headers["Azure-AsyncOperation"], {}, None)
    assert json.loads(body)["status"] == "InProgress"
    assert emu.handle("GET", headers["Location"], {}, None)[0] == 202
    emu.advance(9)
    assert emu.handle("GET", headers["Location"], {}, None)[0] == 200


def test_generalize_is_synchronous_200_empty(emu, sub):
    emu.handle("POST", _vm_url(sub, "web-prod-03", "/deallocate"), {}, b"")
    status, _, body = emu.handle("POST", _vm_url(sub, "web-prod-03", "/generalize"), {}, b"")
    assert (status, body) == (200, b"")


@pytest.mark.parametrize(
    ("query", "code"),
    [("", "MissingApiVersionParameter"), ("?api-version=1999-01-01", "InvalidApiVersionParameter")],
)
def test_api_version_is_checked(emu, sub, query, code):
    url = f"{BASE}/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines{query}"
    status, headers, body = emu.handle("GET", url, {}, None)
    assert status == 400
    assert json.loads(body)["error"]["code"] == code
    assert "Retry-After" not in headers


def test_api_version_error_through_the_sdk(client):
    with pytest.raises(HttpResponseError) as exc:
        client.virtual_machines.get(PROD_RG, "web-prod-01", api_version="2010-01-01")
    assert exc.value.error.code == "InvalidApiVersionParameter"


def test_paging_follows_next_links(state_path):
    emu = Emulator(state_path, page_size=5)
    emu.seed_contoso_pilot(extra_vms=40)
    emu.set_durations(all=0)
    sub = emu.subscription_ids()[0]
    client = make_client(emu, sub)
    emu.clear_request_log()
    vms = list(client.virtual_machines.list_all(status_only="true"))
    names = [v.name for v in vms]
    # the generated VMs all go to the first subscription
    assert len(names) == len(set(names)) == 14 + 40
    log = emu.request_log()
    assert len(log) == math.ceil(len(vms) / 5)
    assert all("api-version=2026-04-01" in e.path and e.status == 200 for e in log)
    assert all("statusOnly=true" in e.path for e in log)
    assert "$skiptoken=" in log[1].path
    in_rg = list(client.virtual_machines.list("rg-data-prod"))
    assert len(in_rg) == 4 + 10  # round-robin over its 4 resource groups


def test_ten_thousand_vms_seed_fast_and_page_cheaply(state_path):
    emu = Emulator(state_path)
    started = time.perf_counter()
    counts = emu.seed_contoso_pilot(extra_vms=10_000)
    assert counts["virtual_machines"] == 10_018
    assert time.perf_counter() - started < 10
    sub = emu.subscription_ids()[0]
    url = (
        f"{BASE}/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines"
        f"?{API}&statusOnly=true"
    )
    started = time.perf_counter()
    status, _, body = emu.handle("GET", url, {}, None)
    assert status == 200
    page = json.loads(body)
    assert len(page["value"]) == 100 and page["nextLink"].startswith(BASE)
    status, _, body = emu.handle("GET", page["nextLink"], {}, None)
    assert status == 200 and len(json.loads(body)["value"]) == 100
    assert time.perf_counter() - started < 1.0


def test_continuation_token_resumes_in_a_fresh_emulator_object(emu, sub, state_path):
    emu.set_durations(power_off=5)
    token = (
        make_client(emu, sub)
        .virtual_machines.begin_power_off(PROD_RG, "web-prod-01", polling=True)
        .continuation_token()
    )
    emu.advance(6)
    fresh = Emulator(state_path)
    fresh.set_durations(all=0)
    client = make_client(fresh, sub)
    poller = client.virtual_machines.begin_power_off(
        PROD_RG, "web-prod-01", continuation_token=token
    )
    assert poller.result() is None
    assert power(client, PROD_RG, "web-prod-01") == "PowerState/stopped"


def test_continuation_token_resumes_in_another_process(emu, sub, state_path):
    emu.set_durations(deallocate=5)
    client = make_client(emu, sub)
    token = client.virtual_machines.begin_deallocate(PROD_RG, "web-prod-02").continuation_token()
    emu.advance(6)
    emu.set_durations(all=0)
    script = textwrap.dedent(f"""
        from azure.mgmt.compute import ComputeManagementClient
        from contoso_images.arm_emulator import Emulator
        from contoso_images.azure.emulator_transport import EmulatorTransport, StaticCredential
        emu = Emulator({str(state_path)!r})
        client = ComputeManagementClient(StaticCredential(), {sub!r},
                                         transport=EmulatorTransport(emu))
        client.virtual_machines.begin_deallocate("rg-web-prod", "web-prod-02",
                                                 continuation_token={token!r}).result()
        view = client.virtual_machines.instance_view("rg-web-prod", "web-prod-02")
        print([s.code for s in view.statuses][-1])
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "PowerState/deallocated"


def test_every_request_is_logged(emu, client):
    emu.clear_request_log()
    client.virtual_machines.get(PROD_RG, "web-prod-01")
    with pytest.raises(HttpResponseError):
        client.virtual_machines.get(PROD_RG, "missing-vm")
    log = emu.request_log()
    assert [(e.method, e.status) for e in log] == [("GET", 200), ("GET", 404)]
    assert log[0].path.endswith("/virtualMachines/web-prod-01?api-version=2026-04-01")
    assert log[0].at.tzinfo is not None and log[0].duration_ms >= 0
    assert emu.request_log(since_id=log[0].id) == log[1:]


def test_durations_and_poll_cap(emu):
    assert emu.poll_sleep_cap() == 0
    emu.set_durations(start=3)
    assert emu.durations()["start"] == 3 and emu.poll_sleep_cap() == 1.0
    with pytest.raises(ValueError, match="unknown"):
        emu.set_durations(warp=1)


def test_reset_and_is_empty(emu):
    assert not emu.is_empty()
    emu.reset()
    assert emu.is_empty() and emu.subscription_ids() == []
