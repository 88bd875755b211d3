"""Every vmops URL: full page and htmx partial, permissions, CSRF, query counts."""

from __future__ import annotations

from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import vm_in_state
from vmops.models import Operation, Subscription, VirtualMachine

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    """View tests check what the request does; tasks are covered in test_operations."""
    monkeypatch.setattr("vmops.services.operations.enqueue_operation", lambda pk: None)


# --- List -----------------------------------------------------------------------------------


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
    sub, _ = Subscription.objects.get_or_create(subscription_id="sub-q", display_name="Q")
    now = timezone.now()
    states = ["running", "stopped", "deallocated", "starting"]
    VirtualMachine.objects.bulk_create(
        VirtualMachine(
            subscription=sub,
            resource_group=f"rg-{i % 7}",
            name=f"vm-{i:05d}",
            azure_id=f"/subscriptions/sub-q/vm-{i}",
            location="westeurope",
            size="Standard_B2s",
            os_type="Linux",
            power_state=states[i % 4],
            reported_at=now,
            state_changed_at=now,
        )
        for i in range(start, start + n)
    )


def _queries_for_list(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/vms/").status_code == 200
    return len(ctx.captured_queries)


def test_list_runs_the_same_number_of_queries_for_10_and_500_vms(operator_client, operator_user):
    _make_vms(10)
    vm = VirtualMachine.objects.first()
    Operation.objects.create(
        vm=vm,
        kind="start",
        requested_at=timezone.now(),
        target_name="x",
        target_resource_group="x",
        target_subscription_id="x",
    )
    small = _queries_for_list(operator_client)
    _make_vms(490, start=10)
    for vm in VirtualMachine.objects.filter(power_state="stopped")[:30]:
        Operation.objects.create(
            vm=vm,
            kind="deallocate",
            requested_at=timezone.now(),
            target_name="x",
            target_resource_group="x",
            target_subscription_id="x",
        )
    large = _queries_for_list(operator_client)
    assert small == large, (small, large)
    assert large <= 15


def test_list_paginates(operator_client):
    _make_vms(120)
    html = operator_client.get("/vms/").content.decode()
    assert "120 VMs · page 1 of 3" in html
    assert "vm-00049" in html and "vm-00050" not in html
    assert "vm-00050" in operator_client.get("/vms/?page=2").content.decode()


def test_overview_partial(operator_client, inventory):
    html = operator_client.get("/vms/overview/", headers=HX).content.decode()
    assert html.lstrip().startswith('<section id="vm-overview"')


# --- Row, actions ---------------------------------------------------------------------------


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
    assert Operation.objects.get(vm=vm).kind == "deallocate"


def test_second_click_returns_the_same_operation(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    response = operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    assert response.status_code == 200
    assert Operation.objects.filter(vm=vm).count() == 1


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
    assert response.content.decode() == "The VM is already running."
    assert response["Content-Type"].startswith("text/plain")
    response = operator_client.post(f"/vms/{vm.pk}/actions/start/", follow=True)
    assert "The VM is already running." in response.content.decode()
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
    operation = Operation.objects.get(vm=vm)
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
    assert done["HX-Trigger"] == '{"vm-changed": {}}'


def test_fragment_urls_send_full_page_loads_to_their_page(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    assert operator_client.get(f"/vms/{vm.pk}/row/")["Location"] == f"/vms/{vm.pk}/"
    assert operator_client.get("/vms/overview/?q=web")["Location"] == "/vms/?q=web"
    assert operator_client.get("/vms/sync-status/")["Location"] == "/vms/"


def test_failed_operation_shows_the_arm_error_on_the_row(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    op = Operation.objects.create(
        vm=vm,
        kind="start",
        status="failed",
        requested_at=timezone.now(),
        target_name=vm.name,
        target_resource_group="x",
        target_subscription_id="x",
        error_code="OperationNotAllowed",
        error_summary="The VM is generalized, so it can never be started again.",
    )
    html = operator_client.get(f"/vms/{vm.pk}/row/?op={op.pk}", headers=HX).content.decode()
    assert "Start failed: The VM is generalized" in html and "OperationNotAllowed" in html


def test_stop_confirmation_warns_about_billing_and_offers_deallocate(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    html = operator_client.get(f"/vms/{vm.pk}/row/", headers=HX).content.decode()
    assert "it stays billed for compute" in html
    assert "Deallocate instead" in html


def test_disabled_actions_show_their_reason(operator_client, inventory):
    generalized = next(v for v in inventory.values() if v.generalized)
    html = operator_client.get(f"/vms/{generalized.pk}/row/", headers=HX).content.decode()
    assert "Generalized VMs cannot be started again; capture an image or delete the VM." in html
    assert "disabled" in html


# --- Bulk deallocate ------------------------------------------------------------------------


def test_bulk_deallocate_confirmation_lists_the_billed_vms(operator_client, inventory):
    html = operator_client.get("/vms/deallocate-stopped/").content.decode()
    billed = [v for v in inventory.values() if v.power_state == "stopped"]
    assert len(billed) >= 3
    for vm in billed:
        assert vm.name in html
    assert f"Deallocate {len(billed)} VMs" in html


def test_bulk_deallocate_respects_the_view_filters(operator_client, inventory):
    billed = [v for v in inventory.values() if v.power_state == "stopped"]
    group = billed[0].resource_group
    html = operator_client.get(f"/vms/deallocate-stopped/?resource_group={group}").content.decode()
    for vm in billed:
        assert (vm.name in html) == (vm.resource_group.lower() == group.lower())


def test_bulk_deallocate_queues_one_operation_per_chosen_vm(operator_client, inventory):
    billed = [v for v in inventory.values() if v.power_state == "stopped"]
    running = vm_in_state(inventory, "running")
    chosen = [billed[0].pk, billed[1].pk, running.pk]  # a running VM is not in the view
    response = operator_client.post("/vms/deallocate-stopped/", {"vm": chosen}, follow=True)
    assert "Deallocation queued for 2 VMs." in response.content.decode()
    assert set(Operation.objects.values_list("vm_id", flat=True)) == {billed[0].pk, billed[1].pk}


def test_bulk_deallocate_with_nothing_chosen_changes_nothing(operator_client, inventory):
    response = operator_client.post("/vms/deallocate-stopped/", follow=True)
    assert "No VM was selected" in response.content.decode()
    assert not Operation.objects.exists()


# --- Refresh and sync status ----------------------------------------------------------------


def test_refresh_with_htmx_returns_the_sync_status(operator_client, inventory, monkeypatch):
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    response = operator_client.post("/vms/refresh/", headers=HX)
    assert response.status_code == 200
    assert 'id="sync-status"' in response.content.decode()
    assert len(calls) == 1


def test_refresh_without_htmx_redirects(operator_client, inventory, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    response = operator_client.post("/vms/refresh/", follow=True)
    assert "Refreshing the inventory from Azure" in response.content.decode()


def test_sync_status_triggers_reload_once_synced(operator_client, inventory):
    since = (timezone.now() - timezone.timedelta(hours=1)).isoformat()
    response = operator_client.get("/vms/sync-status/", {"since": since}, headers=HX)
    assert response["HX-Trigger"] == '{"inventory-synced": {}}'
    future = (timezone.now() + timezone.timedelta(hours=1)).isoformat()
    response = operator_client.get("/vms/sync-status/", {"since": future}, headers=HX)
    assert "HX-Trigger" not in response
    assert 'hx-trigger="every 2s"' in response.content.decode()
    assert operator_client.get("/vms/sync-status/?since=garbage", headers=HX).status_code == 200
    naive = operator_client.get("/vms/sync-status/?since=2024-01-01T00:00:00", headers=HX)
    assert naive.status_code == 200


def test_throttled_sync_says_so_on_the_page(operator_client, inventory):
    Subscription.objects.update(
        sync_retry_after=timezone.now() + timezone.timedelta(minutes=5),
        sync_error="Azure is throttling requests.",
    )
    html = operator_client.get("/vms/").content.decode()
    assert "Azure is throttling requests; the next sync waits until" in html


# --- Detail ---------------------------------------------------------------------------------


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


def test_sync_status_stops_waiting_and_says_the_cluster_is_not_running(operator_client, inventory):
    long_ago = timezone.now() - timezone.timedelta(minutes=5)
    Subscription.objects.update(synced_at=long_ago - timezone.timedelta(minutes=1))
    since = (long_ago + timezone.timedelta(seconds=1)).isoformat()
    html = operator_client.get("/vms/sync-status/", {"since": since}, headers=HX).content.decode()
    assert 'hx-trigger="every' not in html
    assert "the task cluster does not seem to be running (No task cluster has run yet.)" in html


def test_refresh_is_queued_once_however_often_it_is_clicked(
    operator_client, inventory, monkeypatch
):
    from django.core.cache import cache

    cache.clear()
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    for _ in range(3):
        operator_client.post("/vms/refresh/", headers=HX)
    assert len(calls) == 1


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


def test_session_expiry_during_a_poll_returns_to_the_page_after_sign_in(client, inventory):
    vm = vm_in_state(inventory, "running")
    response = client.get(
        f"/vms/{vm.pk}/row/", headers={**HX, "HX-Current-URL": "http://testserver/vms/?q=web"}
    )
    assert response["HX-Redirect"] == "/login/?next=%2Fvms%2F%3Fq%3Dweb"


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


def test_transition_started_elsewhere_shows_progress(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    VirtualMachine.objects.filter(pk=vm.pk).update(power_state="stopping")  # from the portal
    html = operator_client.get(f"/vms/{vm.pk}/row/", headers=HX).content.decode()
    assert 'role="progressbar"' in html and "Stopping" in html


def test_rows_poll_quickly_at_first_then_calmer(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    operator_client.post(f"/vms/{vm.pk}/actions/deallocate/", headers=HX)
    operation = Operation.objects.get(vm=vm)
    html = operator_client.get(f"/vms/{vm.pk}/row/?op={operation.pk}", headers=HX).content
    assert b'hx-trigger="every 2s"' in html
    Operation.objects.filter(pk=operation.pk).update(
        requested_at=timezone.now() - timezone.timedelta(minutes=2)
    )
    html = operator_client.get(f"/vms/{vm.pk}/row/?op={operation.pk}", headers=HX).content
    assert b'hx-trigger="every 5s"' in html
