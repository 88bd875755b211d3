"""Power actions on the shared engine: requests, claims, tokens, failures, the reconciler."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from contoso_images.core.errors import ActionRefused
from contoso_images.operations import engine
from contoso_images.operations.engine import claim, drive, record
from contoso_images.operations.engine import reconcile as operations_reconcile
from contoso_images.operations.engine import run as operation_run
from contoso_images.operations.models import Operation
from contoso_images.operations.registry import StepContext
from tests.factories import OperationFactory
from tests.helpers import arm_posts, operations_of, vm_in_state
from vmops.models import VirtualMachine
from vmops.services import vm_action_request

pytestmark = pytest.mark.django_db


# --- Requests -------------------------------------------------------------------------------


def test_request_writes_the_operation_before_any_azure_call(inventory, emulator, operator_user):
    vm = vm_in_state(inventory, "stopped")
    emulator.clear_request_log()
    operation, created = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    assert created
    assert operation.status == "queued"
    assert operation.requested_by == operator_user
    assert (operation.target_name, operation.target_resource_group) == (vm.name, vm.resource_group)
    assert operation.parameters == {"power_state_when_requested": "stopped"}
    assert operation.kind == "vm.deallocate"
    assert operation.target_key == vm.azure_id
    assert list(operation.steps.values_list("name", "status")) == [("deallocate", "pending")]
    assert emulator.request_log() == []


def test_request_queues_the_task_only_after_commit(
    inventory, operator_user, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", queued.append)
    vm = vm_in_state(inventory, "stopped")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    assert queued == []
    for callback in callbacks:
        callback()
    assert queued == [operation.pk]


def test_repeated_click_returns_the_same_operation(inventory, operator_user):
    vm = vm_in_state(inventory, "stopped")
    first, created = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    again, created_again = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    assert created and not created_again
    assert first.pk == again.pk
    assert operations_of(vm).count() == 1


def test_another_action_while_one_runs_is_refused_with_the_reason(inventory, operator_user):
    """Two tabs: Restart in one, Deallocate in the other. The second is not dropped in silence."""
    from contoso_images.operations import registry

    events = []
    registry.listen(events.append)
    try:
        vm = vm_in_state(inventory, "running")
        vm_action_request(vm=vm, kind="restart", user=operator_user)
        with pytest.raises(ActionRefused) as refused:
            vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    finally:
        registry._listeners.remove(events.append)
    assert str(refused.value) == (
        f"Restart of {vm.name} is already in progress; Deallocate was not sent. "
        "Try again when it has finished."
    )
    assert operations_of(vm).count() == 1
    assert [(e.name, e.kind) for e in events] == [
        ("requested", "vm.restart"),
        ("refused", "vm.deallocate"),
    ]


def test_invalid_action_is_refused_with_a_reason_and_writes_nothing(inventory, operator_user):
    vm = vm_in_state(inventory, "running")
    with pytest.raises(ActionRefused, match="already running"):
        vm_action_request(vm=vm, kind="start", user=operator_user)
    generalized = next(v for v in inventory.values() if v.generalized)
    with pytest.raises(ActionRefused, match="Generalized VMs cannot be started"):
        vm_action_request(vm=generalized, kind="start", user=operator_user)
    assert not Operation.objects.exists()


def test_database_constraint_allows_one_unfinished_operation_per_vm(inventory, operator_user):
    from django.db import IntegrityError

    vm = vm_in_state(inventory, "stopped")
    OperationFactory(vm=vm, kind="vm.deallocate", requested_by=operator_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        OperationFactory(vm=vm, kind="vm.start")
    with pytest.raises(IntegrityError), transaction.atomic():
        # ARM ids are case-insensitive: the same VM spelled otherwise is the same target.
        OperationFactory(vm=vm, kind="vm.start", target_id=vm.azure_id.upper())
    OperationFactory(vm=vm, kind="vm.start", status="succeeded")  # finished ones are fine


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_create_one_operation(emulator, operator_user, monkeypatch):
    from vmops.services import inventory_sync_all

    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)
    inventory_sync_all()
    vm = VirtualMachine.objects.filter(power_state="stopped", generalized=False).first()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def click():
        try:
            barrier.wait()
            fresh = VirtualMachine.objects.select_related("subscription").get(pk=vm.pk)
            results.append(vm_action_request(vm=fresh, kind="deallocate", user=operator_user))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len({op.pk for op, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, True]
    assert operations_of(vm).count() == 1


# --- Execution ------------------------------------------------------------------------------


def test_run_deallocates_and_stores_token(inventory, emulator, operator_user):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    emulator.clear_request_log()
    done = operation_run(operation_id=operation.pk)
    assert done.status == "succeeded"
    assert done.continuation_token
    assert done.attempts == 1 and done.started_at and done.finished_at
    assert done.worker
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"
    assert len(arm_posts(emulator, "deallocate")) == 1


def test_run_reads_azure_first_and_sends_nothing_when_already_done(
    inventory, emulator, operator_user
):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    from contoso_images.azure import vm_begin_deallocate

    vm_begin_deallocate(vm.subscription.subscription_id, vm.resource_group, vm.name)  # the portal
    emulator.clear_request_log()
    done = operation_run(operation_id=operation.pk)
    assert done.status == "succeeded"
    assert "nothing was sent" in done.progress_message
    assert arm_posts(emulator, "deallocate") == []


def test_duplicate_delivery_does_nothing(inventory, emulator, operator_user):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    operation_run(operation_id=operation.pk)
    emulator.clear_request_log()
    assert operation_run(operation_id=operation.pk) is None
    assert emulator.request_log() == []


def test_live_lease_elsewhere_is_left_alone(inventory, emulator, operator_user):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    Operation.objects.filter(pk=operation.pk).update(
        status="running", lease_until=timezone.now() + timedelta(minutes=1)
    )
    assert operation_run(operation_id=operation.pk) is None


def test_arm_failure_is_recorded_with_code_message_and_ids(inventory, emulator, operator_user):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="start", user=operator_user)
    # Someone generalizes the VM in Azure after the click: Azure refuses the start.
    from contoso_images.azure import vm_generalize

    vm_generalize(vm.subscription.subscription_id, vm.resource_group, vm.name)
    done = operation_run(operation_id=operation.pk)
    assert done.status == "failed"
    assert done.error_code == "OperationNotAllowed"
    assert done.error_message == (
        f"Operation 'Start VM' is not allowed on VM '{vm.name}' since the VM is generalized."
    )
    assert done.error_summary
    assert done.request_id
    vm.refresh_from_db()
    assert vm.generalized


def test_vm_deleted_in_azure_fails_the_operation_and_marks_it_gone(
    inventory, emulator, operator_user
):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    from contoso_images.azure import compute_client

    compute_client(vm.subscription.subscription_id).virtual_machines.begin_delete(
        vm.resource_group, vm.name
    ).result()
    done = operation_run(operation_id=operation.pk)
    assert done.status == "failed"
    assert done.error_code == "ResourceNotFound"
    vm.refresh_from_db()
    assert vm.gone_at is not None


def test_throttled_then_success(inventory, emulator, operator_user, settings):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    # Two 429s with a short Retry-After are retried inside the gateway; the third try passes.
    emulator.queue_fault(
        method="POST", path_contains="/deallocate", status=429, retry_after=1, count=2
    )
    emulator.clear_request_log()
    done = operation_run(operation_id=operation.pk)
    assert done.status == "succeeded"
    statuses = [e.status for e in arm_posts(emulator, "deallocate")]
    assert statuses == [429, 429, 202]


def test_long_throttling_releases_the_operation_for_later(
    inventory, emulator, operator_user, settings
):
    settings.AZURE_MAX_RETRY_WAIT = 1
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    emulator.queue_fault(
        method="POST", path_contains="/deallocate", status=429, retry_after=600, count=1
    )
    held = operation_run(operation_id=operation.pk)
    assert held.status == "running"
    assert held.lease_until > timezone.now() + timedelta(minutes=9)
    assert "throttl" in held.progress_message.lower()
    assert not held.continuation_token


def test_reconciler_settles_a_lost_task_from_its_token(
    inventory, emulator, operator_user, settings
):
    """A worker died after Azure accepted: the next worker resumes, never re-sends."""
    emulator.set_durations(deallocate=30)
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    emulator.clear_request_log()
    first = operation_run(operation_id=operation.pk, budget_seconds=0)  # "dies" mid-wait
    assert first.status == "running" and first.continuation_token
    Operation.objects.filter(pk=operation.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    emulator.advance(31)
    counts = operations_reconcile()  # tests run tasks inline (sync), so this drives it now
    assert counts == {"requeued": 0, "resumed": 1}
    operation.refresh_from_db()
    assert operation.status == "succeeded"
    assert operation.attempts == 2
    assert len(arm_posts(emulator, "deallocate")) == 1


def test_reconciler_requeues_operations_whose_task_never_ran(
    inventory, emulator, operator_user, monkeypatch
):
    vm = vm_in_state(inventory, "stopped")
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    monkeypatch.undo()
    assert operations_reconcile() == {"requeued": 0, "resumed": 0}  # too recent to be lost
    Operation.objects.filter(pk=operation.pk).update(
        last_enqueued_at=timezone.now() - timedelta(minutes=5)
    )
    assert operations_reconcile() == {"requeued": 1, "resumed": 0}
    operation.refresh_from_db()
    assert operation.status == "succeeded"


def test_takeover_without_token_watches_instead_of_resending(inventory, emulator, operator_user):
    """The worker died between Azure accepting and the token being stored."""
    emulator.set_durations(deallocate=30)
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    from contoso_images.azure import vm_begin_deallocate

    vm_begin_deallocate(vm.subscription.subscription_id, vm.resource_group, vm.name)
    Operation.objects.filter(pk=operation.pk).update(
        status="running", attempts=1, lease_until=timezone.now() - timedelta(seconds=1)
    )
    emulator.clear_request_log()
    emulator.advance(31)
    done = operation_run(operation_id=operation.pk)
    assert done.status == "succeeded"
    assert arm_posts(emulator, "deallocate") == []


def test_operation_that_azure_fails_after_accepting_is_recorded(inventory, emulator, operator_user):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    emulator.queue_operation_failure(path_contains="/deallocate")
    done = operation_run(operation_id=operation.pk)
    assert done.status == "failed"
    assert done.continuation_token
    assert done.error_code == "InternalOperationError"
    assert done.error_message == "An internal execution error occurred. Please retry later."
    assert done.error_summary
    vm.refresh_from_db()
    assert vm.power_state == "stopped"  # refreshed from Azure: the transition did not happen


def test_unexpected_crash_is_retried_then_failed_instead_of_locking_the_vm(
    inventory, emulator, operator_user, monkeypatch
):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)

    def boom(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(drive, "drive", boom)
    first = operation_run(operation_id=operation.pk)
    assert first.status == "running" and "internal error" in first.progress_message
    for _ in range(engine.MAX_ATTEMPTS):
        Operation.objects.filter(pk=operation.pk).update(
            lease_until=timezone.now() - timedelta(seconds=1)
        )
        operation_run(operation_id=operation.pk)
    operation.refresh_from_db()
    assert operation.status == "failed"
    assert operation.error_summary
    # The VM is free again for a new action.
    assert vm_action_request(vm=vm, kind="deallocate", user=operator_user)[1] is True


def test_a_late_worker_cannot_overwrite_the_result_of_the_one_that_took_over(
    inventory, emulator, operator_user
):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    late = claim.claim(operation.pk)
    Operation.objects.filter(pk=operation.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    done = operation_run(operation_id=operation.pk)  # takes over and finishes
    assert done.status == "succeeded" and done.attempts == 2
    record.fail(StepContext(late), None, summary="late news")
    operation.refresh_from_db()
    assert operation.status == "succeeded" and operation.error_summary == ""


def test_a_sync_that_started_earlier_does_not_overwrite_newer_state(inventory, emulator):
    from contoso_images.azure import vm_list_with_power_state
    from vmops.services.inventory import _apply_listing

    vm = vm_in_state(inventory, "stopped")
    started = timezone.now()
    listing = vm_list_with_power_state(vm.subscription.subscription_id)  # says "stopped"
    VirtualMachine.objects.filter(pk=vm.pk).update(
        power_state="deallocated", reported_at=started + timedelta(seconds=5)
    )
    _apply_listing(vm.subscription, listing, started)
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"


def test_long_operation_is_handed_back_to_the_queue_between_polls(
    inventory, emulator, operator_user, settings, monkeypatch
):
    """A worker watches one operation for a slice, then lets others have their turn."""
    settings.OPERATION_WAIT_SLICE_SECONDS = 0
    settings.OPERATION_LEASE_SECONDS = 3
    emulator.set_durations(deallocate=600)
    queued = []
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", queued.append)
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    emulator.clear_request_log()

    first = operation_run(operation_id=operation.pk)
    assert first.status == "queued" and first.continuation_token and first.handoffs == 1
    assert first.status_label == "In progress"
    assert queued == [operation.pk]

    emulator.advance(601)
    done = operation_run(operation_id=operation.pk)
    assert done.status == "succeeded"
    assert (done.attempts, done.handoffs) == (2, 1)
    assert done.started_at == first.started_at
    assert len(arm_posts(emulator, "deallocate")) == 1


def test_restart_records_when_the_state_last_changed(inventory, emulator, operator_user):
    vm = vm_in_state(inventory, "running")
    assert vm.state_changed_at is None  # not seen changing since the first sync
    operation, _ = vm_action_request(vm=vm, kind="restart", user=operator_user)
    operation_run(operation_id=operation.pk)
    vm.refresh_from_db()
    assert vm.power_state == "running"
    assert vm.state_changed_at is not None
