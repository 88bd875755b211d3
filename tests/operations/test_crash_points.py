"""A worker dies at each labelled point of the engine, for each power action (in process).

The real-qcluster version kills a worker process (tests/operations/test_cluster_crashes.py);
here the death is a BaseException no handler catches, which leaves the database exactly as a
SIGKILL would. Every run must end in Azure's true state with one accepted action in the
emulator's request log, and a record that says what is known.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contoso_images.operations import engine
from contoso_images.operations.engine import crash
from contoso_images.operations.models import Operation
from tests.helpers import arm_posts, vm_in_state
from vmops.services import vm_action_request

pytestmark = pytest.mark.django_db

#: kind -> (the state the VM starts in, the state Azure shows at the end, the REST verb)
KINDS = {
    "start": ("deallocated", "running", "start"),
    "power_off": ("running", "stopped", "powerOff"),
    "deallocate": ("running", "deallocated", "deallocate"),
    "restart": ("running", "running", "restart"),
}


class Died(BaseException):
    """What a SIGKILL leaves behind: nothing runs after it, no handler sees it."""


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.OPERATION_POLL_SECONDS = 0.01
    settings.OPERATION_REQUEUE_AFTER_SECONDS = 0


def _die_once_at(monkeypatch, point: str) -> list[str]:
    passed: list[str] = []

    def crash_point(name: str, operation: Operation) -> None:
        passed.append(name)
        if name == point and passed.count(name) == 1:
            raise Died(name)

    monkeypatch.setattr(crash, "hooks", [crash_point])
    return passed


def _take_over(operation: Operation) -> Operation:
    """What happens after the death: the lease runs out and the reconciler re-drives it."""
    Operation.objects.filter(pk=operation.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    engine.reconcile()  # tasks run inline in tests, so this carries it on
    operation.refresh_from_db()
    return operation


@pytest.mark.parametrize("point", engine.CRASH_POINTS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_worker_dying_at_any_point_never_sends_twice(
    kind, point, inventory, emulator, operator_user, settings, monkeypatch
):
    start_state, end_state, verb = KINDS[kind]
    if point == "during_handoff":
        # The operation must still be under way at its first poll for a hand-off to happen.
        settings.OPERATION_WAIT_SLICE_SECONDS = 0
        emulator.set_durations(**{kind: 30})
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)
    vm = vm_in_state(inventory, start_state)
    operation, _ = vm_action_request(vm=vm, kind=kind, user=operator_user)
    emulator.clear_request_log()
    _die_once_at(monkeypatch, point)

    with pytest.raises(Died):
        engine.run(operation_id=operation.pk)
    emulator.advance(31)
    monkeypatch.setattr(engine, "enqueue", lambda pk: engine.run(operation_id=pk))
    done = _take_over(operation)

    assert done.status == "succeeded", (done.error_code, done.error_summary)
    vm.refresh_from_db()
    assert vm.power_state == end_state
    accepted = [e for e in arm_posts(emulator, verb) if e.status == 202]
    assert len(accepted) == 1, [(e.status, e.path) for e in arm_posts(emulator, verb)]
    step = done.steps.get()
    assert step.status == "succeeded"
    if point == "after_accept":
        # The token was never stored: the record must not claim that nothing was sent.
        assert step.message == engine.EARLIER_ATTEMPT
        assert "nothing was sent" not in done.progress_message


def test_a_restart_whose_worker_died_after_azure_accepted_is_not_sent_again(
    inventory, emulator, operator_user, monkeypatch
):
    """Issue #12, defect 2: the VM reads "running" after the restart, as before it."""
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)
    vm = vm_in_state(inventory, "running")
    operation, _ = vm_action_request(vm=vm, kind="restart", user=operator_user)
    emulator.clear_request_log()
    _die_once_at(monkeypatch, "after_accept")
    with pytest.raises(Died):
        engine.run(operation_id=operation.pk)
    operation.refresh_from_db()
    assert operation.state["sent"]["restart"]["baseline"]["provisioning_time"]
    assert not operation.continuation_token
    monkeypatch.setattr(engine, "enqueue", lambda pk: engine.run(operation_id=pk))
    done = _take_over(operation)
    assert done.status == "succeeded"
    assert len(arm_posts(emulator, "restart")) == 1
