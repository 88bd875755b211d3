"""Issue 20 on the VM list: a tag name that looks like a number, filter values the list could
not use, "In this state since" after changes the dashboard watched, and what a busy row says."""

from __future__ import annotations

import pytest
from django.test import Client

from contoso_images.operations.engine import run as operation_run
from tests.factories import OperationFactory, UserFactory
from tests.helpers import HX, vm_in_state
from vmops.models import VirtualMachine
from vmops.services import inventory_sync, vm_action_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def _no_enqueue(monkeypatch):
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


# --- ?tag=-1: a name that looks like a number is still a name --------------------------------


@pytest.mark.parametrize("tag", ["-1", "-1=x", "0", "7=seven"])
def test_a_numeric_tag_name_never_fails_any_page(operator_client, inventory, tag):
    client: Client = operator_client
    assert client.get("/vms/", {"tag": tag}).status_code == 200
    assert client.get("/vms/overview/", {"tag": tag}, headers=HX).status_code == 200
    preview = client.get("/vms/bulk/", {"action": "deallocate", "scope": "filter", "tag": tag})
    assert preview.status_code == 200
    export = client.get("/vms/export.csv", {"tag": tag})
    assert export.status_code == 200
    body = b"".join(export.streaming_content).decode()  # not broken mid-stream
    assert body.splitlines()[0].startswith("Name") or body.splitlines()[0]


def test_a_numeric_tag_name_finds_the_vms_carrying_it(operator_client, inventory):
    vm = inventory["web-prod-01"]
    VirtualMachine.objects.filter(pk=vm.pk).update(tags={"-1": "x", "7": "seven"})
    html = operator_client.get("/vms/", {"tag": "-1=x"}).content.decode()
    assert "web-prod-01" in html and "dev-jumpbox-01" not in html
    html = operator_client.get("/vms/", {"tag": "7"}).content.decode()
    assert "web-prod-01" in html and "dev-jumpbox-01" not in html
    html = operator_client.get("/vms/", {"tag": "-1=y"}).content.decode()
    assert "No VM matches these filters." in html


# --- A filter value the list could not use is said, not ignored in silence -------------------


def test_an_unknown_power_state_is_said_on_the_page(operator_client, inventory):
    html = operator_client.get("/vms/", {"power_state": "bogus"}).content.decode()
    assert "Power state “bogus” is not one of" in html
    assert "Running" in html.split("Power state “bogus”")[1].split("</p>")[0]
    assert "showing all." in html
    # It lists everything (as it says), and a valid filter says nothing.
    assert "web-prod-01" in html and "dev-jumpbox-01" in html
    html = operator_client.get("/vms/", {"power_state": "running"}).content.decode()
    assert "filter-notes" not in html


def test_an_unknown_resource_group_and_a_bad_tag_are_said(operator_client, inventory):
    html = operator_client.get("/vms/", {"resource_group": "rg-nope", "tag": "=x"}).content.decode()
    assert "Resource group “rg-nope” is not one of" in html
    assert "Tag “=x”: Write a tag as name=value, or a name alone. Showing all." in html
    partial = operator_client.get(
        "/vms/", {"power_state": "bogus"}, headers={**HX, "HX-Target": "vm-inventory"}
    ).content.decode()
    assert "Power state “bogus” is not one of" in partial


# --- "In this state since" keeps the changes the dashboard watched ---------------------------


def test_starting_then_running_seen_by_a_sync_is_dated(inventory):
    vm = vm_in_state(inventory, "running")
    # First listed while it was starting: no settled state yet, nothing dated.
    VirtualMachine.objects.filter(pk=vm.pk).update(
        power_state="starting", settled_power_state="", settled_at=None
    )
    inventory_sync(subscription=vm.subscription)
    vm.refresh_from_db()
    assert vm.power_state == vm.settled_power_state == "running"
    assert vm.settled_at is not None
    assert vm.in_state_since == vm.settled_at


def test_a_restart_of_ours_dates_the_running_state(inventory, emulator):
    vm = vm_in_state(inventory, "running")
    assert vm.settled_at is None  # first seen running: not seen changing
    user = UserFactory(username="restarter", is_superuser=True)
    operation, _ = vm_action_request(vm=vm, kind="restart", user=user)
    assert operation_run(operation_id=operation.pk).status == "succeeded"
    vm.refresh_from_db()
    assert vm.power_state == "running"
    assert vm.settled_at is not None and vm.settled_at >= operation.requested_at
    client = Client()
    client.force_login(user)
    html = client.get("/vms/", {"q": vm.name}).content.decode()
    row = html.split(f'id="vm-row-{vm.pk}"')[1].split("</tr>")[0]
    assert "not seen changing" not in row


# --- A row busy with one's own action says what it does, not a refusal -----------------------


@pytest.mark.usefixtures("_no_enqueue")
def test_a_busy_row_says_what_it_does_and_who_asked(operator_client, operator_user, inventory):
    vm = vm_in_state(inventory, "stopped")
    operation = OperationFactory(vm=vm, kind="vm.deallocate", requested_by=operator_user)
    html = operator_client.get("/vms/", {"q": vm.name}).content.decode()
    row = html.split(f'id="vm-row-{vm.pk}"')[1].split("</tr>")[0]
    assert "already in progress" not in row
    assert "Deallocating… (queued by you just now)" in row
    assert f'href="/vms/{vm.pk}/#vm-history"' in row
    operation.status = "running"
    operation.save()
    other = UserFactory(username="someone-else", is_superuser=True)
    client = Client()
    client.force_login(other)
    row = client.get(f"/vms/{vm.pk}/row/", {"op": operation.pk}, headers=HX).content.decode()
    assert f"Deallocating… (started by {operator_user.get_username()} just now)" in row
