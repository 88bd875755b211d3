"""Multi-select: a dry-run preview, one request for many VMs, per-VM results and a summary."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contoso_images.audit.models import AuditEvent
from contoso_images.operations.models import Operation
from tests.factories import OperationFactory, SubscriptionFactory, VirtualMachineFactory
from tests.helpers import HX, vm_in_state
from vmops.models import BulkAction, VirtualMachine

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


def _by_state(inventory, state, n):
    found = [v for v in inventory.values() if v.power_state == state and not v.generalized]
    return sorted(found, key=lambda v: v.name)[:n]


def test_list_offers_ticks_and_an_action_bar_to_operators(
    operator_client, reviewer_user, inventory
):
    html = operator_client.get("/vms/").content.decode()
    vm = inventory["build-win-01"]
    assert f'<input type="checkbox" name="vm" value="{vm.pk}" form="vm-bulk"' in html
    assert '<form id="vm-bulk" class="bulk-bar" method="get" action="/vms/bulk/"' in html
    assert 'name="scope" value="filter"' in html
    for kind in ("start", "power_off", "deallocate", "restart"):
        assert f'name="action" value="{kind}"' in html
    operator_client.force_login(reviewer_user)
    assert 'form="vm-bulk"' not in operator_client.get("/vms/").content.decode()


def test_preview_lists_what_each_vm_will_get_and_why_some_are_skipped(operator_client, inventory):
    billed = _by_state(inventory, "stopped", 2)
    running = _by_state(inventory, "running", 1)
    deallocated = _by_state(inventory, "deallocated", 1)
    ids = [vm.pk for vm in (*billed, *running, *deallocated)]
    response = operator_client.get("/vms/bulk/", {"action": "deallocate", "vm": ids})
    html = response.content.decode()
    assert response.status_code == 200
    assert "3 VMs will deallocate</strong>; <strong>1 skipped</strong>" in html
    assert "Nothing has been sent yet." in html
    assert "<strong>Skipped:</strong> The VM is already deallocated." in html
    # The skipped one is listed first; the button says what is sent.
    assert html.index(deallocated[0].name) < html.index(billed[0].name)
    assert 'data-count-label="Deallocate {n} VM{s}"' in html
    assert not Operation.objects.exists()


def test_post_asks_for_every_selected_vm_in_one_request_and_shows_results(
    operator_client, inventory
):
    billed = _by_state(inventory, "stopped", 2)
    deallocated = _by_state(inventory, "deallocated", 1)
    ids = [vm.pk for vm in (*billed, *deallocated)]
    response = operator_client.post("/vms/bulk/", {"action": "deallocate", "vm": ids}, follow=True)
    html = response.content.decode()
    bulk = BulkAction.objects.get()
    assert response.redirect_chain[-1][0] == f"/vms/bulk/{bulk.pk}/"
    assert "Deallocate queued for 2 VMs. 1 skipped (why, below)." in html
    assert re.search(r'<span class="count">2</span> queued', html)
    assert re.search(r'<span class="count">1</span> skipped', html)
    assert "<strong>Skipped:</strong> The VM is already deallocated." in html
    assert 'hx-trigger="every' in html  # the results follow the operations
    assert set(Operation.objects.values_list("target_key", flat=True)) == {
        vm.azure_id for vm in billed
    }
    assert bulk.requested_by.username == "olivia-operator"
    assert bulk.selection == "3 ticked VMs"


def test_results_stop_polling_when_every_operation_ended(operator_client, inventory):
    billed = _by_state(inventory, "stopped", 1)
    operator_client.post("/vms/bulk/", {"action": "deallocate", "vm": [billed[0].pk]})
    bulk = BulkAction.objects.get()
    Operation.objects.update(status="failed", error_summary="Azure said no.", error_code="Nope")
    response = operator_client.get(
        f"/vms/bulk/{bulk.pk}/", headers={**HX, "HX-Target": "bulk-results"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="bulk-results"')
    assert "hx-trigger" not in html
    assert "All done." in html and "Azure said no. <code>Nope</code>" in html


def test_a_vm_busy_with_another_action_is_skipped_with_the_reason(operator_client, inventory):
    vm = inventory["dev-jumpbox-01"]
    OperationFactory(vm=vm, kind="vm.restart", status="running")
    operator_client.post("/vms/bulk/", {"action": "deallocate", "vm": [vm.pk]})
    item = BulkAction.objects.get().items[0]
    assert item["outcome"] == "skipped"
    assert item["reason"] == (
        f"Restart of {vm.name} is already in progress; Deallocate was not sent. "
        "Try again when it has finished."
    )
    assert Operation.objects.filter(kind="vm.deallocate").count() == 0
    # The refusal is recorded as a one-click refusal would be.
    refused = AuditEvent.objects.get(outcome="refused")
    assert (refused.action, refused.target_name) == ("vm.deallocate.refused", vm.name)


def test_a_multi_select_racing_another_action_skips_that_vm_and_sends_the_rest(
    operator_client, inventory, monkeypatch
):
    """The busy lookup misses a Restart committed just after it (PostgreSQL READ COMMITTED):
    the bulk insert hits the one-unfinished-per-target constraint, and the fallback must skip
    that VM with the reason, as a one-click request is refused, and send the others."""
    vm = inventory["dev-jumpbox-01"]
    other = _by_state(inventory, "stopped", 2)
    other = next(v for v in other if v.pk != vm.pk)
    OperationFactory(vm=vm, kind="vm.restart", status="running")
    monkeypatch.setattr("contoso_images.operations.services.unfinished_by_target", lambda keys: {})
    response = operator_client.post("/vms/bulk/", {"action": "deallocate", "vm": [vm.pk, other.pk]})
    bulk = BulkAction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/vms/bulk/{bulk.pk}/"
    items = {item["vm"]: item for item in bulk.items}
    assert items[vm.pk]["outcome"] == "skipped"
    assert items[vm.pk]["reason"] == (
        f"Restart of {vm.name} is already in progress; Deallocate was not sent. "
        "Try again when it has finished."
    )
    assert items[other.pk]["outcome"] == "queued"
    assert list(
        Operation.objects.filter(kind="vm.deallocate").values_list("target_key", flat=True)
    ) == [other.azure_id]
    refused = AuditEvent.objects.get(outcome="refused")
    assert (refused.action, refused.target_name) == ("vm.deallocate.refused", vm.name)


def test_all_matching_the_filter_sends_the_filter_not_the_ids(operator_client, inventory):
    response = operator_client.get(
        "/vms/bulk/", {"action": "start", "scope": "filter", "power_state": "deallocated"}
    )
    html = response.content.decode()
    assert "Start: all VMs matching: Stopped (deallocated)" in html
    assert '<input type="hidden" name="scope" value="filter">' in html
    assert '<input type="hidden" name="power_state" value="deallocated">' in html
    assert 'name="vm"' not in html
    response = operator_client.post(
        "/vms/bulk/",
        {
            "action": "start",
            "scope": "filter",
            "power_state": "deallocated",
            "previewed": _previewed(html),
        },
    )
    assert response.status_code == 302
    deallocated = [
        v for v in inventory.values() if v.power_state == "deallocated" and not v.generalized
    ]
    assert Operation.objects.filter(kind="vm.start").count() == len(deallocated)


def _previewed(html: str) -> str:
    """The previewed VM ids the confirmation form carries (one comma-separated field)."""
    match = re.search(r'<input type="hidden" name="previewed" value="([0-9,]*)">', html)
    assert match, "the confirmation does not carry the previewed VMs"
    return match.group(1)


def test_all_matching_confirms_exactly_the_vms_the_preview_listed(operator_client, inventory):
    """Between preview and confirmation a listed VM leaves the filter and another joins it:
    only the previewed VMs still matching are acted on; the one that left is reported as
    skipped; the newcomer, which nobody saw listed, is not touched."""
    params = {"action": "deallocate", "scope": "filter", "power_state": "billed"}
    html = operator_client.get("/vms/bulk/", params).content.decode()
    previewed = _previewed(html)
    ids = [int(i) for i in previewed.split(",")]
    listed = list(VirtualMachine.objects.filter(pk__in=ids).order_by("name"))
    assert len(listed) >= 2
    left = listed[0]
    VirtualMachine.objects.filter(pk=left.pk).update(power_state="deallocated")
    newcomer = VirtualMachineFactory(
        subscription=listed[1].subscription, power_state="stopped", name="zz-joined-later"
    )
    response = operator_client.post("/vms/bulk/", {**params, "previewed": previewed})
    assert response.status_code == 302
    sent = set(Operation.objects.filter(kind="vm.deallocate").values_list("target_key", flat=True))
    assert sent == {vm.azure_id for vm in listed[1:]}
    assert newcomer.azure_id not in sent
    items = {item["vm"]: item for item in BulkAction.objects.get().items}
    assert set(items) == set(ids)
    assert items[left.pk]["outcome"] == "skipped"
    assert items[left.pk]["reason"] == "No longer matches the filter; nothing was sent to it."


def test_a_filter_confirmation_without_the_previewed_vms_sends_nothing(operator_client, inventory):
    response = operator_client.post(
        "/vms/bulk/",
        {"action": "start", "scope": "filter", "power_state": "deallocated"},
        follow=True,
    )
    assert "Open the preview again and confirm from there." in response.content.decode()
    assert not Operation.objects.exists()


def test_a_filter_matching_more_than_the_limit_sends_nothing(operator_client, inventory, settings):
    settings.VM_BULK_LIMIT = 3
    html = operator_client.get(
        "/vms/bulk/", {"action": "start", "scope": "filter"}
    ).content.decode()
    assert "one request acts on at most 3" in html
    response = operator_client.post(
        "/vms/bulk/", {"action": "start", "scope": "filter"}, follow=True
    )
    assert "Nothing was sent" in response.content.decode()
    assert not Operation.objects.exists()


@pytest.mark.parametrize("value", ["²", "①", "١٢", "1.5", ""])
def test_ids_are_ascii_digits_only(operator_client, inventory, value):
    """#12.5: vm=١٢ was accepted as id 12 and deallocated that VM; vm=² was a 500."""
    vm12 = VirtualMachine.objects.filter(pk=12).first()
    if vm12 is None:
        vm12 = VirtualMachineFactory(pk=12, power_state="stopped")
    for url in ("/vms/bulk/", "/vms/deallocate-stopped/"):
        response = operator_client.post(url, {"action": "deallocate", "vm": [value]}, follow=True)
        assert response.status_code == 200
        assert "Nothing was sent" in response.content.decode() or "No VM" in (
            response.content.decode()
        )
    assert not Operation.objects.exists()
    response = operator_client.get("/vms/bulk/", {"action": "deallocate", "vm": [value]})
    assert response.status_code == 200


def test_reviewers_cannot_preview_or_send(reviewer_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    assert (
        reviewer_client.get("/vms/bulk/", {"action": "deallocate", "vm": vm.pk}).status_code == 403
    )
    assert (
        reviewer_client.post("/vms/bulk/", {"action": "deallocate", "vm": vm.pk}).status_code == 403
    )
    assert not Operation.objects.exists()


def _fleet(group: str, n: int) -> None:
    sub = SubscriptionFactory(subscription_id="sub-bulk", display_name="Bulk")
    VirtualMachine.objects.bulk_create(
        VirtualMachineFactory.build(
            subscription=sub, name=f"{group}-{i:05d}", power_state="stopped", resource_group=group
        )
        for i in range(n)
    )


def _queries(client, method, **data) -> int:
    """Queries of one request, bar INSERTs: a bulk insert is one statement on PostgreSQL but
    is split into batches by SQLite's limit on parameters."""
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)("/vms/bulk/", data)
    assert response.status_code in (200, 302)
    return sum(1 for q in ctx.captured_queries if not q["sql"].lstrip().startswith("INSERT"))


def test_preview_and_request_take_the_same_queries_for_10_and_300_vms(operator_client, monkeypatch):
    # The audit record is another app's: only this request's own queries are counted here.
    monkeypatch.setattr("contoso_images.operations.registry._listeners", [])
    _fleet("rg-small", 10)
    _fleet("rg-large", 300)
    counts = {}
    for group in ("rg-small", "rg-large"):
        params = {"action": "deallocate", "scope": "filter", "resource_group": group}
        previewed = _previewed(operator_client.get("/vms/bulk/", params).content.decode())
        counts[group] = (
            _queries(operator_client, "get", **params),
            _queries(operator_client, "post", **params, previewed=previewed),
        )
    assert Operation.objects.count() == 310
    assert counts["rg-small"] == counts["rg-large"], counts
