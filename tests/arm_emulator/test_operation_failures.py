"""Long-running operations that Azure accepts (202/201) and then fails: queue_operation_failure."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import models as m

from contoso_images.arm_emulator import Emulator

from .conftest import PROD_RG, make_client, power

GAL_RG = "rg-images"
PREEMPTED = "Operation execution has been preempted by a more recent operation."


def _failure(poller) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as caught:
        poller.result()
    return caught.value


def test_power_off_is_accepted_then_fails_and_the_vm_keeps_running(emu, client):
    emu.queue_operation_failure(path_contains="/web-prod-01/powerOff")
    emu.clear_request_log()
    poller = client.virtual_machines.begin_power_off(PROD_RG, "web-prod-01")
    err = _failure(poller)
    assert err.status_code == 200  # the status poll answered; the operation failed
    assert err.error.code == "InternalOperationError"
    assert err.error.message == "An internal execution error occurred. Please retry later."
    assert emu.request_log()[0].status == 202
    assert power(client, PROD_RG, "web-prod-01") == "PowerState/running"
    assert client.virtual_machines.get(PROD_RG, "web-prod-01").provisioning_state == "Succeeded"
    # count=1: the next power-off goes through
    client.virtual_machines.begin_power_off(PROD_RG, "web-prod-01").result()
    assert power(client, PROD_RG, "web-prod-01") == "PowerState/stopped"


def test_canceled_operation_shows_in_the_async_body_and_the_monitor_url(emu, sub):
    emu.set_durations(deallocate=5)
    emu.queue_operation_failure(
        path_contains="/deallocate", code="OperationPreempted", message=PREEMPTED, status="canceled"
    )
    url = (
        f"https://management.azure.com/subscriptions/{sub}/resourceGroups/{PROD_RG}/providers/"
        "Microsoft.Compute/virtualMachines/web-prod-03/deallocate?api-version=2026-04-01"
    )
    status, headers, _ = emu.handle("POST", url, {}, b"")
    assert status == 202
    status, _, body = emu.handle("GET", headers["Azure-AsyncOperation"], {}, None)
    assert (status, json.loads(body)["status"]) == (200, "InProgress")
    emu.advance(6)
    status, _, body = emu.handle("GET", headers["Azure-AsyncOperation"], {}, None)
    payload = json.loads(body)
    assert status == 200 and payload["status"] == "Canceled" and "endTime" in payload
    assert payload["error"] == {"code": "OperationPreempted", "message": PREEMPTED}
    status, _, body = emu.handle("GET", headers["Location"], {}, None)
    assert status == 500 and json.loads(body)["error"]["code"] == "OperationPreempted"


def test_canceled_operation_through_the_sdk(emu, client):
    emu.queue_operation_failure(code="OperationPreempted", message=PREEMPTED, status="Canceled")
    poller = client.virtual_machines.begin_deallocate(PROD_RG, "web-prod-03")
    err = _failure(poller)
    assert (err.status_code, err.error.code, err.error.message) == (
        200,
        "OperationPreempted",
        PREEMPTED,
    )
    assert poller.status() == "Canceled"
    assert power(client, PROD_RG, "web-prod-03") == "PowerState/stopped"


def test_only_matching_operations_fail_count_times(emu, client):
    emu.queue_operation_failure(path_contains="/web-prod-02/", count=2)
    client.virtual_machines.begin_power_off(PROD_RG, "web-prod-01").result()
    _failure(client.virtual_machines.begin_restart(PROD_RG, "web-prod-02"))
    _failure(client.virtual_machines.begin_power_off(PROD_RG, "web-prod-02"))
    client.virtual_machines.begin_power_off(PROD_RG, "web-prod-02").result()
    assert power(client, PROD_RG, "web-prod-02") == "PowerState/stopped"


def test_a_refused_request_does_not_use_the_failure_up(emu, client):
    emu.queue_operation_failure(path_contains="/web-prod-01/")
    with pytest.raises(HttpResponseError) as refused:
        client.virtual_machines.begin_start(PROD_RG, "web-prod-01")  # already running: 409
    assert refused.value.status_code == 409
    _failure(client.virtual_machines.begin_power_off(PROD_RG, "web-prod-01"))


def test_failed_run_command_does_not_generalize_the_guest(emu, client):
    emu.queue_operation_failure(path_contains="/runCommand")
    script = m.RunCommandInput(
        command_id="RunPowerShellScript",
        script=[r"C:\Windows\system32\sysprep\sysprep.exe /generalize /oobe /shutdown"],
    )
    _failure(client.virtual_machines.begin_run_command(PROD_RG, "web-prod-01", script))
    assert power(client, PROD_RG, "web-prod-01") == "PowerState/running"


def test_failed_image_creation_leaves_a_failed_image(emu, client):
    emu.queue_operation_failure(path_contains="/images/img-doomed")
    vm = client.virtual_machines.get(GAL_RG, "img-win2022-base")
    body = m.Image(location="westeurope", source_virtual_machine=m.SubResource(id=vm.id))
    _failure(client.images.begin_create_or_update(GAL_RG, "img-doomed", body))
    assert client.images.get(GAL_RG, "img-doomed").provisioning_state == "Failed"


def test_failed_delete_keeps_the_resource(emu, client):
    emu.queue_operation_failure(path_contains="/images/img-legacy-app-2016")
    _failure(client.images.begin_delete(GAL_RG, "img-legacy-app-2016"))
    image = client.images.get(GAL_RG, "img-legacy-app-2016")
    assert image.provisioning_state == "Succeeded"
    client.images.begin_delete(GAL_RG, "img-legacy-app-2016").result()


def test_failed_vm_delete_keeps_the_vm_usable(emu, client):
    emu.queue_operation_failure(path_contains="/virtualMachines/web-prod-01")
    _failure(client.virtual_machines.begin_delete(PROD_RG, "web-prod-01"))
    assert client.virtual_machines.get(PROD_RG, "web-prod-01").provisioning_state == "Succeeded"
    client.virtual_machines.begin_restart(PROD_RG, "web-prod-01").result()


def test_failures_live_in_the_state_file_and_clear_faults_forgets_them(emu, state_path, sub):
    emu.queue_operation_failure(path_contains="/powerOff", count=2)
    other = make_client(Emulator(state_path), sub)
    _failure(other.virtual_machines.begin_power_off(PROD_RG, "web-prod-01"))
    emu.clear_faults()
    other.virtual_machines.begin_power_off(PROD_RG, "web-prod-02").result()
    emu.queue_operation_failure()
    emu.reset()  # forgets durations too
    emu.seed_contoso_pilot()
    emu.set_durations(all=0)
    other.virtual_machines.begin_power_off(PROD_RG, "web-prod-01").result()


@pytest.mark.parametrize(
    ("kwargs", "problem"), [({"status": "Succeeded"}, "status"), ({"count": 0}, "count")]
)
def test_bad_arguments_are_refused(emu, kwargs, problem):
    with pytest.raises(ValueError, match=problem):
        emu.queue_operation_failure(**kwargs)
