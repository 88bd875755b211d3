"""The inventory sync: one paged listing per subscription, bulk writes, gone VMs kept."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from contoso_images.azure import vm_begin_deallocate
from contoso_images.core.models import Subscription, SyncState
from vmops.models import VirtualMachine
from vmops.services import inventory_sync, inventory_sync_all
from vmops.tasks import inventory_sync_scheduled

pytestmark = pytest.mark.django_db


def test_first_sync_fills_the_inventory(emulator):
    results = inventory_sync_all()
    assert len(results) == 2
    assert sum(r.created for r in results) == VirtualMachine.objects.count() >= 15
    vm = VirtualMachine.objects.get(name="build-win-01")
    assert vm.power_state == "stopped"
    assert vm.os_type == "Windows"
    assert vm.size and vm.location and vm.image_label
    assert vm.hyper_v_generation in ("V1", "V2")
    assert vm.subscription.display_name.startswith("Contoso Pilot")
    states = set(VirtualMachine.objects.values_list("power_state", flat=True))
    assert {"running", "stopped", "deallocated"} <= states
    assert VirtualMachine.objects.filter(generalized=True).exists()
    synced = SyncState.objects.filter(kind="inventory", synced_at__isnull=False)
    assert synced.count() == 2


def test_sync_uses_one_paged_listing_per_subscription(emulator):
    emulator.seed_contoso_pilot(extra_vms=250)
    emulator.clear_request_log()
    inventory_sync_all()
    paths = [e.path.split("?")[0] for e in emulator.request_log()]
    listings = [p for p in paths if p.endswith("/providers/Microsoft.Compute/virtualMachines")]
    counts = {sub.subscription_id: sub.vms.count() for sub in Subscription.objects.all()}
    expected = sum(math.ceil(n / emulator.page_size) for n in counts.values())
    assert len(listings) == expected
    assert not [p for p in paths if "/virtualMachines/" in p], "no per-VM call"


def test_changes_made_outside_the_dashboard_appear_at_the_next_sync(inventory, emulator):
    vm = inventory["build-win-01"]
    before = vm.state_changed_at
    vm_begin_deallocate(vm.subscription.subscription_id, vm.resource_group, vm.name)
    result = inventory_sync(subscription=vm.subscription)
    assert result.updated == 1
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"
    assert before is None  # not seen changing at the first sync
    assert vm.state_changed_at is not None


def test_vms_gone_from_azure_are_marked_not_deleted(inventory, emulator):
    vm = inventory["web-prod-01"]
    from contoso_images.azure import compute_client

    compute_client(vm.subscription.subscription_id).virtual_machines.begin_delete(
        vm.resource_group, vm.name
    ).result()
    inventory_sync_all()
    vm.refresh_from_db()
    assert vm.gone_at is not None
    assert VirtualMachine.objects.filter(pk=vm.pk).exists()


def test_unchanged_vms_are_not_rewritten(inventory):
    results = inventory_sync_all()
    assert [r.updated for r in results] == [0, 0]
    assert [r.created for r in results] == [0, 0]


def test_throttled_sync_records_when_to_retry_and_skips_until_then(inventory, emulator, settings):
    settings.AZURE_MAX_RETRY_WAIT = 0
    emulator.queue_fault(path_contains="/virtualMachines", status=429, retry_after=120, count=5)
    sub = Subscription.objects.order_by("pk").first()
    result = inventory_sync(subscription=sub)
    state = SyncState.objects.get(kind="inventory", subscription=sub)
    assert result.throttled_until is not None
    assert state.retry_after > timezone.now() + timedelta(seconds=100)
    assert "throttl" in state.error.lower()
    emulator.clear_faults()
    emulator.clear_request_log()
    assert "skipped" in inventory_sync(subscription=sub).error
    assert emulator.request_log() == []
    inventory_sync(subscription=sub, force=True)
    state.refresh_from_db()
    assert state.error == "" and state.retry_after is None


def test_scheduled_task_reports_each_subscription(emulator):
    assert inventory_sync_scheduled().count("VMs listed") == 2


def test_schedules_exist_with_configured_interval():
    from django_q.models import Schedule

    names = set(Schedule.objects.values_list("name", flat=True))
    assert {"inventory-sync", "operations-reconcile", "heartbeat"} <= names
    assert Schedule.objects.get(name="inventory-sync").minutes == 1


def test_a_trimmed_listing_does_not_blank_known_facts(inventory):
    """If Azure's statusOnly listing leaves out size or image, the cache keeps them."""
    from dataclasses import replace

    from contoso_images.azure import vm_list_with_power_state
    from vmops.services.inventory import _apply_listing

    vm = inventory["build-win-01"]
    listing = [
        replace(item, size="", os_type="", image_reference=None, hyper_v_generation="")
        for item in vm_list_with_power_state(vm.subscription.subscription_id)
    ]
    _apply_listing(vm.subscription, listing, timezone.now())
    vm.refresh_from_db()
    assert vm.size and vm.os_type == "Windows" and vm.image_label and vm.hyper_v_generation


# --- "In this state since": settled states, not transitions (issue #13 defect 3) -----------


def test_a_start_that_azure_accepted_and_then_failed_changes_nothing(inventory, emulator):
    """ "State changed: now" after a failed Start that changed nothing."""
    from contoso_images.operations.engine import run as operation_run
    from tests.factories import UserFactory
    from vmops.services import vm_action_request

    vm = inventory["dev-sql-01"]
    assert vm.power_state == "deallocated"
    three_days_ago = timezone.now() - timedelta(days=3)
    VirtualMachine.objects.filter(pk=vm.pk).update(settled_at=three_days_ago)
    vm.refresh_from_db()
    emulator.queue_operation_failure(
        path_contains=f"/{vm.name}/start",
        code="AllocationFailed",
        message="Allocation failed. We do not have sufficient capacity.",
    )
    user = UserFactory(username="starter", is_superuser=True)
    operation, _ = vm_action_request(vm=vm, kind="start", user=user)
    assert operation_run(operation_id=operation.pk).status == "failed"
    vm.refresh_from_db()
    assert vm.power_state == "deallocated"
    assert vm.settled_power_state == "deallocated"
    assert vm.settled_at == three_days_ago
    assert vm.in_state_since == three_days_ago


def test_a_settled_change_seen_by_a_sync_is_dated_and_a_transition_is_not(inventory, emulator):
    vm = inventory["build-win-01"]
    assert vm.settled_power_state == "stopped" and vm.settled_at is None  # first seen
    from contoso_images.azure import vm_begin_deallocate as begin

    emulator.set_durations(deallocate=600)
    begin(vm.subscription.subscription_id, vm.resource_group, vm.name)
    inventory_sync(subscription=vm.subscription)
    vm.refresh_from_db()
    assert vm.power_state == "deallocating"
    assert vm.settled_at is None  # a transition settles nothing
    assert vm.in_state_since == vm.state_changed_at  # the transition's own start
    emulator.advance(601)
    inventory_sync(subscription=vm.subscription)
    vm.refresh_from_db()
    assert vm.power_state == vm.settled_power_state == "deallocated"
    assert vm.settled_at is not None


# --- "Refresh now" is de-duplicated in the database (issue #12 defect 6) --------------------


def test_refresh_requests_share_one_window_across_processes(db, monkeypatch):
    """Each web process has its own LocMem cache: clearing it stands for another process."""
    from django.core.cache import cache

    from contoso_images.core.sync import sync_request

    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: queued.append(a))
    for _ in range(20):
        cache.clear()
        sync_request("inventory")
    assert queued == [("vmops.tasks.inventory_sync_scheduled",)]


def test_a_refresh_after_the_window_queues_again(db, monkeypatch):
    from contoso_images.core.models import SyncRequest
    from contoso_images.core.sync import sync_request

    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: queued.append(a))
    assert sync_request("inventory") is True
    SyncRequest.objects.update(requested_at=timezone.now() - timedelta(minutes=5))
    assert sync_request("inventory") is True
    assert sync_request("inventory") is False
    assert len(queued) == 2
