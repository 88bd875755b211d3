"""The crash-point matrix through a real qcluster: a worker process is SIGKILLed at each
labelled point of the engine, for each power action, and the reconciler finishes the work.

One cluster runs all twenty cases side by side (each on its own VM). The crash tests'
plug-in (tests/crash_plan.py) reads the plan file (``<operation id> <point>`` lines) and the
first worker that reaches a listed point kills itself, once. Every operation must end in
Azure's true state, with one accepted action per VM in the emulator's request log and a
record that says what happened.
Run on the ORM broker and, with REDIS_URL set, on Redis.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings

from contoso_images.operations import engine
from contoso_images.operations.models import Operation
from tests.crash_plan import crash_plan_environment
from vmops.models import VirtualMachine
from vmops.services import vm_action_request

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

#: kind -> (the state its VM starts in, the state Azure shows at the end, the REST verb)
KINDS = {
    "start": ("deallocated", "running", "start"),
    "power_off": ("running", "stopped", "powerOff"),
    "deallocate": ("running", "deallocated", "deallocate"),
    "restart": ("running", "running", "restart"),
}
LEASE_SECONDS = 5
ACTION_SECONDS = 3


def _accepted(emulator, vm: VirtualMachine, verb: str) -> list:
    return [
        e
        for e in emulator.request_log()
        if e.method == "POST"
        and e.status == 202
        and e.path.split("?")[0].lower().endswith(f"/virtualmachines/{vm.name}/{verb}".lower())
    ]


def test_every_kind_survives_a_worker_killed_at_every_point(
    emulator, operator_user, start_qcluster, tmp_path, monkeypatch
):
    from vmops.services import inventory_sync_all

    emulator.seed_contoso_pilot(extra_vms=30)
    emulator.set_durations(**dict.fromkeys(KINDS, ACTION_SECONDS))
    inventory_sync_all()
    settings.OPERATION_REQUEUE_AFTER_SECONDS = 2
    free = {
        state: list(
            VirtualMachine.objects.filter(power_state=state, generalized=False).order_by("name")
        )
        for state in ("running", "deallocated")
    }
    plan = tmp_path / "crash-plan"
    cases = []
    real_enqueue = engine.enqueue
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)  # queued below, after the plan
    for kind, (start_state, end_state, verb) in KINDS.items():
        for point in engine.CRASH_POINTS:
            vm = free[start_state].pop()
            operation, _ = vm_action_request(vm=vm, kind=kind, user=operator_user)
            cases.append((operation, vm, end_state, verb, point))
    plan.write_text("".join(f"{op.pk} {point}\n" for op, _, _, _, point in cases))
    emulator.clear_request_log()
    start_qcluster(
        **crash_plan_environment(plan),
        OPERATION_LEASE_SECONDS=str(LEASE_SECONDS),
        OPERATION_POLL_SECONDS="0.5",
        # Short slices: operations still under way are handed off, so a hand-off can die.
        OPERATION_WAIT_SLICE_SECONDS="1",
        Q_WORKERS="2",
    )
    monkeypatch.setattr(engine, "enqueue", real_enqueue)
    for operation, *_ in cases:
        engine.enqueue(operation.pk)

    deadline = time.monotonic() + 240
    ids = [op.pk for op, *_ in cases]
    while Operation.objects.filter(pk__in=ids, finished_at__isnull=True).exists():
        assert time.monotonic() < deadline, list(
            Operation.objects.filter(pk__in=ids, finished_at__isnull=True).values_list(
                "pk", "kind", "status", "progress_message"
            )
        )
        engine.reconcile()  # what the scheduled reconciler does every minute
        time.sleep(1)

    for operation, vm, end_state, verb, point in cases:
        operation.refresh_from_db()
        vm.refresh_from_db()
        case = f"{operation.kind} killed {point}"
        assert Path(f"{plan}.{operation.pk}.{point}").exists(), f"{case}: no worker died"
        assert operation.status == "succeeded", (case, operation.error_summary)
        assert vm.power_state == end_state, case
        assert len(_accepted(emulator, vm, verb)) == 1, case
        assert operation.attempts >= 2, case
        if point == "after_accept":
            assert operation.steps.get().message == engine.EARLIER_ATTEMPT, case
