"""The VM list page: tiles, chart, filters, sorting, pagination, escaping, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import OperationFactory, SubscriptionFactory, VirtualMachineFactory
from tests.helpers import HX, vm_in_state
from vmops.models import VirtualMachine

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    """View tests check what the request does; the engine is covered in test_power_actions."""
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


def test_list_page_shows_tiles_chart_filters_and_rows(operator_client, inventory):
    html = operator_client.get("/vms/").content.decode()
    for text in (
        "Running",
        "Stopped but still billed",
        "Deallocated",
        "In transition",
        "Generalized",
        "VMs by power state per resource group",
        "<svg",
        "Apply filters",
        "Last synced",
        "build-win-01",
    ):
        assert text in html, text
    assert (
        "Stopped — still billed for compute. Deallocate to stop compute charges; "
        "disks are billed in both states."
    ) in html
    assert "Deallocate all stopped-but-billed VMs in this view" in html


def test_list_inventory_partial_for_htmx(operator_client, inventory):
    response = operator_client.get("/vms/", headers={**HX, "HX-Target": "vm-inventory"})
    html = response.content.decode()
    assert "<html" not in html and 'id="vm-overview"' in html and "build-win-01" in html
    assert "HX-Request" in response["Vary"]


def test_list_filters_and_sorting(operator_client, inventory):
    html = operator_client.get("/vms/?power_state=billed").content.decode()
    billed = [v.name for v in inventory.values() if v.power_state == "stopped"]
    assert all(name in html for name in billed)
    assert "api-prod-01" not in html
    html = operator_client.get("/vms/?q=sql&os_type=Windows").content.decode()
    assert "sql-prod-01" in html and "mysql-prod-01" not in html
    html = operator_client.get("/vms/?sort=-name").content.decode()
    assert html.index("web-prod-03") < html.index("api-prod-01")
    # Unknown values are ignored, not a server error.
    assert operator_client.get("/vms/?power_state=bogus&sort=evil&page=x").status_code == 200


def test_tag_and_name_from_azure_are_escaped(operator_client, inventory):
    vm = next(iter(inventory.values()))
    VirtualMachine.objects.filter(pk=vm.pk).update(
        name='<script>alert("x")</script>', tags={"owner": "<b>eve</b>"}
    )
    html = operator_client.get("/vms/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    html = operator_client.get(f"/vms/{vm.pk}/").content.decode()
    assert "<b>eve</b>" not in html and "&lt;b&gt;eve&lt;/b&gt;" in html


def test_reviewer_sees_the_list_without_actions(reviewer_client, inventory):
    html = reviewer_client.get("/vms/").content.decode()
    assert "build-win-01" in html
    assert "/actions/" not in html
    assert "Deallocate all stopped-but-billed" not in html


def _make_vms(n: int, start: int = 0) -> None:
    sub = SubscriptionFactory(subscription_id="sub-q", display_name="Q")
    states = ["running", "stopped", "deallocated", "starting"]
    VirtualMachine.objects.bulk_create(
        VirtualMachineFactory.build(
            subscription=sub,
            resource_group=f"rg-{i % 7}",
            name=f"vm-{i:05d}",
            power_state=states[i % 4],
        )
        for i in range(start, start + n)
    )


def _queries_for_list(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/vms/").status_code == 200
    return len(ctx.captured_queries)


def test_list_runs_the_same_number_of_queries_for_10_and_500_vms(operator_client, operator_user):
    _make_vms(10)
    OperationFactory(vm=VirtualMachine.objects.first(), kind="vm.start")
    small = _queries_for_list(operator_client)
    _make_vms(490, start=10)
    for vm in VirtualMachine.objects.filter(power_state="stopped")[:30]:
        OperationFactory(vm=vm, kind="vm.deallocate")
    large = _queries_for_list(operator_client)
    assert small == large, (small, large)
    # The sync status reads its own table (core's SyncState) since #18; the tile "On a
    # deprecated, past end-of-life or rejected image" is one count since #21; the price
    # figures (#22) add the totals of the filtered VMs and the compute price book.
    assert large <= 19


def test_list_paginates(operator_client):
    _make_vms(120)
    html = operator_client.get("/vms/").content.decode()
    assert "120 VMs · page 1 of 3" in html
    assert "vm-00049" in html and "vm-00050" not in html
    assert "vm-00050" in operator_client.get("/vms/?page=2").content.decode()


def test_overview_partial(operator_client, inventory):
    html = operator_client.get("/vms/overview/", headers=HX).content.decode()
    assert html.lstrip().startswith('<section id="vm-overview"')


def test_inventory_partial_keeps_its_wrapper_so_it_can_refresh_again(operator_client, inventory):
    html = operator_client.get(
        "/vms/", headers={**HX, "HX-Target": "vm-inventory"}
    ).content.decode()
    assert html.lstrip().startswith('<div id="vm-inventory"')
    assert 'hx-trigger="inventory-synced from:body"' in html


def test_overview_banner_follows_the_view(operator_client, inventory):
    html = operator_client.get("/vms/overview/", headers=HX).content.decode()
    assert "3 VMs in this view are stopped but still billed" in html
    html = operator_client.get("/vms/overview/?power_state=running", headers=HX).content.decode()
    assert "stopped but still billed for compute" not in html


def test_deleted_vms_can_be_listed(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    VirtualMachine.objects.filter(pk=vm.pk).update(gone_at=timezone.now())
    assert vm.name not in operator_client.get("/vms/").content.decode()
    html = operator_client.get("/vms/?include_gone=on").content.decode()
    assert vm.name in html and "Deleted in Azure" in html
