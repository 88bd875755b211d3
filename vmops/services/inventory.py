"""Keeping the VM inventory in step with Azure: one paged listing per subscription, bulk writes.

Azure is the source of truth. A sync reads every VM of a subscription with its power state in
one paged `list_all(statusOnly=true)` call and writes only what changed; VMs missing from the
listing are marked gone (never deleted, so their pages and history stay).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from contoso_images import azure
from contoso_images.core.models import Subscription
from contoso_images.core.services import subscriptions_sync, sync_request_claim
from vmops.choices import TRANSITIONAL_POWER_STATES, PowerState
from vmops.models import VirtualMachine

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class SyncResult:
    subscription: str
    listed: int = 0
    created: int = 0
    updated: int = 0
    gone: int = 0
    throttled_until: Any = None
    error: str = ""

    def __str__(self) -> str:
        if self.error:
            return f"{self.subscription}: {self.error}"
        return (
            f"{self.subscription}: {self.listed} VMs listed, {self.created} new, "
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
    settled state seen is recorded without a time (it was not seen changing).
    """
    if power_state in TRANSITIONAL_POWER_STATES or power_state == PowerState.UNKNOWN:
        return []
    if power_state == row.settled_power_state:
        return []
    if row.settled_power_state:
        row.settled_at = now
    row.settled_power_state = power_state
    return list(SETTLED_FIELDS)


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


def inventory_sync(*, subscription: Subscription, force: bool = False) -> SyncResult:
    """Sync one subscription's VMs. Throttling is recorded, and the next sync waits for it."""
    now = timezone.now()
    if not force and subscription.sync_retry_after and subscription.sync_retry_after > now:
        return SyncResult(
            str(subscription),
            throttled_until=subscription.sync_retry_after,
            error="skipped: Azure asked us to wait",
        )
    try:
        listed = azure.vm_list_with_power_state(subscription.subscription_id)
    except azure.AzureError as exc:
        retry_at = now + timedelta(seconds=exc.retry_after or 60) if exc.is_throttled else None
        Subscription.objects.filter(pk=subscription.pk).update(
            sync_error=exc.sentence, sync_retry_after=retry_at
        )
        logger.warning("Inventory sync of %s failed: %s", subscription.subscription_id, exc)
        return SyncResult(str(subscription), throttled_until=retry_at, error=exc.sentence)
    result = _apply_listing(subscription, listed, now)
    Subscription.objects.filter(pk=subscription.pk).update(
        synced_at=now, sync_error="", sync_retry_after=None
    )
    return result


def inventory_sync_all(*, force: bool = False) -> list[SyncResult]:
    """Sync every subscription; the scheduled task and `manage.py sync_inventory` call this."""
    try:
        subscriptions = subscriptions_sync()
    except azure.AzureError as exc:
        logger.warning("Listing subscriptions failed: %s", exc)
        subscriptions = list(Subscription.objects.all())
    return [inventory_sync(subscription=sub, force=force) for sub in subscriptions]


@transaction.atomic
def _apply_listing(
    subscription: Subscription, listed: list[azure.VirtualMachine], now: Any
) -> SyncResult:
    """Write one listing. `now` is when the listing was asked for: rows refreshed after it
    (by a finished operation) hold newer news and are left alone."""
    # Two syncs of one subscription at once (a click during the schedule) take turns here,
    # so the second sees the first one's rows instead of inserting them again.
    Subscription.objects.select_for_update().filter(pk=subscription.pk).first()
    existing = {
        row.azure_id: row
        for row in VirtualMachine.objects.filter(subscription=subscription).only(
            "pk",
            "azure_id",
            "state_changed_at",
            "reported_at",
            "gone_at",
            *SYNCED_FIELDS,
            *SETTLED_FIELDS,
        )
    }
    to_create: list[VirtualMachine] = []
    to_update: list[VirtualMachine] = []
    seen: set[str] = set()
    for vm in listed:
        azure_id = vm.id.lower()
        seen.add(azure_id)
        fields = vm_fields_from_azure(vm)
        row = existing.get(azure_id)
        if row is None:
            row = VirtualMachine(
                subscription=subscription,
                azure_id=azure_id,
                reported_at=now,
                state_changed_at=None,  # not seen changing yet
                **fields,
            )
            _settle(row, row.power_state, now)
            to_create.append(row)
            continue
        if row.reported_at and row.reported_at > now:
            continue
        for name in NEVER_BLANKED:
            if not fields[name]:
                fields[name] = getattr(row, name)
        changed = [name for name, value in fields.items() if getattr(row, name) != value]
        if row.gone_at is not None:
            row.gone_at = None
            changed.append("gone_at")
        changed += _settle(row, fields["power_state"], now)
        if changed:
            if "power_state" in changed:
                row.state_changed_at = now
            for name in changed:
                if name in fields:
                    setattr(row, name, fields[name])
            to_update.append(row)

    VirtualMachine.objects.bulk_create(to_create, batch_size=BATCH)
    VirtualMachine.objects.bulk_update(
        to_update,
        [*SYNCED_FIELDS, *SETTLED_FIELDS, "state_changed_at", "gone_at"],
        batch_size=BATCH,
    )
    gone_ids = [
        row.pk for azure_id, row in existing.items() if azure_id not in seen and not row.gone_at
    ]
    for start in range(0, len(gone_ids), BATCH):
        VirtualMachine.objects.filter(pk__in=gone_ids[start : start + BATCH]).update(gone_at=now)
    VirtualMachine.objects.filter(
        subscription=subscription, gone_at__isnull=True, reported_at__lt=now
    ).update(reported_at=now)
    return SyncResult(
        str(subscription),
        listed=len(listed),
        created=len(to_create),
        updated=len(to_update),
        gone=len(gone_ids),
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


SYNC_REQUEST_NAME = "inventory"


def inventory_sync_request() -> bool:
    """Queue a sync now, once however often it is asked for; True when one was queued.

    The database decides, not a per-process cache: a conditional UPDATE claims the window,
    so four web processes without Redis still queue one sync for twenty clicks.
    """
    from django_q.tasks import async_task

    if not sync_request_claim(SYNC_REQUEST_NAME, timezone.now()):
        return False
    async_task(
        "vmops.tasks.inventory_sync_scheduled",
        task_name="inventory-sync-now",
        group="inventory-sync",
    )
    return True
