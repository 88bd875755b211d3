"""Operations through a real qcluster process, including a worker killed mid-operation.

The cluster runs as a child process on the committed test database (hence transactional
tests) and the same emulator state file. Tests enqueue to the real broker (ORM or Redis, as the
settings say) by turning the inline sync mode off for themselves. Run them alone with
``pytest -m cluster``.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from contoso_images.operations.engine import reconcile as operations_reconcile
from contoso_images.operations.models import Operation
from tests.helpers import vm_in_state
from vmops.services import vm_action_request

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

#: Longer than the 3 s a worker waits on Azure between lease renewals, so a live worker never
#: loses its lease, yet short enough for a quick takeover.
LEASE_SECONDS = 5
#: Long enough that the takeover happens while Azure is still deallocating.
DEALLOCATE_SECONDS = 10


@pytest.fixture
def qcluster(start_qcluster):
    return start_qcluster(
        OPERATION_LEASE_SECONDS=str(LEASE_SECONDS),
        Q_WORKERS="2",
        # One worker keeps the operation until it ends, so the test kills a busy worker and
        # never an idle one (which can freeze a django-q2 cluster).
        OPERATION_WAIT_SLICE_SECONDS="600",
    )


def _wait_for(probe: Callable[[], Any], *, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _deallocate_requests(emulator) -> list[Any]:
    return [
        e
        for e in emulator.request_log()
        if e.method == "POST" and e.path.split("?")[0].lower().endswith("/deallocate")
    ]


def _finished(operation: Operation) -> Operation | None:
    operation.refresh_from_db()
    return operation if operation.finished_at else None


def test_operation_runs_once_through_the_real_cluster(emulator, inventory, operator_user, qcluster):
    vm = vm_in_state(inventory, "stopped")
    emulator.clear_request_log()

    operation, created = vm_action_request(vm=vm, kind="deallocate", user=operator_user)

    assert created
    _wait_for(lambda: _finished(operation), what="the operation to finish", timeout=30)
    assert operation.status == "succeeded"
    assert operation.attempts == 1
    assert operation.worker.rsplit(":", 1)[0] == socket.gethostname()
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"
    assert len(_deallocate_requests(emulator)) == 1


def test_killed_worker_operation_ends_exactly_once(emulator, inventory, operator_user, qcluster):
    """kill -9 of the busy worker: the broker loses or holds the task, the reconciler hands the
    operation to another worker, which resumes from the stored token instead of re-sending."""
    emulator.set_durations(deallocate=DEALLOCATE_SECONDS)
    vm = vm_in_state(inventory, "stopped")
    emulator.clear_request_log()

    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)

    def accepted() -> Operation | None:
        operation.refresh_from_db()
        return operation if operation.continuation_token and operation.worker else None

    _wait_for(accepted, what="Azure to accept the first attempt", timeout=30)
    assert operation.status == "running"
    killed = operation.worker
    pid = int(killed.rsplit(":", 1)[1])
    # Only ever a worker of the cluster this test started (its own process group).
    assert os.getpgid(pid) == qcluster.pid
    os.kill(pid, signal.SIGKILL)

    def taken_over() -> bool:
        operation.refresh_from_db()
        if operation.finished_at or operation.worker != killed:
            return True
        if operation.lease_until and operation.lease_until < timezone.now():
            operations_reconcile()  # what the scheduled reconciler does every minute
            time.sleep(0.5)
        return False

    _wait_for(taken_over, what="another worker to take the operation over")
    _wait_for(lambda: _finished(operation), what="the operation to finish")

    assert operation.status == "succeeded", operation.error_summary
    assert operation.attempts == 2  # the killed one and exactly one takeover
    assert operation.handoffs == 0
    assert operation.worker != killed
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"
    assert len(_deallocate_requests(emulator)) == 1
    assert qcluster.poll() is None, "the cluster itself should outlive its worker"
