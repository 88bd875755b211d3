"""The old "deallocate every stopped-but-billed VM" page keeps working, as a multi-select."""

from __future__ import annotations

import pytest

from contoso_images.operations.models import Operation
from tests.helpers import vm_in_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    """View tests check what the request does; the engine is covered in test_power_actions."""
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


def test_bulk_deallocate_confirmation_lists_the_billed_vms(operator_client, inventory):
    response = operator_client.get("/vms/deallocate-stopped/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[0][0].startswith("/vms/bulk/?")
    billed = [v for v in inventory.values() if v.power_state == "stopped"]
    assert len(billed) >= 3
    for vm in billed:
        assert vm.name in html
    assert f"Deallocate {len(billed)} VMs" in html


def test_bulk_deallocate_respects_the_view_filters(operator_client, inventory):
    billed = [v for v in inventory.values() if v.power_state == "stopped"]
    group = billed[0].resource_group
    html = operator_client.get(
        f"/vms/deallocate-stopped/?resource_group={group}", follow=True
    ).content.decode()
    for vm in billed:
        assert (vm.name in html) == (vm.resource_group.lower() == group.lower())


def test_bulk_deallocate_queues_one_operation_per_chosen_vm(operator_client, inventory):
    billed = [v for v in inventory.values() if v.power_state == "stopped"]
    running = vm_in_state(inventory, "running")
    chosen = [billed[0].pk, billed[1].pk, running.pk]  # a running VM is not in the view
    response = operator_client.post("/vms/deallocate-stopped/", {"vm": chosen}, follow=True)
    assert "Deallocate queued for 2 VMs." in response.content.decode()
    assert set(Operation.objects.values_list("target_key", flat=True)) == {
        billed[0].azure_id,
        billed[1].azure_id,
    }


def test_bulk_deallocate_with_nothing_chosen_changes_nothing(operator_client, inventory):
    response = operator_client.post("/vms/deallocate-stopped/", follow=True)
    assert "No VM was selected" in response.content.decode()
    assert not Operation.objects.exists()
