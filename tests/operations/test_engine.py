"""The engine on a kind with two steps: order, skips, resumption, events, many at once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contoso_images import azure
from contoso_images.core.errors import ActionRefused
from contoso_images.operations import engine, registry
from contoso_images.operations.models import Operation
from contoso_images.operations.registry import (
    Observation,
    OperationEvent,
    OperationSpec,
    Step,
    StepContext,
)
from contoso_images.operations.services import (
    RequestItem,
    operation_request,
    operation_request_many,
)
from tests.helpers import arm_posts, vm_in_state

pytestmark = pytest.mark.django_db

KIND = "test.prepare_and_deallocate"


class Prepare(Step):
    """A synchronous step: it answers at once, no token."""

    name, label = "prepare", "Prepare"

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def observe(self, ctx: StepContext) -> Observation:
        if ctx.parameters.get("prepared"):
            return Observation(done=True, note="Already prepared.")
        return Observation()

    def begin(self, ctx: StepContext) -> str | None:
        self.calls.append("prepare")
        return None


class Deallocate(Step):
    """A long-running step through the gateway and the emulator."""

    name, label, result_kind = "deallocate", "Deallocate", "vm_deallocate"

    def begin(self, ctx: StepContext) -> str | None:
        target = ctx.operation.target
        return azure.vm_begin_deallocate(target.subscription_id, target.resource_group, target.name)


@pytest.fixture
def calls():
    return []


@pytest.fixture
def events():
    seen: list[OperationEvent] = []
    registry.listen(seen.append)
    yield seen
    registry._listeners.remove(seen.append)


def _register(calls, **extra):
    return registry.register(
        OperationSpec(
            kind=KIND,
            label="Prepare and deallocate",
            permission="vmops.operate_virtualmachine",
            target_type="Microsoft.Compute/virtualMachines",
            steps=(Prepare(calls), Deallocate()),
            **extra,
        )
    )


@pytest.fixture
def spec(calls):
    yield _register(
        calls, precheck=lambda vm, parameters: "Not this one." if vm.name == "refused" else ""
    )
    registry._specs.pop(KIND)


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


def _request(vm, user, **parameters):
    return operation_request(
        kind=KIND, target=vm.target, subject=vm, user=user, parameters=parameters
    )


def test_steps_run_in_order_and_each_is_recorded(spec, calls, events, inventory, operator_user):
    vm = vm_in_state(inventory, "running")
    operation, _ = _request(vm, operator_user)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "succeeded"
    assert calls == ["prepare"]
    steps = list(done.steps.values_list("name", "status"))
    assert steps == [("prepare", "succeeded"), ("deallocate", "succeeded")]
    assert all(step.started_at and step.finished_at for step in done.steps.all())
    assert [e.name for e in events] == [
        "requested",
        "step_succeeded",
        "step_succeeded",
        "succeeded",
    ]
    assert events[0].user == operator_user and events[-1].operation.pk == operation.pk


def test_a_step_azure_already_shows_done_is_skipped(spec, calls, inventory, operator_user):
    vm = vm_in_state(inventory, "running")
    operation, _ = _request(vm, operator_user, prepared=True)
    done = engine.run(operation_id=operation.pk)
    assert calls == []
    prepare = done.steps.get(name="prepare")
    assert (prepare.status, prepare.message) == ("skipped", "Already prepared.")


def test_a_paused_operation_resumes_at_its_step_without_repeating_the_first(
    spec, calls, inventory, operator_user, emulator
):
    emulator.set_durations(deallocate=60)
    vm = vm_in_state(inventory, "running")
    operation, _ = _request(vm, operator_user)
    first = engine.run(operation_id=operation.pk, budget_seconds=0)
    assert (first.status, first.step) == ("running", "deallocate")
    assert first.continuation_token
    Operation.objects.filter(pk=operation.pk).update(lease_until=None)
    emulator.advance(61)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "succeeded"
    assert calls == ["prepare"]
    assert len(arm_posts(emulator, "deallocate")) == 1


def test_a_refusal_is_an_event_and_writes_nothing(spec, events, operator_user, inventory):
    vm = vm_in_state(inventory, "running")
    vm.name = "refused"
    with pytest.raises(ActionRefused, match="Not this one."):
        _request(vm, operator_user)
    assert not Operation.objects.exists()
    assert [(e.name, e.reason) for e in events] == [("refused", "Not this one.")]


def test_many_targets_in_one_request_in_a_fixed_number_of_queries(spec, inventory, operator_user):
    vms = sorted(inventory.values(), key=lambda vm: vm.name)
    busy, refused, *free = vms[:6]
    _request(busy, operator_user)
    refused.name = "refused"
    items = [RequestItem(vm.target, vm) for vm in (busy, refused, *free)]
    with CaptureQueriesContext(connection) as queries:
        result = operation_request_many(kind=KIND, items=items, user=operator_user)
    assert len(result.created) == len(free)
    assert [op.target_key for op in result.already] == [busy.azure_id]
    assert [(target.name, reason) for target, reason in result.refused] == [
        ("refused", "Not this one.")
    ]
    assert Operation.objects.filter(kind=KIND).count() == 1 + len(free)
    few = len(queries)
    more = [RequestItem(vm.target, vm) for vm in vms[6:]]
    with CaptureQueriesContext(connection) as queries:
        operation_request_many(kind=KIND, items=more, user=operator_user)
    assert len(queries) <= few + 1


class Irreversible(Step):
    name, label, irreversible = "seal", "Seal", True

    def begin(self, ctx: StepContext) -> str | None:
        return None


@pytest.fixture
def sealing_spec(calls):
    spec = registry.register(
        OperationSpec(
            kind="test.deallocate_then_seal",
            label="Deallocate and seal",
            permission="vmops.operate_virtualmachine",
            target_type="Microsoft.Compute/virtualMachines",
            steps=(Deallocate(), Irreversible()),
        )
    )
    yield spec
    registry._specs.pop(spec.kind)


def test_a_cancel_stops_at_the_next_step_before_anything_irreversible(
    sealing_spec, inventory, operator_user, emulator, events
):
    from contoso_images.operations.services import operation_cancel

    emulator.set_durations(deallocate=60)
    vm = vm_in_state(inventory, "running")
    operation, _ = operation_request(
        kind=sealing_spec.kind, target=vm.target, subject=vm, user=operator_user
    )
    engine.run(operation_id=operation.pk, budget_seconds=0)  # deallocating in Azure
    operation_cancel(operation=operation, user=operator_user)
    Operation.objects.filter(pk=operation.pk).update(lease_until=None)
    emulator.advance(61)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "canceled"
    assert list(done.steps.values_list("name", "status")) == [
        ("deallocate", "succeeded"),  # Azure's deallocation was not undone, only waited for
        ("seal", "canceled"),
    ]
    assert [e.name for e in events][-2:] == ["step_succeeded", "canceled"]


def test_no_cancel_once_an_irreversible_step_has_started(
    sealing_spec, inventory, operator_user, emulator
):
    from contoso_images.operations.services import operation_cancel

    vm = vm_in_state(inventory, "running")
    operation, _ = operation_request(
        kind=sealing_spec.kind, target=vm.target, subject=vm, user=operator_user
    )
    Operation.objects.filter(pk=operation.pk).update(irreversible_step="seal", status="running")
    operation.refresh_from_db()
    with pytest.raises(ActionRefused, match="'Seal' has started and cannot be undone"):
        operation_cancel(operation=operation, user=operator_user)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "succeeded"


def test_many_operations_are_queued_through_one_fan_out_task(monkeypatch):
    """A multi-select of a thousand VMs writes one task to the broker in its request."""
    import django_q.tasks

    queued: list[int] = []
    sent: list[str] = []
    real = django_q.tasks.async_task

    def spy(func, *args, **kwargs):
        sent.append(func)
        return real(func, *args, **kwargs)

    monkeypatch.setattr(engine, "enqueue", queued.append)
    monkeypatch.setattr(django_q.tasks, "async_task", spy)
    many = list(range(1, engine.FAN_OUT_ABOVE + 6))
    engine.enqueue_many(many)
    assert sent == [engine.FAN_OUT_TASK]  # run inline here (sync mode): it queued each one
    assert queued == many
    queued.clear()
    sent.clear()
    engine.enqueue_many([1, 2, 3])
    assert (sent, queued) == ([], [1, 2, 3])


@pytest.fixture
def succeeded_spec(calls):
    """The two-step kind with an ``on_succeeded`` that writes and records what it saw."""

    def on_succeeded(ctx: StepContext) -> None:
        calls.append(f"on_succeeded:{ctx.operation.status}")
        Operation.objects.filter(pk=ctx.operation.pk).update(state={"in_force": True})

    yield _register(calls, on_succeeded=on_succeeded)
    registry._specs.pop(KIND)


def test_on_succeeded_runs_once_with_the_success_it_belongs_to(
    succeeded_spec, calls, events, inventory, operator_user
):
    vm = vm_in_state(inventory, "running")
    operation, _ = _request(vm, operator_user)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "succeeded" and done.state == {"in_force": True}
    # Called with the success already written, before the listeners hear of it.
    assert calls == ["prepare", "on_succeeded:succeeded"]
    assert [e.name for e in events][-1] == "succeeded"
    assert engine.run(operation_id=operation.pk) is None  # ended: nothing runs it again
    assert calls.count("on_succeeded:succeeded") == 1


def test_what_on_succeeded_writes_rolls_back_with_a_success_that_cannot_be_recorded(
    succeeded_spec, calls, inventory, operator_user
):
    """A listener that cannot record the success undoes it, and what on_succeeded put in
    force with it: the operation is retried later, never left half-ended."""

    def refuse(event: OperationEvent) -> None:
        if event.name == "succeeded":
            raise RuntimeError("the record cannot be written")

    vm = vm_in_state(inventory, "running")
    operation, _ = _request(vm, operator_user)
    registry.listen(refuse)
    try:
        after = engine.run(operation_id=operation.pk)
    finally:
        registry._listeners.remove(refuse)
    assert "on_succeeded:succeeded" in calls
    assert after.status == "running" and after.finished_at is None
    assert "in_force" not in after.state
    assert "internal error" in after.progress_message


def test_without_a_test_plug_in_no_worker_ever_dies_at_a_crash_point(settings):
    """Production installs no crash hook: the points are names, and passing them is free."""
    from contoso_images.operations.engine import crash

    assert crash.hooks == []
    assert not any("crash_plan" in app for app in settings.INSTALLED_APPS)
