"""A refused request says so where the click happened, shows the row as it is, and is recorded.

Issue #13 defects 1 and 2, and issue #12 defects 4 and 5 (unsafe ``next``, Unicode digits).
"""

from __future__ import annotations

import json

import pytest

from contoso_images.operations import registry
from contoso_images.operations.models import Operation
from tests.helpers import HX, operations_of, vm_in_state
from vmops.models import VirtualMachine

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


@pytest.fixture
def events():
    """Every OperationEvent (the audit app records them; here they are only collected)."""
    seen: list = []
    registry.listen(seen.append)
    yield seen
    registry._listeners.remove(seen.append)


def _message(response) -> dict:
    return json.loads(response["HX-Trigger"])["show-message"]


def test_second_tab_deallocate_while_restart_runs_is_refused_on_its_row(
    operator_client, inventory, events
):
    """Two tabs on dev-jumpbox-01: Restart in one, Deallocate in the other within seconds."""
    vm = inventory["dev-jumpbox-01"]
    row = {**HX, "HX-Target": vm.row_id}
    first = operator_client.post(f"/vms/{vm.pk}/actions/restart/", {"confirm": "yes"}, headers=row)
    assert first.status_code == 200
    second = operator_client.post(
        f"/vms/{vm.pk}/actions/deallocate/", {"confirm": "yes"}, headers=row
    )
    html = second.content.decode()
    reason = (
        "Restart of dev-jumpbox-01 is already in progress; Deallocate was not sent. "
        "Try again when it has finished."
    )
    assert second.status_code == 409
    assert html.lstrip().startswith(f'<tr id="{vm.row_id}"')
    assert f'<p class="refusal" role="alert">{reason}</p>' in html
    assert "Restart</strong> · queued" in html  # the row shows what is under way
    assert _message(second) == {"level": "error", "text": reason}
    assert list(operations_of(vm).values_list("kind", flat=True)) == ["vm.restart"]
    refused = [e for e in events if e.name == "refused"]
    assert [(e.kind, e.user.username, e.reason) for e in refused] == [
        ("vm.deallocate", "olivia-operator", reason)
    ]


def test_refusal_rerenders_the_row_with_the_state_that_caused_it(operator_client, inventory):
    """The second tab still shows "Stopped (deallocated)" with Start; the VM is running now."""
    vm = vm_in_state(inventory, "deallocated")
    VirtualMachine.objects.filter(pk=vm.pk).update(power_state="running")  # the first tab's Start
    response = operator_client.post(
        f"/vms/{vm.pk}/actions/start/", headers={**HX, "HX-Target": vm.row_id}
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert '<span class="state state-running">Running</span>' in html
    assert "Stopped (deallocated)" not in html
    assert f'id="vm-{vm.pk}-start"' not in html  # Start is no longer offered
    assert f"Start of {vm.name} was not sent: The VM is already running." in html
    assert not Operation.objects.exists()


def test_refusal_on_the_vm_page_rerenders_its_status_panel(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    response = operator_client.post(
        f"/vms/{vm.pk}/actions/start/", headers={**HX, "HX-Target": "vm-status"}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="vm-status"')
    assert "The VM is already running." in html


def test_refusal_by_role_is_a_sentence_for_htmx_and_is_recorded(reviewer_client, inventory, events):
    vm = vm_in_state(inventory, "stopped")
    response = reviewer_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "Your role does not allow deallocate."
    assert [(e.name, e.kind, e.user.username) for e in events] == [
        ("refused", "vm.deallocate", "rui-reviewer")
    ]


@pytest.mark.parametrize("next_url", ["vms", "logout", "vmops:vm_list", "//evil.example/"])
def test_next_that_is_not_a_path_goes_to_the_vm_page(operator_client, inventory, next_url):
    """#12.4: ``redirect("vms")`` looked "vms" up as a URL name: a 500 after queueing."""
    vm = vm_in_state(inventory, "stopped")
    response = operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == f"/vms/{vm.pk}/"
    assert operations_of(vm).count() == 1


def test_next_path_on_this_site_is_followed(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    response = operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", {"next": "/vms/?q=build"})
    assert response["Location"] == "/vms/?q=build"


@pytest.mark.parametrize("value", ["²", "①", "١٢", "12abc", "-1", "9" * 40])
def test_row_poll_ignores_an_operation_id_that_is_not_ascii_digits(
    operator_client, inventory, value
):
    """#12.5: ``?op=²`` passed ``isdigit`` and crashed ``int``."""
    vm = vm_in_state(inventory, "running")
    response = operator_client.get(f"/vms/{vm.pk}/row/", {"op": value}, headers=HX)
    assert response.status_code == 200
    assert "HX-Trigger" not in response
