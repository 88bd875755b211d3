"""The billing guard is exactly-once when a worker dies: at each of the engine's crash points
while its deallocation runs (in process, as tests/operations/test_crash_points.py does), and
inside the guard's own run before it committed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contoso_images.audit.models import AuditEvent
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
    ended = AuditEvent.objects.filter(action="billing_guard.deallocate.succeeded")
    assert ended.count() == 1
    assert (
        ended.get().actor_display == "billing guard: Stopped too long (last changed by ann-admin)"
    )


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


# --- Through a real qcluster: a worker SIGKILLed at each point (tests/crash_plan.py) --------


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_guard_deallocations_survive_a_worker_killed_at_every_point(
    emulator, start_qcluster, tmp_path, monkeypatch
):
    """The guard asks for one deallocation per stopped VM; each operation's worker is killed
    at another of the engine's points; every VM ends deallocated with exactly one accepted
    deallocate, the next guard runs ask for nothing more, and each saving is counted once."""
    import time
    from pathlib import Path

    from django.conf import settings

    from contoso_images.operations.models import Operation
    from tests.crash_plan import crash_plan_environment
    from vmops.models import VirtualMachine
    from vmops.services import inventory_sync_all

    emulator.seed_contoso_pilot(extra_vms=30)
    emulator.set_durations(deallocate=3)
    inventory_sync_all()
    settings.OPERATION_REQUEUE_AFTER_SECONDS = 2
    admin = UserFactory(username="ann-admin", is_superuser=True, is_staff=True)
    policy_save(
        policy=BillingPolicy(
            name="Stopped too long", kind=PolicyKind.STOPPED_FOR, stopped_minutes=1, enabled=True
        ),
        user=admin,
        before=None,
    )
    real_enqueue = engine.enqueue
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)  # queued below, after the plan
    guard_run()
    operations = list(Operation.objects.filter(kind="vm.deallocate").order_by("pk"))
    assert len(operations) >= len(engine.CRASH_POINTS), "the tenant needs more stopped VMs"
    cases = [
        (op, engine.CRASH_POINTS[i % len(engine.CRASH_POINTS)]) for i, op in enumerate(operations)
    ]
    plan = tmp_path / "crash-plan"
    plan.write_text("".join(f"{op.pk} {point}\n" for op, point in cases))
    emulator.clear_request_log()
    start_qcluster(
        **crash_plan_environment(plan),
        OPERATION_LEASE_SECONDS="5",
        OPERATION_POLL_SECONDS="0.5",
        OPERATION_WAIT_SLICE_SECONDS="1",
        Q_WORKERS="2",
    )
    monkeypatch.setattr(engine, "enqueue", real_enqueue)
    for operation, _ in cases:
        engine.enqueue(operation.pk)
    deadline = time.monotonic() + 240
    ids = [op.pk for op, _ in cases]
    while Operation.objects.filter(pk__in=ids, finished_at__isnull=True).exists():
        assert time.monotonic() < deadline
        engine.reconcile()
        guard_run()  # the schedule keeps coming round while workers die
        time.sleep(1)
    guard_run()
    assert Operation.objects.filter(kind="vm.deallocate").count() == len(cases)
    for operation, point in cases:
        operation.refresh_from_db()
        vm = VirtualMachine.objects.get(azure_id=operation.target_key)
        case = f"{vm.name} killed {point}"
        assert Path(f"{plan}.{operation.pk}.{point}").exists(), f"{case}: no worker died"
        assert operation.status == "succeeded", (case, operation.error_summary)
        assert vm.power_state == "deallocated", case
        accepted = [
            e
            for e in arm_posts(emulator, "deallocate")
            if e.status == 202 and f"/virtualmachines/{vm.name}/".lower() in e.path.lower()
        ]
        assert len(accepted) == 1, case
        assert Deallocation.objects.filter(operation_id=operation.pk).count() == 1, case
