"""The inventory sync streams: written a batch at a time as pages arrive, gone only after a
complete listing, newer news left alone, one sync of a subscription at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contoso_images import azure
from contoso_images.core import sync
from contoso_images.core.models import Subscription, SyncState
from vmops.models import VirtualMachine
from vmops.services import inventory_sync, inventory_sync_all

pytestmark = pytest.mark.django_db

LISTING = "/providers/microsoft.compute/virtualmachines"


def _prod(emulator) -> Subscription:
    return Subscription.objects.get(subscription_id=emulator.subscription_ids()[0])


def test_batches_are_written_while_the_listing_is_still_being_read(emulator, monkeypatch):
    from vmops.services.inventory import ListingWriter

    emulator.seed_contoso_pilot(extra_vms=1200)
    prod_id = emulator.subscription_ids()[0]
    handed_over = []  # (rows in the database, listing pages asked of ARM) as each page arrives
    add = ListingWriter.add

    def watched(writer, vms):
        if writer.subscription.subscription_id == prod_id:
            asked = [e for e in emulator.request_log() if LISTING in e.path.lower()]
            handed_over.append((VirtualMachine.objects.count(), len(asked)))
        add(writer, vms)

    monkeypatch.setattr(ListingWriter, "add", watched)
    emulator.clear_request_log()
    inventory_sync_all()
    rows = [count for count, _ in handed_over]
    assert rows[:5] == [0, 0, 0, 0, 0]  # five pages of 100 make the first batch
    assert rows[5] == 500 and rows[10] == 1000  # written before the next page is handled
    pages = len(handed_over)
    assert pages == 13
    # The listing was still being read: the writer's page, two waiting, one in the reader's hand.
    assert all(asked <= page + 4 for page, (_, asked) in enumerate(handed_over))
    assert handed_over[5][1] < 13
    assert VirtualMachine.objects.count() == 1200 + 18


def test_a_listing_that_fails_part_way_keeps_what_it_read_and_marks_nothing_gone(
    inventory, emulator
):
    emulator.seed_contoso_pilot(extra_vms=250)
    inventory_sync_all()
    prod = _prod(emulator)
    synced_at = SyncState.objects.get(kind="inventory", subscription=prod).synced_at
    first_page = azure.vm_list_with_power_state(prod.subscription_id)[:100]
    changed = next(vm for vm in first_page if vm.power_state == "running")
    deleted = azure.vm_list_with_power_state(prod.subscription_id)[-1]
    azure.vm_begin_deallocate(prod.subscription_id, changed.resource_group, changed.name)
    azure.vm_begin_delete(prod.subscription_id, deleted.resource_group, deleted.name)
    emulator.queue_fault(method="GET", path_contains="skiptoken", status=500, count=4)

    result = inventory_sync(subscription=prod)

    assert result.error
    state = SyncState.objects.get(kind="inventory", subscription=prod)
    assert state.error == result.error and state.synced_at == synced_at
    assert VirtualMachine.objects.get(azure_id=changed.id.lower()).power_state == "deallocated"
    assert not VirtualMachine.objects.filter(gone_at__isnull=False).exists()
    emulator.clear_faults()
    assert inventory_sync(subscription=prod).gone == 1
    assert VirtualMachine.objects.get(azure_id=deleted.id.lower()).gone_at is not None


def test_newer_news_than_the_listing_is_left_alone(inventory, emulator, monkeypatch):
    """A row an operation refreshed after the listing was asked for keeps what it says, and
    is not marked gone by a listing that did not show it."""
    listed = inventory["web-prod-01"]
    unlisted = inventory["build-win-01"]
    later = timezone.now() + timedelta(minutes=5)
    VirtualMachine.objects.filter(pk__in=[listed.pk, unlisted.pk]).update(
        reported_at=later, power_state="starting"
    )
    real = azure.vm_pages_with_power_state

    def without_unlisted(subscription_id):
        for page in real(subscription_id):
            yield [vm for vm in page if vm.name != unlisted.name]

    monkeypatch.setattr(azure, "vm_pages_with_power_state", without_unlisted)
    inventory_sync_all()
    for vm in (listed, unlisted):
        vm.refresh_from_db()
        assert (vm.power_state, vm.reported_at, vm.gone_at) == ("starting", later, None)


def test_a_subscription_being_synced_elsewhere_is_skipped_without_asking_azure(inventory, emulator):
    prod = _prod(emulator)
    SyncState.objects.filter(kind="inventory", subscription=prod).update(
        claimed_by="worker-2", claimed_until=timezone.now() + timedelta(minutes=1)
    )
    emulator.clear_request_log()
    results = inventory_sync_all()
    assert results[0].error == sync.SKIPPED_RUNNING
    assert not results[1].error
    listed = [
        e.path for e in emulator.request_log() if e.path.split("?")[0].lower().endswith(LISTING)
    ]
    assert listed and all(prod.subscription_id not in path for path in listed)
