"""The audit page: the operations log, for auditors only, in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import OperationFactory
from tests.helpers import vm_in_state

pytestmark = pytest.mark.django_db


def _operations(vm, user, n):
    for i in range(n):
        OperationFactory(
            vm=vm,
            kind="vm.deallocate",
            status="failed" if i % 2 else "succeeded",
            requested_by=user,
            error_code="OperationNotAllowed" if i % 2 else "",
            error_summary="The VM is generalized." if i % 2 else "",
        )


def test_auditor_sees_who_did_what_and_how_it_ended(auditor_client, operator_user, inventory):
    vm = vm_in_state(inventory, "stopped")
    _operations(vm, operator_user, 2)
    html = auditor_client.get("/audit/").content.decode()
    assert operator_user.username in html and vm.name in html
    assert "Deallocate" in html and "Succeeded" in html and "OperationNotAllowed" in html
    assert "/vms/resource/" not in html  # auditors cannot open VM pages


@pytest.mark.parametrize("fixture", ["operator_client", "reviewer_client"])
def test_others_cannot_read_the_audit_log(request, fixture):
    assert request.getfixturevalue(fixture).get("/audit/").status_code == 403


def test_audit_log_queries_do_not_grow_with_rows(auditor_client, operator_user, inventory):
    vm = vm_in_state(inventory, "stopped")
    _operations(vm, operator_user, 3)
    with CaptureQueriesContext(connection) as few:
        auditor_client.get("/audit/")
    _operations(vm, operator_user, 60)
    with CaptureQueriesContext(connection) as many:
        html = auditor_client.get("/audit/?page=2").content.decode()
    assert len(few.captured_queries) == len(many.captured_queries)
    assert "63 operations · page 2 of 2" in html


def test_operators_who_audit_can_follow_a_record_to_the_vm(client, operator_user, inventory):
    from django.contrib.auth.models import Group

    operator_user.groups.add(Group.objects.get(name="auditors"))
    client.force_login(operator_user)
    vm = vm_in_state(inventory, "stopped")
    _operations(vm, operator_user, 1)
    html = client.get("/audit/").content.decode()
    link = f"/vms/resource/?id={vm.azure_id}"
    assert link in html
    assert client.get(link)["Location"] == f"/vms/{vm.pk}/"
    assert client.get("/vms/resource/?id=/subscriptions/x/nothing").status_code == 404
