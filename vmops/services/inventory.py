"""Keeping the VM inventory in step with Azure: one paged listing per subscription, written
page by page.

Azure is the source of truth. A sync reads every VM of a subscription with its power state in
one paged `list_all(statusOnly=true)` call and writes only what changed, a batch at a time as
the pages arrive (memory holds a batch, not the subscription). Every VM the listing shows is
marked as reported at the time the listing was asked for; once the whole listing has been
read, the subscription's VMs not reported since then are marked gone (never deleted, so their
pages and history stay). A listing that fails part-way keeps what it wrote (real news) and
marks nothing gone.

The sync of one subscription is a kind registered with core's sync pattern
(``contoso_images.core.sync``), which claims the subscription first, so two syncs of it never
run at once, records failures and throttling, and runs subscriptions side by side.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.db import transaction
from django.utils import timezone

from contoso_images import azure
from contoso_images.core.bulk import insert_rows
from contoso_images.core.models import Subscription
from contoso_images.core.sync import SyncKind, SyncResult, SyncUnit, read_ahead, sync_run
from vmops.choices import TRANSITIONAL_POWER_STATES, PowerState
from vmops.models import VirtualMachine
from vmops.services.lineage import link_catalog_images

logger = logging.getLogger(__name__)

#: The inventory's kind in core's sync pattern (SyncState.kind, SyncRequest.name).
INVENTORY = "inventory"

#: Fields copied from Azure on every sync; only rows where one of them changed are written.
SYNCED_FIELDS = (
    "resource_group",
    "name",
    "location",
    "size",
    "os_type",
    "image_reference",
    "image_label",
    "hyper_v_generation",
    "power_state",
    "provisioning_state",
    "generalized",
    "tags",
    "created_at",
)
#: Written alongside, when a read shows the VM settled in another state (``_settle``).
SETTLED_FIELDS = ("settled_power_state", "settled_at")
#: VMs written per transaction (five ARM pages of 100).
BATCH = 500
#: Facts that never legitimately become blank. Whether Azure's statusOnly listing always
#: carries them is undocumented, so a blank in the listing keeps the cache.
NEVER_BLANKED = (
    "size",
    "os_type",
    "image_reference",
    "image_label",
    "hyper_v_generation",
    "created_at",
)
UPDATED_FIELDS = (*SYNCED_FIELDS, *SETTLED_FIELDS, "state_changed_at", "gone_at", "reported_at")


@dataclass(frozen=True)
class InventorySyncResult(SyncResult):
    listed: int = 0
    created: int = 0
    updated: int = 0
    gone: int = 0

    def __str__(self) -> str:
        if self.error:
            return f"{self.unit}: {self.error}"
        return (
            f"{self.unit}: {self.listed} VMs listed, {self.created} new, "
            f"{self.updated} changed, {self.gone} gone"
        )


def vm_fields_from_azure(vm: azure.VirtualMachine) -> dict[str, Any]:
    """The cache columns for one VM as Azure reported it."""
    ref = vm.image_reference
    return {
        "resource_group": vm.resource_group,
        "name": vm.name,
        "location": vm.location,
        "size": vm.size,
        "os_type": vm.os_type,
        "image_reference": _image_reference_dict(ref),
        "image_label": ref.label if ref else "",
        "hyper_v_generation": vm.hyper_v_generation,
        "power_state": vm.power_state,
        "provisioning_state": vm.provisioning_state,
        "generalized": vm.generalized,
        "tags": dict(vm.tags),
        "created_at": vm.time_created,
    }


def _settle(row: VirtualMachine, power_state: str, now: Any) -> list[str]:
    """Note a settled power state that differs from the last one; returns the fields set.

    Transitions and "unknown" say nothing settled: a VM that went "starting" and came back
    "deallocated" after a failed Start has not changed state, and keeps its time. The first
    settled state seen is recorded without a time (it was not seen changing), unless the
    dashboard saw the VM in a transition just before (``row.power_state`` is still the cached
    state): "Starting" then "Running" is a change watched, dated now.
    """
    if not _settles(power_state) or power_state == row.settled_power_state:
        return []
    if row.settled_power_state or row.power_state in TRANSITIONAL_POWER_STATES:
        row.settled_at = now
    row.settled_power_state = power_state
    return list(SETTLED_FIELDS)


def vm_settled_by_operation(*, vm: VirtualMachine, now: Any) -> None:
    """An operation of ours that Azure finished took the VM through a change, even one that
    ends as it began (a Restart: Running, Starting, Running): the VM is in its state since
    now. Without this the row went back to "not seen changing" after a Restart."""
    if not _settles(vm.power_state):
        return
    vm.settled_power_state, vm.settled_at = vm.power_state, now
    VirtualMachine.objects.filter(pk=vm.pk).update(
        settled_power_state=vm.power_state, settled_at=now
    )


def _settles(power_state: str) -> bool:
    """Whether a read showing ``power_state`` shows the VM settled: transitions and
    "unknown" do not."""
    return power_state not in TRANSITIONAL_POWER_STATES and power_state != PowerState.UNKNOWN


def _image_reference_dict(ref: azure.ImageReference | None) -> dict[str, str]:
    if ref is None:
        return {}
    values = {
        "publisher": ref.publisher,
        "offer": ref.offer,
        "sku": ref.sku,
        "version": ref.version,
        "exact_version": ref.exact_version,
        "id": ref.id,
    }
    return {k: v for k, v in values.items() if v}


def inventory_sync(*, subscription: Subscription, force: bool = False) -> InventorySyncResult:
    """Sync one subscription's VMs now (core's pattern: claimed first, outcome recorded)."""
    (result,) = sync_run(INVENTORY, force=force, subscription=subscription)
    return cast(InventorySyncResult, result)


def inventory_sync_all(*, force: bool = False) -> list[InventorySyncResult]:
    """Sync every subscription: ``sync_run("inventory")``, which the scheduled task, "Refresh
    now" and `manage.py sync_inventory` run."""
    return cast(list[InventorySyncResult], sync_run(INVENTORY, force=force))


def inventory_sync_unit(unit: SyncUnit) -> InventorySyncResult:
    """Sync one claimed subscription: stream its listing into the cache a batch at a time,
    then, the listing complete, mark the VMs it did not show as gone.

    ``unit.started_at`` is when the listing was asked for: rows refreshed after it (by a
    finished operation) hold newer news and are left alone. Raises ``AzureError`` when a page
    fails, once the pages before it are written; nothing is marked gone then."""
    subscription = unit.subscription
    writer = ListingWriter(subscription, unit.started_at)
    try:
        pages = read_ahead(azure.vm_pages_with_power_state(subscription.subscription_id))
        for page in pages:
            writer.add(page)
            unit.keep_alive()
    except azure.AzureError:
        writer.flush()  # the pages read before the failure are news too
        raise
    writer.flush()
    gone = writer.mark_gone()
    link_catalog_images(subscription=subscription)
    return InventorySyncResult(
        str(subscription),
        listed=writer.listed,
        created=writer.created,
        updated=writer.updated,
        gone=gone,
    )


class ListingWriter:
    """Writes one subscription's listing as it arrives, ``BATCH`` VMs per transaction.

    Each batch reads only its own rows (by ARM id), creates the new ones, updates the
    changed ones and marks the rest as reported now. :meth:`mark_gone` is for the end of a
    complete listing only.
    """

    def __init__(self, subscription: Subscription, now: Any) -> None:
        self.subscription = subscription
        self.now = now
        self.pending: dict[str, azure.VirtualMachine] = {}
        self.listed = self.created = self.updated = 0

    def add(self, vms: Iterable[azure.VirtualMachine]) -> None:
        for vm in vms:
            # ARM ids are case-insensitive; a VM listed twice counts once, as it last read.
            self.pending[vm.id.lower()] = vm
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, {}
            self._write(batch)

    @transaction.atomic
    def _write(self, batch: dict[str, azure.VirtualMachine]) -> None:
        now = self.now
        existing = {
            row.azure_id: row
            for row in VirtualMachine.objects.filter(azure_id__in=list(batch)).only(
                "pk",
                "azure_id",
                "state_changed_at",
                "reported_at",
                "gone_at",
                *SYNCED_FIELDS,
                *SETTLED_FIELDS,
            )
        }
        to_create: list[dict[str, Any]] = []
        to_update: list[VirtualMachine] = []
        reported: list[int] = []
        for azure_id, vm in batch.items():
            fields = vm_fields_from_azure(vm)
            row = existing.get(azure_id)
            if row is None:
                power_state = fields["power_state"]
                to_create.append(
                    {
                        **fields,
                        "subscription_id": self.subscription.pk,
                        "azure_id": azure_id,
                        "reported_at": now,
                        "state_changed_at": None,  # not seen changing yet
                        # The first settled state seen, without a time (see _settle).
                        "settled_power_state": power_state if _settles(power_state) else "",
                        "settled_at": None,
                    }
                )
                continue
            if row.reported_at and row.reported_at > now:
                continue  # newer news than this listing
            for name in NEVER_BLANKED:
                if not fields[name]:
                    fields[name] = getattr(row, name)
            changed = [name for name, value in fields.items() if getattr(row, name) != value]
            if row.gone_at is not None:
                row.gone_at = None
                changed.append("gone_at")
            changed += _settle(row, fields["power_state"], now)
            if not changed:
                if row.reported_at is None or row.reported_at < now:
                    reported.append(row.pk)
                continue
            if "power_state" in changed:
                row.state_changed_at = now
            for name in changed:
                if name in fields:
                    setattr(row, name, fields[name])
            row.reported_at = now
            to_update.append(row)
        insert_rows(VirtualMachine, to_create, batch_size=BATCH)
        VirtualMachine.objects.bulk_update(to_update, UPDATED_FIELDS, batch_size=BATCH)
        if reported:
            VirtualMachine.objects.filter(pk__in=reported).update(reported_at=now)
        self.listed += len(batch)
        self.created += len(to_create)
        self.updated += len(to_update)

    def mark_gone(self) -> int:
        """Mark gone the subscription's VMs this listing did not show: every row still
        reported before the listing was asked for. Only after a complete listing."""
        return VirtualMachine.objects.filter(
            subscription=self.subscription, gone_at__isnull=True, reported_at__lt=self.now
        ).update(gone_at=self.now)


def _apply_listing(
    subscription: Subscription, listed: Iterable[azure.VirtualMachine], now: Any
) -> InventorySyncResult:
    """Write one complete listing (what a sync does with its pages, in one go)."""
    writer = ListingWriter(subscription, now)
    writer.add(listed)
    writer.flush()
    gone = writer.mark_gone()
    link_catalog_images(subscription=subscription)
    return InventorySyncResult(
        str(subscription),
        listed=writer.listed,
        created=writer.created,
        updated=writer.updated,
        gone=gone,
    )


def vm_read_live(*, vm: VirtualMachine) -> azure.VirtualMachineDetail:
    """Read one VM from Azure for its page and bring the cached row up to date with it."""
    try:
        detail = azure.vm_get(vm.subscription.subscription_id, vm.resource_group, vm.name)
    except azure.AzureError as exc:
        if exc.is_not_found:
            vm.gone_at = timezone.now()
            VirtualMachine.objects.filter(pk=vm.pk).update(gone_at=vm.gone_at)
        raise
    vm_apply_detail(vm=vm, detail=detail, now=timezone.now())
    return detail


def vm_apply_detail(*, vm: VirtualMachine, detail: azure.VirtualMachineDetail, now: Any) -> None:
    """Write what a single-VM read said into the cache row."""
    fields = vm_fields_from_azure(detail.vm)
    if fields["power_state"] != vm.power_state:
        vm.state_changed_at = now
    for name in NEVER_BLANKED:
        if not fields[name]:
            fields[name] = getattr(vm, name)
    _settle(vm, fields["power_state"], now)
    for name, value in fields.items():
        setattr(vm, name, value)
    vm.reported_at = now
    vm.gone_at = None
    vm.save(
        update_fields=[
            *SYNCED_FIELDS,
            *SETTLED_FIELDS,
            "state_changed_at",
            "reported_at",
            "gone_at",
        ]
    )


#: Asking Azure for the inventory now (``core.roles.user_may``).
REFRESH_INVENTORY = "vmops.refresh_inventory"

#: The inventory's kind, registered by ``VmopsConfig.ready``.
INVENTORY_SYNC = SyncKind(
    name=INVENTORY,
    sync=inventory_sync_unit,
    result=InventorySyncResult,
    task="vmops.tasks.inventory_sync_scheduled",
    every="INVENTORY_SYNC_SECONDS",
    page="vmops:vm_list",
    status_url="vmops:vm_sync_status",
    refresh_url="vmops:vm_refresh",
    view_permission="vmops.view_virtualmachine",
    # Operators only (vmops' ready registers them): a refresh makes Azure calls on behalf
    # of everyone.
    refresh_action=REFRESH_INVENTORY,
    noun="the inventory",
    element_id="sync-status",
    event="inventory-synced",
)
