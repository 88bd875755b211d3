"""Settling an operation from the resource, when the engine cannot follow it the usual way.

Issue #20, item 1: a restart ends "running", as it began, so the resource tells that it
happened only by Azure's provisioning status stamped anew after the request left. Settled
from the resource (workers that kept dying before sending, or a status URL that stays
unreadable), "running" alone is no proof: the stamp must have changed, else the restart is
sent (once) rather than recorded as done.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contoso_images.operations import engine
from contoso_images.operations.engine import crash
from contoso_images.operations.models import Operation
from contoso_images.operations.registry import StepContext
from tests.helpers import arm_posts, vm_in_state
from vmops.power import RESTART
from vmops.services import vm_action_request
from vmops.specs import PowerStep

pytestmark = pytest.mark.django_db


class Died(BaseException):
    """What a SIGKILL leaves behind: nothing runs after it, no handler sees it."""


@pytest.fixture(autouse=True)
def _fast(settings, monkeypatch):
    settings.OPERATION_POLL_SECONDS = 0.01
    settings.OPERATION_REQUEUE_AFTER_SECONDS = 0
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)


def _expire(operation: Operation) -> None:
    Operation.objects.filter(pk=operation.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )


def _die_before_sending(monkeypatch, times: int) -> list[str]:
    """Every worker dies just before its request leaves, ``times`` times, then none does."""
    deaths: list[str] = []

    def crash_point(name: str, operation: Operation) -> None:
        if name == "before_request" and len(deaths) < times:
            deaths.append(name)
            raise Died(name)

    monkeypatch.setattr(crash, "hooks", [crash_point])
    return deaths


def test_a_restart_whose_workers_kept_dying_before_sending_is_sent_not_counted_done(
    inventory, emulator, operator_user, monkeypatch
):
    vm = vm_in_state(inventory, "running")
    operation, _ = vm_action_request(vm=vm, kind="restart", user=operator_user)
    emulator.clear_request_log()
    deaths = _die_before_sending(monkeypatch, engine.MAX_ATTEMPTS + 1)
    for _ in range(engine.MAX_ATTEMPTS + 1):
        with pytest.raises(Died):
            engine.run(operation_id=operation.pk)
        _expire(operation)
    assert len(deaths) == engine.MAX_ATTEMPTS + 1
    assert arm_posts(emulator, "restart") == []  # nothing ever left

    done = engine.run(operation_id=operation.pk)  # the claim that settles it

    assert done.status == "succeeded", (done.error_code, done.error_summary)
    accepted = [e for e in arm_posts(emulator, "restart") if e.status == 202]
    assert len(accepted) == 1, "the restart never reached Azure, so it must be sent once"
    assert done.steps.get().status == "succeeded"


def test_a_restart_that_dies_again_on_its_last_try_fails_saying_so(
    inventory, emulator, operator_user, monkeypatch
):
    """The last try is one try: a worker that dies on it too ends the operation."""
    vm = vm_in_state(inventory, "running")
    operation, _ = vm_action_request(vm=vm, kind="restart", user=operator_user)
    emulator.clear_request_log()
    _die_before_sending(monkeypatch, engine.MAX_ATTEMPTS + 2)
    for _ in range(engine.MAX_ATTEMPTS + 2):
        with pytest.raises(Died):
            engine.run(operation_id=operation.pk)
        _expire(operation)

    done = engine.run(operation_id=operation.pk)

    assert (done.status, done.error_code) == ("failed", "Interrupted")
    assert "interrupted too often" in done.error_summary
    assert arm_posts(emulator, "restart") == []


def test_an_overdue_restart_with_no_trace_in_azure_is_not_sent_a_day_late(
    inventory, emulator, operator_user, monkeypatch
):
    vm = vm_in_state(inventory, "running")
    operation, _ = vm_action_request(vm=vm, kind="restart", user=operator_user)
    _die_before_sending(monkeypatch, 1)
    with pytest.raises(Died):
        engine.run(operation_id=operation.pk)
    emulator.clear_request_log()
    Operation.objects.filter(pk=operation.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1),
        started_at=timezone.now() - timedelta(days=2),
    )

    done = engine.run(operation_id=operation.pk)

    assert (done.status, done.error_code) == ("failed", "Interrupted")
    assert arm_posts(emulator, "restart") == []


def _watching_restart(vm, operation, *, baseline: str) -> StepContext:
    ctx = StepContext(operation, watching=True)
    ctx.sent = {"at": timezone.now().isoformat(), "baseline": {"provisioning_time": baseline}}
    return ctx


def test_a_watched_restart_needs_a_new_provisioning_stamp_to_be_done(
    inventory, emulator, operator_user
):
    """What the engine asks the VM when the status URL stays unreadable: a running VM whose
    provisioning status carries the stamp from before the request shows no restart."""
    from vmops.services.inventory import vm_read_live
    from vmops.specs import _provisioning_time

    vm = vm_in_state(inventory, "running")
    operation, _ = vm_action_request(vm=vm, kind="restart", user=operator_user)
    stamp = _provisioning_time(vm_read_live(vm=vm))
    assert stamp
    step = PowerStep(RESTART)

    unchanged = step.observe(_watching_restart(vm, operation, baseline=stamp))
    assert not unchanged.done and not unchanged.in_flight and not unchanged.unexpected

    earlier = "2000-01-01T00:00:00+00:00"
    assert step.observe(_watching_restart(vm, operation, baseline=earlier)).done


def test_a_restart_whose_status_url_stays_unreadable_is_settled_by_its_new_stamp(
    inventory, emulator, operator_user
):
    """The usual case still settles: the restart happened, the stamp moved."""
    vm = vm_in_state(inventory, "running")
    operation, _ = vm_action_request(vm=vm, kind="restart", user=operator_user)
    emulator.queue_fault(method="GET", path_contains="/operations/", status=503, count=500)

    done = engine.run(operation_id=operation.pk)

    assert done.status == "succeeded", done.error_summary
    assert done.steps.get().message.startswith("Azure's status for the operation could not")
    assert len(arm_posts(emulator, "restart")) == 1
