"""Moving Subscription to core and operations to the shared engine loses no row.

The database is taken back to the last migrations before the move, filled through the
historical models, then migrated forward; every row must be there afterwards, with its id.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("core", "0003_heartbeat_schedule"),
    ("vmops", "0005_operation_drop_guessed_progress"),
    ("operations", None),
]
VM_ID = (
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-web/"
    "providers/microsoft.compute/virtualmachines/web-01"
)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1]]).apps


def test_rows_survive_the_move():
    old = _migrate(BEFORE)
    user = old.get_model("auth", "User").objects.create(username="olivia")
    sub = old.get_model("vmops", "Subscription").objects.create(
        subscription_id="11111111-2222-3333-4444-555555555555",
        display_name="Contoso pilot",
        synced_at=timezone.now(),
    )
    now = timezone.now()
    vm = old.get_model("vmops", "VirtualMachine").objects.create(
        subscription=sub,
        resource_group="rg-web",
        name="web-01",
        azure_id=VM_ID,
        location="westeurope",
        power_state="deallocated",
        reported_at=now,
    )
    operation = old.get_model("vmops", "Operation")
    done = operation.objects.create(
        vm=vm,
        kind="deallocate",
        status="failed",
        requested_by=user,
        requested_at=now - timedelta(minutes=5),
        target_name="web-01",
        target_resource_group="rg-web",
        target_subscription_id=sub.subscription_id,
        continuation_token="token-1",
        attempts=2,
        handoffs=1,
        error_code="OperationNotAllowed",
        error_message="Operation 'Deallocate VM' is not allowed.",
        error_summary="Azure refused it.",
        request_id="req-1",
        finished_at=now - timedelta(minutes=4),
    )
    running = operation.objects.create(
        vm=vm,
        kind="start",
        status="running",
        requested_by=user,
        requested_at=now,
        target_name="web-01",
        target_resource_group="rg-web",
        target_subscription_id=sub.subscription_id,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from contoso_images.core.models import Subscription
    from contoso_images.operations.models import Operation
    from vmops.models import VirtualMachine

    moved_sub = Subscription.objects.get(pk=sub.pk)
    assert moved_sub.display_name == "Contoso pilot"
    assert moved_sub.sync_states.get(kind="inventory").synced_at  # core 0006 moved it
    moved_vm = VirtualMachine.objects.get(pk=vm.pk)
    assert moved_vm.subscription == moved_sub
    first = Operation.objects.get(pk=done.pk)
    assert (first.kind, first.status, first.target_key) == ("vm.deallocate", "failed", VM_ID)
    assert first.requested_by_id == user.pk
    assert (first.continuation_token, first.attempts, first.handoffs) == ("token-1", 2, 1)
    assert (first.error_code, first.request_id) == ("OperationNotAllowed", "req-1")
    assert list(first.steps.values_list("name", "status")) == [("deallocate", "failed")]
    second = Operation.objects.get(pk=running.pk)
    assert (second.kind, second.status, second.step) == ("vm.start", "running", "start")
    # New rows get ids after the carried-over ones, and the one-unfinished rule holds.
    fresh = Operation.objects.create(
        kind="vm.restart",
        status="succeeded",
        requested_at=now,
        target_id=VM_ID,
        target_key=VM_ID,
        target_type="Microsoft.Compute/virtualMachines",
        target_name="web-01",
        target_resource_group="rg-web",
        target_subscription_id=sub.subscription_id,
    )
    assert fresh.pk > running.pk
