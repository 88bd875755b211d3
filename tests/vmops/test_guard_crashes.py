"""The billing guard is exactly-once when a worker dies: at each of the engine's crash points
while its deallocation runs (in process, as tests/operations/test_crash_points.py does), and
inside the guard's own run before it committed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contoso_images.operations import engine
from contoso_images.operations.engine import crash
from contoso_images.operations.models import Operation
from tests.factories import UserFactory
from tests.helpers import arm_posts, operations_of, vm_in_state
from vmops.models import BillingPolicy, Deallocation, PolicyKind
from vmops.services import guard
from vmops.services.guard import guard_run, policy_save

pytestmark = pytest.mark.django_db


class Died(BaseException):
    """What a SIGKILL leaves behind: nothing runs after it, no handler sees it."""


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.OPERATION_POLL_SECONDS = 0.01
    settings.OPERATION_REQUEUE_AFTER_SECONDS = 0


def _policy_for(vm) -> BillingPolicy:
    admin = UserFactory(username="ann-admin", is_superuser=True, is_staff=True)
    return policy_save(
        policy=BillingPolicy(
            name="Stopped too long",
            kind=PolicyKind.STOPPED_FOR,
            stopped_minutes=1,
            enabled=True,
            subscriptions=[vm.subscription.subscription_id],
            resource_groups=[vm.resource_group.lower()],
        ),
        user=admin,
        before=None,
    )


def _take_over(operation: Operation) -> Operation:
    Operation.objects.filter(pk=operation.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    engine.reconcile()
    operation.refresh_from_db()
    return operation


@pytest.mark.parametrize("point", engine.CRASH_POINTS)
def test_a_worker_dying_at_any_point_deallocates_once(
    point, inventory, emulator, settings, monkeypatch
):
    if point == "during_handoff":
        settings.OPERATION_WAIT_SLICE_SECONDS = 0
        emulator.set_durations(deallocate=30)
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)
    vm = vm_in_state(inventory, "stopped")
    policy = _policy_for(vm)
    listed = {e.vm.pk for e in guard.policy_plan(policy).acting}
    assert vm.pk in listed
    guard_run()
    operation = operations_of(vm).get()
    emulator.clear_request_log()
    passed: list[str] = []

    def crash_point(name: str, op: Operation) -> None:
        passed.append(name)
        if name == point and passed.count(name) == 1:
            raise Died(name)

    monkeypatch.setattr(crash, "hooks", [crash_point])
    with pytest.raises(Died):
        engine.run(operation_id=operation.pk)
    # The schedule comes round while the operation is orphaned: nothing new is asked for.
    guard_run()
    assert operations_of(vm).count() == 1
    emulator.advance(31)
    monkeypatch.setattr(engine, "enqueue", lambda pk: engine.run(operation_id=pk))
    done = _take_over(operation)
    assert done.status == "succeeded", (done.error_code, done.error_summary)
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"
    accepted = [e for e in arm_posts(emulator, "deallocate") if e.status == 202]
    assert len(accepted) == 1
    # Deallocated now: the next run has nothing to do, and the saving is counted once.
    guard_run()
    assert operations_of(vm).count() == 1
    assert Deallocation.objects.filter(vm=vm).count() == 1
    assert Deallocation.objects.get(vm=vm).policy_name == policy.name


@pytest.mark.parametrize("where", ["after_requests", "at_the_run_record"])
def test_a_guard_run_dying_before_commit_leaves_nothing_and_the_next_run_acts_once(
    where, inventory, emulator, monkeypatch
):
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)
    vm = vm_in_state(inventory, "stopped")
    _policy_for(vm)
    real_many, real_record = guard.operation_request_many, guard.record

    def dying_many(**kwargs):
        real_many(**kwargs)
        raise Died("after_requests")

    def dying_record(**kwargs):
        if kwargs.get("action") == "billing_guard.run":
            raise Died("at_the_run_record")
        return real_record(**kwargs)

    if where == "after_requests":
        monkeypatch.setattr(guard, "operation_request_many", dying_many)
    else:
        monkeypatch.setattr(guard, "record", dying_record)
    with pytest.raises(Died):
        guard_run()
    assert operations_of(vm).count() == 0
    monkeypatch.setattr(guard, "operation_request_many", real_many)
    monkeypatch.setattr(guard, "record", real_record)
    guard_run()
    guard_run()
    assert operations_of(vm).count() == 1
