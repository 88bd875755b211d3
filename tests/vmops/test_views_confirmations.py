"""Restart, and Deallocate of a running VM, ask first (named with the VM); the server insists.

Deallocating a VM that is only stopped stays one click. Without JavaScript, and for a request
that arrives without the answer, the question is a page (or the row with it open).
"""

from __future__ import annotations

import pytest

from tests.helpers import HX, operations_of, vm_in_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


def _row(client, vm) -> str:
    return client.get(f"/vms/{vm.pk}/row/", headers=HX).content.decode()


def test_restart_and_deallocate_of_a_running_vm_ask_first_naming_the_vm(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    html = _row(operator_client, vm)
    assert f"Restart {vm.name}? It goes offline" in html
    assert f"Deallocate {vm.name}? It is running" in html
    assert f'<summary class="button small" id="vm-{vm.pk}-restart">Restart…</summary>' in html
    assert 'name="confirm" value="yes"' in html


def test_deallocating_a_stopped_vm_stays_one_click(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    html = _row(operator_client, vm)
    assert "Deallocate " + vm.name + "?" not in html
    assert f'id="vm-{vm.pk}-deallocate" class="button small primary warn">Deallocate</button>' in (
        html
    )
    response = operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    assert response.status_code == 200
    assert operations_of(vm).count() == 1


@pytest.mark.parametrize("kind", ["restart", "deallocate", "power_off"])
def test_without_the_answer_nothing_is_sent_and_the_question_opens(
    operator_client, inventory, kind
):
    vm = vm_in_state(inventory, "running")
    response = operator_client.post(
        f"/vms/{vm.pk}/actions/{kind}/", headers={**HX, "HX-Target": vm.row_id}
    )
    assert response.status_code == 200
    assert '<details class="confirm" open>' in response.content.decode()
    assert not operations_of(vm).exists()


def test_without_javascript_the_question_is_a_page(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    response = operator_client.post(f"/vms/{vm.pk}/actions/restart/", {"next": "/vms/?q=web"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<h1 id="confirm-title">Restart {vm.name}?</h1>' in html
    assert 'name="confirm" value="yes"' in html and 'href="/vms/?q=web"' in html
    assert not operations_of(vm).exists()
    response = operator_client.post(
        f"/vms/{vm.pk}/actions/restart/", {"next": "/vms/?q=web", "confirm": "yes"}
    )
    assert response["Location"] == "/vms/?q=web"
    assert operations_of(vm).get().kind == "vm.restart"


def test_the_answer_sends_it(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    response = operator_client.post(
        f"/vms/{vm.pk}/actions/deallocate/", {"confirm": "yes"}, headers=HX
    )
    assert response.status_code == 200
    assert operations_of(vm).get().kind == "vm.deallocate"


def test_a_refused_action_is_refused_rather_than_asked(operator_client, inventory):
    vm = vm_in_state(inventory, "deallocated")
    response = operator_client.post(f"/vms/{vm.pk}/actions/restart/", headers=HX)
    assert response.status_code == 409
    assert "Only a running VM can be restarted." in response.content.decode()
