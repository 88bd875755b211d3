"""The data migration carries every existing operation into the record, chained in time order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from contoso_images.audit import chain
from contoso_images.audit.models import AuditEvent
from tests.factories import OperationFactory, VirtualMachineFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)


def test_existing_operations_become_chained_events(operator_user):
    _migrate([("audit", "0003_append_only_triggers")])
    now = timezone.now()
    vm = VirtualMachineFactory(name="web-01")
    first = OperationFactory(
        vm=vm,
        kind="vm.deallocate",
        status="failed",
        requested_by=operator_user,
        requested_at=now - timedelta(minutes=10),
        started_at=now - timedelta(minutes=10),
        finished_at=now - timedelta(minutes=2),  # ends after the second one was asked for
        error_code="OperationNotAllowed",
        error_message="Not allowed.",
        error_summary="Azure refused.",
        request_id="req-1",
        parameters={"power_state_when_requested": "stopped"},
    )
    second = OperationFactory(
        vm=VirtualMachineFactory(name="web-02"),
        kind="vm.start",
        status="succeeded",
        requested_at=now - timedelta(minutes=5),
        started_at=now - timedelta(minutes=5),
        finished_at=now - timedelta(minutes=4),
        state={"sent": {"start": {}}},
    )
    running = OperationFactory(vm=vm, kind="vm.restart", status="running", requested_at=now)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    rows = list(AuditEvent.objects.order_by("sequence"))
    assert [(e.action, e.operation_id) for e in rows] == [
        ("vm.deallocate.requested", first.pk),
        ("vm.start.requested", second.pk),
        ("vm.start.succeeded", second.pk),
        ("vm.deallocate.failed", first.pk),
        ("vm.restart.requested", running.pk),
    ]
    failed = rows[3]
    assert (failed.outcome, failed.error_code, failed.request_id) == (
        "failed",
        "OperationNotAllowed",
        "req-1",
    )
    assert failed.duration_ms == 8 * 60 * 1000
    assert rows[0].actor_username == operator_user.username and rows[0].outcome == "accepted"
    assert rows[0].parameters_data == {"power_state_when_requested": "stopped"}
    assert rows[2].result_data == {}
    values = AuditEvent.objects.order_by("sequence").values(*chain.HASHED_FIELDS, "hash")
    report = chain.verify(values)
    assert report.ok and report.events == 5
