"""A VM's row and its actions: htmx swaps, polling, refusals, permissions, CSRF."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from contoso_images.operations.models import Operation
from tests.factories import OperationFactory
from tests.helpers import HX, operations_of, vm_in_state
from vmops.models import VirtualMachine

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    """View tests check what the request does; the engine is covered in test_power_actions."""
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


def test_action_with_htmx_swaps_the_row_to_the_queued_operation(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    response = operator_client.post(
        f"/vms/{vm.pk}/actions/deallocate/", headers={**HX, "HX-Target": vm.row_id}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="{vm.row_id}"')
    assert "Deallocate</strong> · queued" in html
    assert f'hx-get="/vms/{vm.pk}/row/?op=' in html and 'hx-trigger="every' in html
    assert operations_of(vm).get().kind == "vm.deallocate"


def test_second_click_returns_the_same_operation(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    response = operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    assert response.status_code == 200
    assert operations_of(vm).count() == 1


def test_action_without_htmx_redirects_with_a_message(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    response = operator_client.post(
        f"/vms/{vm.pk}/actions/deallocate/", {"next": "/vms/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/vms/"
    assert (
        "Deallocate of build-win-01 is queued." in response.content.decode()
        or "is queued" in response.content.decode()
    )


def test_open_redirect_is_refused(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    response = operator_client.post(
        f"/vms/{vm.pk}/actions/deallocate/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == f"/vms/{vm.pk}/"


def test_invalid_action_is_409_with_a_sentence_and_changes_nothing(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    response = operator_client.post(f"/vms/{vm.pk}/actions/start/", headers=HX)
    assert response.status_code == 409
    sentence = f"Start of {vm.name} was not sent: The VM is already running."
    assert sentence in response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    response = operator_client.post(f"/vms/{vm.pk}/actions/start/", follow=True)
    assert sentence in response.content.decode()
    assert not Operation.objects.exists()


def test_unknown_action_and_unknown_vm_are_404(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    assert operator_client.post(f"/vms/{vm.pk}/actions/explode/").status_code == 404
    response = operator_client.get("/vms/999999/")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.content.decode()
    assert operator_client.post("/vms/999999/actions/start/").status_code == 404


@pytest.mark.parametrize("fixture", ["reviewer_client", "auditor_client"])
@pytest.mark.parametrize("kind", ["start", "power_off", "deallocate", "restart"])
def test_only_operators_may_act(request, fixture, kind, inventory):
    vm = vm_in_state(inventory, "stopped")
    client = request.getfixturevalue(fixture)
    assert client.post(f"/vms/{vm.pk}/actions/{kind}/", headers=HX).status_code == 403
    assert client.post("/vms/deallocate-stopped/", {"vm": [vm.pk]}).status_code == 403
    assert not Operation.objects.exists()


def test_actions_need_csrf(operator_user, inventory):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    vm = vm_in_state(inventory, "stopped")
    assert client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX).status_code == 403
    assert client.post("/vms/refresh/").status_code == 403
    assert client.post("/vms/deallocate-stopped/", {"vm": [vm.pk]}).status_code == 403
    assert not Operation.objects.exists()


def test_actions_are_post_only(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    assert operator_client.get(f"/vms/{vm.pk}/actions/deallocate/").status_code == 405
    assert operator_client.get("/vms/refresh/").status_code == 405


def test_row_polls_while_unfinished_and_stops_when_done(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    operation = operations_of(vm).get()
    polling = operator_client.get(f"/vms/{vm.pk}/row/?op={operation.pk}", headers=HX)
    assert 'hx-trigger="every' in polling.content.decode()
    assert "HX-Trigger" not in polling
    Operation.objects.filter(pk=operation.pk).update(status="succeeded", finished_at=timezone.now())
    VirtualMachine.objects.filter(pk=vm.pk).update(power_state="deallocated")
    done = operator_client.get(f"/vms/{vm.pk}/row/?op={operation.pk}", headers=HX)
    html = done.content.decode()
    assert 'hx-trigger="every' not in html
    assert "Deallocate succeeded" in html
    assert "still billed" not in html
    assert set(json.loads(done["HX-Trigger"])) == {"vm-changed", "operations-changed"}


def test_fragment_urls_send_full_page_loads_to_their_page(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    assert operator_client.get(f"/vms/{vm.pk}/row/")["Location"] == f"/vms/{vm.pk}/"
    assert operator_client.get("/vms/overview/?q=web")["Location"] == "/vms/?q=web"
    assert operator_client.get("/vms/sync-status/")["Location"] == "/vms/"


def test_failed_operation_shows_the_arm_error_on_the_row(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    op = OperationFactory(
        vm=vm,
        kind="vm.start",
        status="failed",
        error_code="OperationNotAllowed",
        error_summary="The VM is generalized, so it can never be started again.",
    )
    html = operator_client.get(f"/vms/{vm.pk}/row/?op={op.pk}", headers=HX).content.decode()
    assert "Start failed: The VM is generalized" in html and "OperationNotAllowed" in html


def test_stop_confirmation_warns_about_billing_and_offers_deallocate(operator_client, inventory):
    """Stop… asks first (named with the VM) and offers Deallocate instead."""
    vm = vm_in_state(inventory, "running")
    html = operator_client.get(f"/vms/{vm.pk}/row/", headers=HX).content.decode()
    assert "it stays billed for compute" in html
    assert "Deallocate instead" in html


def test_disabled_actions_show_their_reason(operator_client, inventory):
    """The row offers only what the VM can do now (here nothing, and says why once); the VM
    page shows every action, the disabled ones described by their reason."""
    generalized = next(v for v in inventory.values() if v.generalized)
    reason = "Generalized VMs cannot be started again; capture an image or delete the VM."
    html = operator_client.get(f"/vms/{generalized.pk}/row/", headers=HX).content.decode()
    assert html.count(reason) == 1
    assert "disabled" not in html
    status = {**HX, "HX-Target": "vm-status"}
    html = operator_client.get(f"/vms/{generalized.pk}/", headers=status).content.decode()
    start = (
        f'id="vm-{generalized.pk}-start" disabled aria-describedby="vm-{generalized.pk}-start-why"'
    )
    assert start in html
    assert f'id="vm-{generalized.pk}-start-why">{reason}</span>' in html


def test_session_expiry_during_a_poll_returns_to_the_page_after_sign_in(client, inventory):
    vm = vm_in_state(inventory, "running")
    response = client.get(
        f"/vms/{vm.pk}/row/", headers={**HX, "HX-Current-URL": "http://testserver/vms/?q=web"}
    )
    assert response["HX-Redirect"] == "/login/?next=%2Fvms%2F%3Fq%3Dweb"


def test_transition_started_elsewhere_shows_progress(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    VirtualMachine.objects.filter(pk=vm.pk).update(power_state="stopping")  # from the portal
    html = operator_client.get(f"/vms/{vm.pk}/row/", headers=HX).content.decode()
    assert 'role="progressbar"' in html and "Stopping" in html


def test_rows_poll_quickly_at_first_then_calmer(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    operation = operations_of(vm).get()
    html = operator_client.get(f"/vms/{vm.pk}/row/?op={operation.pk}", headers=HX).content
    assert b'hx-trigger="every 2s"' in html
    Operation.objects.filter(pk=operation.pk).update(
        requested_at=timezone.now() - timezone.timedelta(minutes=2)
    )
    html = operator_client.get(f"/vms/{vm.pk}/row/?op={operation.pk}", headers=HX).content
    assert b'hx-trigger="every 5s"' in html
