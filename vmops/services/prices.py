"""What VMs cost: prices from the Azure Retail Prices API, cached per region, and the figures
the pages show (per VM, totals, and what deallocations done from here saved).

The cache is a kind of core's sync pattern (``contoso_images.core.sync``): one unit per
region the inventory actually uses, refreshed daily and on demand ("Refresh prices"). Each
unit asks the gateway for the hourly compute prices of the sizes seen in that region (Linux
and Windows meters; the gateway leaves out Spot, Low Priority, DevTest and reservation items)
and the managed disk tiers' monthly prices, in ``PRICES_CURRENCY``. A size the API has no
price for has no row: the pages say "no price found", never 0.

Every figure is an estimate at list (pay-as-you-go) price in the configured currency, before
discounts, reservations and savings plans; the pages say so beside it (``ESTIMATE_NOTE``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contoso_images import azure
from contoso_images.core.sync import SyncKind, SyncResult, SyncUnit
from contoso_images.operations.registry import OperationEvent
from vmops.choices import PowerState
from vmops.models import ComputePrice, Deallocation, DiskPrice, VirtualMachine

logger = logging.getLogger(__name__)

#: The prices' kind in core's sync pattern.
PRICES = "prices"
#: Asking the Retail Prices API now (``core.roles.user_may``).
REFRESH_PRICES = "vmops.refresh_prices"
NO_PRICE = azure.prices.NO_PRICE
HOURS_PER_DAY = Decimal(24)
#: Azure bills managed disks per month; the API's monthly figure is what the page shows.
HOURS_PER_MONTH = Decimal(730)
DEALLOCATE_KIND = "vm.deallocate"
#: Operations that end a deallocation (the VM runs and is billed again).
RESTARTS = ("vm.start", "vm.restart")


def currency() -> str:
    return str(getattr(settings, "PRICES_CURRENCY", "USD")).upper()


def estimate_note() -> str:
    """What every figure is, said beside it."""
    return (
        f"Estimate at list price in {currency()}, before discounts, reservations and savings plans."
    )


# --- The sync ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricesSyncResult(SyncResult):
    sizes: int = 0
    priced: int = 0
    missing: tuple[str, ...] = ()
    disk_tiers: int = 0

    def __str__(self) -> str:
        if self.error:
            return f"{self.unit}: {self.error}"
        text = (
            f"{self.unit}: {self.priced} prices for {self.sizes} sizes, "
            f"{self.disk_tiers} disk tiers"
        )
        if self.missing:
            text += f"; no price found for {', '.join(self.missing)}"
        return text


def price_regions() -> list[str]:
    """The regions the inventory actually uses (the sync's units)."""
    return sorted(
        {
            region.lower()
            for region in VirtualMachine.objects.filter(gone_at__isnull=True)
            .order_by()  # the model's ordering would make DISTINCT return every VM
            .values_list("location", flat=True)
            .distinct()
            if region
        }
    )


def prices_sync_unit(unit: SyncUnit) -> PricesSyncResult:
    """Fetch one region's prices and replace that region's cached rows in one transaction
    (the old rows stay until the new ones are complete: a failed fetch changes nothing)."""
    region = unit.scope
    money = currency()
    sizes = sorted(
        set(
            VirtualMachine.objects.filter(location__iexact=region, gone_at__isnull=True)
            .exclude(size="")
            .values_list("size", flat=True)
        )
    )
    compute = azure.vm_prices(region, sizes, currency=money)
    unit.keep_alive()
    disks = azure.disk_prices(region, currency=money)
    now = timezone.now()
    rows = [
        ComputePrice(
            region=region,
            size=size,
            os_type=os_type,
            currency=money,
            hourly=price.unit_price,
            meter_name=price.meter_name[:200],
            fetched_at=now,
        )
        for (size, os_type), price in compute.prices.items()
    ]
    disk_rows = [
        DiskPrice(
            region=region,
            sku_name=sku[:30],
            currency=money,
            monthly=price.unit_price,
            fetched_at=now,
        )
        for sku, price in disks.items()
    ]
    with transaction.atomic():
        ComputePrice.objects.filter(region=region, currency=money).delete()
        ComputePrice.objects.bulk_create(rows)
        DiskPrice.objects.filter(region=region, currency=money).delete()
        DiskPrice.objects.bulk_create(disk_rows)
    return PricesSyncResult(
        region,
        sizes=len(sizes),
        priced=len(rows),
        missing=compute.missing,
        disk_tiers=len(disk_rows),
    )


PRICES_SYNC = SyncKind(
    name=PRICES,
    sync=prices_sync_unit,
    result=PricesSyncResult,
    task="vmops.tasks.prices_sync_scheduled",
    every="PRICES_SYNC_SECONDS",
    page="vmops:billing",
    status_url="vmops:prices_sync_status",
    refresh_url="vmops:prices_refresh",
    view_permission="vmops.view_virtualmachine",
    refresh_action=REFRESH_PRICES,
    noun="the prices",
    never_synced_text="Prices not fetched yet",
    synced_text="Prices fetched",
    element_id="prices-sync-status",
    event="prices-synced",
    scopes=price_regions,
)


# --- Looking prices up -------------------------------------------------------------------------


def _os_key(os_type: str) -> str:
    return "Windows" if (os_type or "").strip().lower() == "windows" else "Linux"


@dataclass(frozen=True)
class PriceBook:
    """Every cached price of the configured currency, read in two queries, so a page of
    10,000 VMs is priced without a query per VM."""

    currency: str
    compute: Mapping[tuple[str, str, str], Decimal]
    disks: Mapping[tuple[str, str], Decimal]

    def hourly(self, vm: Any) -> Decimal | None:
        """The VM's compute price per hour, or None: no price found."""
        return self.compute.get(
            ((vm.location or "").lower(), (vm.size or "").lower(), _os_key(vm.os_type))
        )

    def disk_monthly(self, region: str, sku_name: str) -> Decimal | None:
        return self.disks.get((region.lower(), sku_name))


def price_book(*, disks: bool = True) -> PriceBook:
    """The cached prices: compute, and the disk tiers unless ``disks`` is False (a list that
    shows compute only saves the query)."""
    money = currency()
    compute = {
        (region, size, os_type): hourly
        for region, size, os_type, hourly in ComputePrice.objects.filter(
            currency=money
        ).values_list("region", "size", "os_type", "hourly")
    }
    tiers = (
        {
            (region, sku): monthly
            for region, sku, monthly in DiskPrice.objects.filter(currency=money).values_list(
                "region", "sku_name", "monthly"
            )
        }
        if disks
        else {}
    )
    return PriceBook(money, compute, tiers)


# --- Formatting ------------------------------------------------------------------------------

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(amount: Decimal | None, money_currency: str | None = None, *, places: int = 2) -> str:
    """``$2.30`` (or ``2.30 CHF``); a missing amount is "no price found", never 0."""
    if amount is None:
        return NO_PRICE
    code = (money_currency or currency()).upper()
    rounded = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{text}" if symbol else f"{text} {code}"


def _hours(delta: timedelta) -> Decimal:
    return Decimal(max(0.0, delta.total_seconds())) / Decimal(3600)


# --- Disks ---------------------------------------------------------------------------------------

#: Managed disk tiers by the largest size (GiB) each bills for; a disk is billed at the
#: smallest tier that holds it. Standard HDD starts at S4 (32 GiB).
_TIER_SIZES = (
    (4, "1"),
    (8, "2"),
    (16, "3"),
    (32, "4"),
    (64, "6"),
    (128, "10"),
    (256, "15"),
    (512, "20"),
    (1024, "30"),
    (2048, "40"),
    (4096, "50"),
    (8192, "60"),
    (16384, "70"),
    (32767, "80"),
)
_TIER_LETTER = {"premium": "P", "standardssd": "E", "standard": "S"}


def disk_tier(size_gb: int | None, storage_account_type: str) -> str:
    """``P10 LRS`` for a 128 GiB Premium_LRS disk; "" when it cannot be told."""
    if not size_gb:
        return ""
    kind, _, redundancy = (storage_account_type or "").partition("_")
    letter = _TIER_LETTER.get(kind.lower())
    if not letter:
        return ""
    for limit, number in _TIER_SIZES:
        if letter == "S" and limit < 32:
            continue
        if size_gb <= limit:
            return f"{letter}{number} {redundancy or 'LRS'}"
    return ""


@dataclass(frozen=True)
class DiskFigure:
    name: str
    tier: str
    monthly: Decimal | None

    @property
    def monthly_text(self) -> str:
        return money(self.monthly)


def disk_figures(vm: VirtualMachine, disks: Iterable[Any], book: PriceBook) -> list[DiskFigure]:
    """Each disk of the VM with its tier's monthly price. A deallocated VM's body carries no
    size or storage type for its managed disks (as Azure answers): those are read from the
    disk resource itself, one GET per disk; a disk Azure cannot show has no price found."""
    figures = []
    for disk in disks:
        size_gb, storage = disk.size_gb, disk.storage_account_type
        if (not size_gb or not storage) and disk.managed_disk_id:
            size_gb, storage = _disk_resource(disk.managed_disk_id, size_gb, storage)
        tier = disk_tier(size_gb, storage)
        monthly = book.disk_monthly(vm.location, tier) if tier else None
        figures.append(DiskFigure(disk.name, tier, monthly))
    return figures


def _disk_resource(disk_id: str, size_gb: int | None, storage: str) -> tuple[int | None, str]:
    parts = disk_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    try:
        subscription = parts[lowered.index("subscriptions") + 1]
        group = parts[lowered.index("resourcegroups") + 1]
        name = parts[lowered.index("disks") + 1]
    except (ValueError, IndexError):
        return size_gb, storage
    try:
        found = azure.disk_get(subscription, group, name)
    except azure.AzureError as exc:
        logger.info("Disk %s could not be read for its price: %s", name, exc)
        return size_gb, storage
    return (size_gb or found.size_gb), (storage or found.sku)


# --- What one VM costs ------------------------------------------------------------------------


@dataclass(frozen=True)
class VmCost:
    """The figures of one VM, in the state it is in."""

    currency: str
    hourly: Decimal | None
    power_state: str
    stopped_since: datetime | None
    now: datetime

    @property
    def daily(self) -> Decimal | None:
        return None if self.hourly is None else self.hourly * HOURS_PER_DAY

    @property
    def billed_for_compute(self) -> bool:
        """Running, starting, stopping or Stopped (allocated): compute is billed."""
        return self.power_state not in (PowerState.DEALLOCATED, PowerState.DEALLOCATING, "")

    @property
    def waste_daily(self) -> Decimal | None:
        """What a Stopped (allocated) VM costs per day for nothing; 0 in any other state."""
        if self.power_state != PowerState.STOPPED:
            return Decimal(0)
        return self.daily

    @property
    def stopped_so_far(self) -> Decimal | None:
        if self.hourly is None or self.stopped_since is None:
            return None
        return self.hourly * _hours(self.now - self.stopped_since)

    @property
    def stopped_so_far_text(self) -> str:
        return money(self.stopped_so_far, self.currency)

    @property
    def hourly_text(self) -> str:
        return money(self.hourly, self.currency, places=4)

    @property
    def daily_text(self) -> str:
        return money(self.daily, self.currency)

    @property
    def waste_text(self) -> str:
        if self.power_state != PowerState.STOPPED:
            return ""
        return money(self.daily, self.currency)


def vm_cost(vm: VirtualMachine, book: PriceBook, *, now: datetime | None = None) -> VmCost:
    stopped = vm.power_state == PowerState.STOPPED and not vm.gone_at
    return VmCost(
        currency=book.currency,
        hourly=book.hourly(vm),
        power_state="" if vm.gone_at else vm.power_state,
        stopped_since=vm.in_state_since if stopped else None,
        now=now or timezone.now(),
    )


@dataclass(frozen=True)
class Totals:
    vms: int
    billed_vms: int
    #: Compute per day of the VMs billed for compute, and of the Stopped (allocated) ones.
    daily: Decimal
    waste_daily: Decimal
    #: VMs with no price found (left out of the sums, and said so).
    unpriced: int
    currency: str

    @property
    def daily_text(self) -> str:
        return money(self.daily, self.currency)

    @property
    def waste_text(self) -> str:
        return money(self.waste_daily, self.currency)


def totals(rows: Iterable[tuple[Any, ...]], book: PriceBook) -> Totals:
    """Sum the figures of VMs given as ``(location, size, os_type, power_state)`` tuples
    (``values_list``), or as the same grouped with a count last (``annotate(n=Count(...))``):
    grouped, a list of 100,000 VMs is a few hundred rows, not 100,000."""
    vms = billed = unpriced = 0
    daily = waste = Decimal(0)
    for row in rows:
        location, size, os_type, power_state = row[:4]
        n = int(row[4]) if len(row) > 4 else 1
        vms += n
        hourly = book.compute.get(
            ((location or "").lower(), (size or "").lower(), _os_key(os_type))
        )
        if power_state in (PowerState.DEALLOCATED, PowerState.DEALLOCATING):
            continue
        billed += n
        if hourly is None:
            unpriced += n
            continue
        daily += hourly * HOURS_PER_DAY * n
        if power_state == PowerState.STOPPED:
            waste += hourly * HOURS_PER_DAY * n
    return Totals(vms, billed, daily, waste, unpriced, book.currency)


# --- Saved so far -----------------------------------------------------------------------------


def on_operation_event(event: OperationEvent) -> None:
    """Operations listener: a deallocation that succeeded starts a saving; a start or
    restart that succeeded ends the VM's open one. Runs inside the engine's transaction, so
    a worker killed before it commits leaves nothing, and the retry writes it once
    (``operation_id`` is unique)."""
    operation = event.operation
    if operation is None or event.name != "succeeded":
        return
    if event.kind == DEALLOCATE_KIND:
        vm = VirtualMachine.objects.filter(azure_id=operation.target_key).first()
        if vm is None or Deallocation.objects.filter(operation_id=operation.pk).exists():
            return
        ended = operation.finished_at or timezone.now()
        book = price_book()
        # A VM deallocated again without being seen running: the older saving ends here.
        Deallocation.objects.filter(vm=vm, ended_at__isnull=True).update(ended_at=ended)
        Deallocation.objects.get_or_create(
            operation_id=operation.pk,
            defaults={
                "vm": vm,
                "requested_by_id": operation.requested_by_id,
                "policy_name": str((operation.parameters or {}).get("billing_guard", ""))[:100],
                "started_at": ended,
                "hourly": book.hourly(vm),
                "currency": book.currency,
            },
        )
    elif event.kind in RESTARTS:
        Deallocation.objects.filter(
            vm__azure_id=operation.target_key, ended_at__isnull=True
        ).update(ended_at=operation.finished_at or timezone.now())


def _end_of(item: Deallocation, vm: VirtualMachine, now: datetime) -> datetime:
    """When the VM stopped being deallocated: recorded, or seen in the inventory (started
    outside the dashboard), else still now."""
    if item.ended_at is not None:
        return item.ended_at
    if vm.gone_at is not None:
        return max(item.started_at, vm.gone_at)
    if vm.power_state not in (PowerState.DEALLOCATED, PowerState.DEALLOCATING):
        seen = vm.settled_at or vm.state_changed_at or now
        return max(item.started_at, seen)
    return now


@dataclass(frozen=True)
class Saving:
    deallocation: Deallocation
    hours: Decimal
    amount: Decimal | None

    @property
    def who(self) -> str:
        if self.deallocation.policy_name:
            return f"billing guard: {self.deallocation.policy_name}"
        user = self.deallocation.requested_by
        return user.get_username() if user is not None else "someone"


def savings(
    *, vm: VirtualMachine | None = None, now: datetime | None = None, currency_code: str = ""
) -> list[Saving]:
    """Every deallocation done from here (of one VM, or all) with what it saved: the compute
    price when it was deallocated times the hours it stayed so; one query."""
    now = now or timezone.now()
    code = currency_code or currency()
    items = Deallocation.objects.select_related("vm", "requested_by").filter(currency=code)
    if vm is not None:
        items = items.filter(vm=vm)
    found = []
    for item in items:
        hours = _hours(_end_of(item, item.vm, now) - item.started_at)
        amount = None if item.hourly is None else item.hourly * hours
        found.append(Saving(item, hours, amount))
    return found


@dataclass(frozen=True)
class SavingsSummary:
    total: Decimal
    by_person: list[tuple[str, Decimal]]
    by_week: list[tuple[datetime, Decimal]]
    unpriced: int
    currency: str

    @property
    def total_text(self) -> str:
        return money(self.total, self.currency)


def savings_summary(found: list[Saving]) -> SavingsSummary:
    """Totals per person (or policy) and per week (weeks start on Monday, UTC)."""
    total = Decimal(0)
    people: dict[str, Decimal] = defaultdict(Decimal)
    weeks: dict[datetime, Decimal] = defaultdict(Decimal)
    unpriced = 0
    for saving in found:
        if saving.amount is None:
            unpriced += 1
            continue
        total += saving.amount
        people[saving.who] += saving.amount
        start = saving.deallocation.started_at
        monday = (start - timedelta(days=start.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        weeks[monday] += saving.amount
    return SavingsSummary(
        total=total,
        by_person=sorted(people.items(), key=lambda item: -item[1]),
        by_week=sorted(weeks.items()),
        unpriced=unpriced,
        currency=currency(),
    )
