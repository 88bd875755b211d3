"""Everything that goes through the operations engine is recorded from its events."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from contoso_images.audit.models import AuditEvent
from contoso_images.core.errors import ActionRefused
from contoso_images.operations.engine import run as operation_run
from contoso_images.operations.models import Operation
from tests.helpers import vm_in_state
from vmops.services import vm_action_request

pytestmark = pytest.mark.django_db


def _actions():
    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


def test_a_request_is_recorded_with_who_what_and_the_operation(inventory, operator_user):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    event = AuditEvent.objects.get()
    assert event.action == "vm.deallocate.requested"
    assert event.outcome == "accepted"
    assert event.actor_username == operator_user.username
    assert (event.target_id, event.target_name) == (vm.azure_id, vm.name)
    assert event.target_kind == "Microsoft.Compute/virtualMachines"
    assert event.parameters_data == {"power_state_when_requested": "stopped"}
    assert event.operation_id == operation.pk


def test_a_run_records_each_step_and_the_end_with_duration(inventory, operator_user):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    operation_run(operation_id=operation.pk)
    assert _actions() == [
        "vm.deallocate.requested",
        "vm.deallocate.step.deallocate.succeeded",
        "vm.deallocate.succeeded",
    ]
    step, end = AuditEvent.objects.filter(operation_id=operation.pk).order_by("sequence")[1:]
    assert step.actor_username == operator_user.username  # the worker acts for the requester
    assert step.duration_ms is not None and end.duration_ms is not None
    assert end.outcome == "succeeded" and end.target_name == vm.name
    operation.refresh_from_db()
    assert end.duration_ms == round(
        (operation.finished_at - operation.started_at).total_seconds() * 1000
    )


def test_a_step_azure_already_shows_done_is_recorded_as_skipped(inventory, operator_user):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    from contoso_images.azure import vm_begin_deallocate

    vm_begin_deallocate(vm.subscription.subscription_id, vm.resource_group, vm.name)
    operation_run(operation_id=operation.pk)
    skipped = AuditEvent.objects.get(action="vm.deallocate.step.deallocate.skipped")
    assert skipped.detail  # what Azure showed, in words


def test_an_arm_failure_is_recorded_with_code_message_and_ids(inventory, operator_user):
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="start", user=operator_user)
    from contoso_images.azure import vm_generalize

    vm_generalize(vm.subscription.subscription_id, vm.resource_group, vm.name)
    operation_run(operation_id=operation.pk)
    failed = AuditEvent.objects.get(action="vm.start.failed")
    assert failed.outcome == "failed"
    assert failed.error_code == "OperationNotAllowed"
    assert "generalized" in failed.error_message
    assert failed.request_id
    assert failed.detail  # the gateway's sentence for people
    assert failed.result_data["failed_step"] == "start"
    assert failed.operation_id == operation.pk


def test_a_refusal_by_the_rules_is_recorded_with_the_reason(inventory, operator_user):
    vm = vm_in_state(inventory, "running")
    with pytest.raises(ActionRefused, match="already running"):
        vm_action_request(vm=vm, kind="start", user=operator_user)
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome) == ("vm.start.refused", "refused")
    assert "already running" in event.detail and event.operation_id is None
    assert event.actor_username == operator_user.username


def test_a_refusal_while_busy_is_recorded(inventory, operator_user):
    vm = vm_in_state(inventory, "running")
    vm_action_request(vm=vm, kind="restart", user=operator_user)
    with pytest.raises(ActionRefused):
        vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    assert _actions() == ["vm.restart.requested", "vm.deallocate.refused"]
    assert "already in progress" in AuditEvent.objects.get(action="vm.deallocate.refused").detail


def test_a_refusal_by_role_is_recorded(inventory, reviewer_user):
    vm = vm_in_state(inventory, "stopped")
    with pytest.raises(PermissionDenied):
        vm_action_request(vm=vm, kind="deallocate", user=reviewer_user)
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_username) == ("vm.deallocate.refused", "rui-reviewer")


def test_an_action_that_cannot_be_recorded_does_not_happen(inventory, operator_user, monkeypatch):
    def broken(rows):
        raise RuntimeError("the audit table is unreachable")

    monkeypatch.setattr("contoso_images.audit.receivers.append_many", broken)
    vm = vm_in_state(inventory, "stopped")
    with pytest.raises(RuntimeError, match="unreachable"):
        vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    assert not Operation.objects.exists()


def test_bulk_requests_record_one_event_per_target(inventory, operator_user):
    from contoso_images.operations.services import RequestItem, operation_request_many

    vms = [vm for vm in inventory.values() if vm.power_state == "stopped" and not vm.generalized]
    result = operation_request_many(
        kind="vm.deallocate",
        items=[RequestItem(target=vm.target, subject=vm) for vm in vms],
        user=operator_user,
    )
    recorded = AuditEvent.objects.filter(action="vm.deallocate.requested")
    assert sorted(recorded.values_list("operation_id", flat=True)) == sorted(
        op.pk for op in result.created
    )


def _notify(name, operation, **extra):
    from contoso_images.operations import registry
    from contoso_images.operations.registry import OperationEvent

    registry.notify(
        OperationEvent(
            name=name, kind=operation.kind, target=operation.target, operation=operation, **extra
        )
    )


def test_a_cancel_is_recorded_by_whom_it_was_asked(operator_user, reviewer_user):
    from django.utils import timezone

    from tests.factories import OperationFactory

    operation = OperationFactory(kind="vm.capture", requested_by=operator_user)
    _notify("cancel_requested", operation, user=reviewer_user)
    operation.status, operation.finished_at = "canceled", timezone.now()
    operation.started_at = operation.finished_at
    operation.progress_message = "Canceled before anything irreversible was done."
    operation.save()
    _notify("canceled", operation)
    asked, ended = AuditEvent.objects.order_by("sequence")
    assert (asked.action, asked.outcome, asked.actor_username) == (
        "vm.capture.cancel_requested",
        "accepted",
        "rui-reviewer",
    )
    assert (ended.action, ended.outcome) == ("vm.capture.canceled", "canceled")
    assert ended.detail == "Canceled before anything irreversible was done."
    assert ended.duration_ms == 0


def test_an_event_name_not_known_yet_is_still_recorded(operator_user):
    from tests.factories import OperationFactory

    operation = OperationFactory(kind="vm.start", requested_by=operator_user)
    _notify("paused_for_maintenance", operation, reason="Azure maintenance window.")
    event = AuditEvent.objects.get()
    assert event.action == "vm.start.paused_for_maintenance"
    assert event.actor_username == operator_user.username
    assert event.detail == "Azure maintenance window."


def test_a_batch_of_events_is_appended_in_a_fixed_number_of_queries(operator_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contoso_images.audit.receivers import on_operation_event
    from contoso_images.operations.registry import OperationEvent
    from tests.factories import OperationFactory

    def batch(n):
        operations = [OperationFactory(kind="vm.deallocate") for _ in range(n)]
        events = [
            OperationEvent(
                name="requested",
                kind=op.kind,
                target=op.target,
                user=operator_user,
                operation=op,
            )
            for op in operations
        ]
        with CaptureQueriesContext(connection) as queries:
            on_operation_event.many(events)
        return len(queries)

    batch(1)
    # Take the chain lock (PostgreSQL's advisory lock; SQLite's write lock is the
    # transaction's), read the head, insert the events.
    assert batch(3) == batch(40) == (3 if connection.vendor == "postgresql" else 2)
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == list(
        range(1, 45)
    )
