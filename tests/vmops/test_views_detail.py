"""The VM page: properties, live instance view, disks, history, commands."""

from __future__ import annotations

from html import unescape

import pytest
from django.utils import timezone

from tests.helpers import HX, vm_in_state
from vmops.models import VirtualMachine

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    """View tests check what the request does; the engine is covered in test_power_actions."""
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


def test_detail_shows_properties_disks_statuses_tags_history_and_commands(
    operator_client, inventory
):
    vm = vm_in_state(inventory, "stopped")
    operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    html = unescape(operator_client.get(f"/vms/{vm.pk}/").content.decode())
    for text in (
        "Properties",
        "Instance view",
        "PowerState/stopped",
        "Disks",
        "OS disk",
        "Operation history",
        "Deallocate",
        "olivia-operator",
        f"az vm deallocate --subscription {vm.subscription.subscription_id} "
        f"--resource-group {vm.resource_group} --name {vm.name}",
        f"Stop-AzVM -ResourceGroupName '{vm.resource_group}' -Name '{vm.name}' -Force",
        "-StayProvisioned",
    ):
        assert text in html, text
    assert 'id="vm-status"' in html and 'hx-trigger="every' in html


def test_detail_status_partial_for_htmx(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    html = operator_client.get(
        f"/vms/{vm.pk}/", headers={**HX, "HX-Target": "vm-status"}
    ).content.decode()
    assert html.lstrip().startswith('<section id="vm-status"')
    html = operator_client.post(
        f"/vms/{vm.pk}/actions/deallocate/", headers={**HX, "HX-Target": "vm-status"}
    ).content.decode()
    assert html.lstrip().startswith('<section id="vm-status"')


def test_detail_of_vm_deleted_in_azure_says_so(operator_client, inventory, emulator):
    vm = vm_in_state(inventory, "running")
    from contoso_images.azure import compute_client

    compute_client(vm.subscription.subscription_id).virtual_machines.begin_delete(
        vm.resource_group, vm.name
    ).result()
    response = operator_client.get(f"/vms/{vm.pk}/")
    assert response.status_code == 200
    assert "This VM was deleted in Azure" in response.content.decode()
    vm.refresh_from_db()
    assert vm.gone_at is not None


def test_detail_when_azure_fails_shows_the_error_and_cached_state(
    operator_client, inventory, emulator, settings
):
    settings.AZURE_MAX_RETRY_WAIT = 0
    vm = vm_in_state(inventory, "running")
    emulator.queue_fault(
        path_contains=f"/virtualMachines/{vm.name}", status=503, retry_after=None, count=10
    )
    html = operator_client.get(f"/vms/{vm.pk}/").content.decode()
    assert "Azure could not be asked for this VM" in html
    assert "Running" in html


def test_reviewer_sees_detail_read_only(reviewer_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    html = reviewer_client.get(f"/vms/{vm.pk}/").content.decode()
    assert vm.name in html and "/actions/" not in html


def test_auditor_cannot_see_vms(auditor_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    for url in (
        "/vms/",
        f"/vms/{vm.pk}/",
        f"/vms/{vm.pk}/row/",
        "/vms/overview/",
        "/vms/sync-status/",
        "/vms/deallocate-stopped/",
    ):
        assert auditor_client.get(url).status_code == 403, url


def test_detail_history_partial_reloads_after_an_operation(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    html = operator_client.get(
        f"/vms/{vm.pk}/", headers={**HX, "HX-Target": "vm-history"}
    ).content.decode()
    assert html.lstrip().startswith('<section id="vm-history"')


def test_detail_brings_the_cached_state_up_to_date(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    VirtualMachine.objects.filter(pk=vm.pk).update(power_state="starting")
    operator_client.get(f"/vms/{vm.pk}/")
    vm.refresh_from_db()
    assert vm.power_state == "running"


def test_open_vm_page_learns_slowly_that_the_vm_was_deleted(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    status = {**HX, "HX-Target": "vm-status"}
    html = operator_client.get(f"/vms/{vm.pk}/row/", headers=status).content.decode()
    assert 'hx-trigger="every 30s"' in html
    VirtualMachine.objects.filter(pk=vm.pk).update(gone_at=timezone.now())  # a sync saw it go
    html = operator_client.get(f"/vms/{vm.pk}/row/", headers=status).content.decode()
    assert "Deleted in Azure" in html
    assert "hx-trigger" not in html
