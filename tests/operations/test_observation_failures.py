"""A failure to observe is not a failure of the operation (issue #12, defect 1).

The async-operation status URL answers 500, or 404 once Azure forgot the operation: the
engine keeps watching, then asks the resource itself; it records Failed only when Azure
says so or refuses.
"""

from __future__ import annotations

import pytest

from contoso_images import azure
from contoso_images.operations import engine
from tests.helpers import arm_posts, vm_in_state
from vmops.services import vm_action_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings, monkeypatch):
    settings.OPERATION_POLL_SECONDS = 0.01
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)


def _deallocate(inventory, user):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=user)
    return vm, operation


def test_six_500s_on_the_status_url_do_not_fail_a_deallocation(inventory, emulator, operator_user):
    vm, operation = _deallocate(inventory, operator_user)
    emulator.queue_fault(method="GET", path_contains="/operations/", status=500, count=6)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "succeeded", done.error_summary
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"
    assert len(arm_posts(emulator, "deallocate")) == 1


def test_a_status_url_that_keeps_failing_is_settled_from_the_vm(inventory, emulator, operator_user):
    vm, operation = _deallocate(inventory, operator_user)
    emulator.queue_fault(method="GET", path_contains="/operations/", status=503, count=500)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "succeeded", done.error_summary
    step = done.steps.get()
    assert step.message.startswith("Azure's status for the operation could not be read")
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"


def test_a_forgotten_operation_is_settled_from_the_vm(inventory, emulator, operator_user):
    vm, operation = _deallocate(inventory, operator_user)
    emulator.queue_fault(method="GET", path_contains="/operations/", status=404, count=50)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "succeeded", done.error_summary
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"


def test_azure_own_failure_is_still_a_failure(inventory, emulator, operator_user):
    vm, operation = _deallocate(inventory, operator_user)
    emulator.queue_operation_failure(path_contains="/deallocate")
    done = engine.run(operation_id=operation.pk)
    assert (done.status, done.error_code) == ("failed", "InternalOperationError")


def test_a_connection_that_drops_while_sending_is_looked_up_before_sending_again(
    inventory, emulator, operator_user
):
    """The POST never reached Azure (dropped): the VM shows nothing, so it is sent again."""
    vm, operation = _deallocate(inventory, operator_user)
    emulator.clear_request_log()
    emulator.queue_fault(method="POST", path_contains="/deallocate", drop=True, count=3)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "succeeded", done.error_summary
    assert [e.status for e in arm_posts(emulator, "deallocate")] == [0, 0, 0, 202]
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"


def test_a_connection_that_keeps_dropping_pauses_the_operation_instead_of_failing_it(
    inventory, emulator, operator_user
):
    vm, operation = _deallocate(inventory, operator_user)
    emulator.queue_fault(method="POST", path_contains="/deallocate", drop=True, count=10)
    paused = engine.run(operation_id=operation.pk)
    assert paused.status == "running" and paused.lease_until
    assert "could not reach azure" in paused.progress_message.lower()
    assert paused.handoffs == 1  # counted as a pause, not as a crash


#: What the gateway raises when a status read is refused (ARM's codes for each status).
REFUSED_READS = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
}


def _refuse_status_reads(monkeypatch, status: int, times: int) -> list[int]:
    """The next ``times`` status reads are refused with ``status``, as the gateway says it."""
    real = azure.operation_status
    refused: list[int] = []

    def operation_status(*args, **kwargs):
        if len(refused) < times:
            refused.append(status)
            raise azure.AzureError(REFUSED_READS[status], "Refused.", status_code=status)
        return real(*args, **kwargs)

    monkeypatch.setattr(azure, "operation_status", operation_status)
    return refused


@pytest.mark.parametrize("status", REFUSED_READS)
def test_a_refused_status_read_is_an_observation_failure_not_the_operations(
    status, inventory, emulator, operator_user, monkeypatch
):
    """Issue #20, item 2: reading is observation. A 400 or 403 on the status URL says
    nothing about the deallocation Azure accepted; only Azure's own Failed fails it."""
    vm, operation = _deallocate(inventory, operator_user)
    refused = _refuse_status_reads(monkeypatch, status, 2)
    done = engine.run(operation_id=operation.pk)
    assert refused == [status, status]
    assert done.status == "succeeded", (done.error_code, done.error_summary)
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"
    assert len(arm_posts(emulator, "deallocate")) == 1


def test_a_bad_request_from_the_emulated_status_url_does_not_fail_the_operation(
    inventory, emulator, operator_user
):
    vm, operation = _deallocate(inventory, operator_user)
    emulator.queue_fault(method="GET", path_contains="/operations/", status=400, count=2)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "succeeded", (done.error_code, done.error_summary)


def test_a_status_url_that_keeps_refusing_to_be_read_is_settled_from_the_vm(
    inventory, emulator, operator_user, monkeypatch
):
    vm, operation = _deallocate(inventory, operator_user)
    _refuse_status_reads(monkeypatch, 403, 500)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "succeeded", (done.error_code, done.error_summary)
    assert done.steps.get().message.startswith("Azure's status for the operation could not be read")


def test_a_refusal_of_the_request_itself_still_fails_the_operation(
    inventory, emulator, operator_user
):
    vm, operation = _deallocate(inventory, operator_user)
    emulator.queue_fault(method="POST", path_contains="/deallocate", status=400, count=5)
    done = engine.run(operation_id=operation.pk)
    assert (done.status, done.error_code) == ("failed", "BadRequest")
    assert [e.status for e in arm_posts(emulator, "deallocate")] == [400]
