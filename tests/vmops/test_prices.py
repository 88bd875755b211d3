"""Prices cached from the emulated Retail Prices API (the real gateway path), and the figures
built from them: per VM, totals, disks, and what deallocations from here saved."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contoso_images.arm_emulator import retail_prices_data as data
from contoso_images.core.models import SyncState
from contoso_images.core.sync import sync_run
from tests.factories import OperationFactory, VirtualMachineFactory
from vmops.models import ComputePrice, Deallocation, DiskPrice, VirtualMachine
from vmops.services import prices
from vmops.services.prices import PRICES, disk_tier, money, price_book, totals, vm_cost

pytestmark = pytest.mark.django_db


def test_prices_of_the_regions_the_inventory_uses(inventory, emulator):
    regions = prices.price_regions()
    assert regions == sorted({vm.location.lower() for vm in inventory.values()})
    results = sync_run(PRICES)
    assert [r.unit for r in results] == regions
    assert all(not r.error for r in results), results
    # Linux and Windows meters are both cached; never Spot or Low Priority.
    d2 = ComputePrice.objects.filter(region="eastus", size="standard_d2s_v5")
    if d2.exists():
        by_os = {p.os_type: p.hourly for p in d2}
        assert by_os == {"Linux": Decimal("0.096"), "Windows": Decimal("0.188")}
    assert not ComputePrice.objects.filter(meter_name__contains="Spot").exists()
    assert not ComputePrice.objects.filter(meter_name__contains="Low Priority").exists()
    assert ComputePrice.objects.filter(hourly__lte=0).count() == 0
    assert DiskPrice.objects.filter(sku_name="P10 LRS").count() == len(regions)
    assert SyncState.objects.filter(kind=PRICES, synced_at__isnull=False).count() == len(regions)


def test_a_size_without_price_says_no_price_found_never_zero(db, emulator):
    vm = VirtualMachineFactory(location="eastus", size=data.UNPRICED_SIZE)
    VirtualMachineFactory(location="eastus", size="Standard_D2s_v5", os_type="Windows")
    (result,) = sync_run(PRICES)
    assert data.UNPRICED_SIZE in result.missing
    assert "no price found" in str(result)
    cost = vm_cost(vm, price_book())
    assert cost.hourly is None
    assert cost.hourly_text == "no price found"
    assert cost.daily_text == "no price found"


def test_windows_costs_more_than_linux_for_the_same_size(db, emulator):
    linux = VirtualMachineFactory(location="eastus", size="Standard_D2s_v5", os_type="Linux")
    windows = VirtualMachineFactory(location="eastus", size="Standard_D2s_v5", os_type="Windows")
    sync_run(PRICES)
    book = price_book()
    assert book.hourly(linux) == Decimal("0.096")
    assert book.hourly(windows) == Decimal("0.188")
    assert vm_cost(windows, book).daily_text == "$4.51"


def test_currency_comes_from_the_setting(db, emulator, settings):
    settings.PRICES_CURRENCY = "EUR"
    VirtualMachineFactory(location="eastus", size="Standard_D2s_v5")
    emulator.clear_request_log()
    sync_run(PRICES)
    sent = [e.path for e in emulator.request_log() if e.path.startswith("/api/retail/prices")]
    assert sent and all("currencyCode=%27EUR%27" in path for path in sent)
    assert set(ComputePrice.objects.values_list("currency", flat=True)) <= {"EUR"}
    assert "EUR" in prices.estimate_note()


def test_stopped_vm_figures(db):
    now = timezone.now()
    vm = VirtualMachineFactory(
        location="eastus",
        size="Standard_D2s_v5",
        power_state="stopped",
        settled_power_state="stopped",
        settled_at=now - timedelta(hours=10),
    )
    ComputePrice.objects.create(
        region="eastus",
        size="standard_d2s_v5",
        os_type="Linux",
        currency="USD",
        hourly=Decimal("0.096"),
        fetched_at=now,
    )
    cost = vm_cost(vm, price_book(), now=now)
    assert cost.daily_text == "$2.30"
    assert money(cost.stopped_so_far) == "$0.96"
    assert cost.waste_text == "$2.30"


def test_disk_tiers():
    assert disk_tier(128, "Premium_LRS") == "P10 LRS"
    assert disk_tier(30, "Premium_LRS") == "P4 LRS"
    assert disk_tier(30, "Standard_LRS") == "S4 LRS"
    assert disk_tier(1023, "StandardSSD_LRS") == "E30 LRS"
    assert disk_tier(None, "Premium_LRS") == ""
    assert disk_tier(64, "UltraSSD_LRS") == ""


def test_totals_for_10000_vms_in_a_constant_number_of_queries(db):
    now = timezone.now()
    ComputePrice.objects.create(
        region="westeurope",
        size="standard_b2s",
        os_type="Linux",
        currency="USD",
        hourly=Decimal("0.05"),
        fetched_at=now,
    )
    sub = VirtualMachineFactory().subscription
    VirtualMachine.objects.bulk_create(
        VirtualMachine(
            subscription=sub,
            resource_group="rg",
            name=f"bulk-{i}",
            azure_id=f"/x/{i}",
            location="westeurope",
            size="Standard_Unknown" if i % 10 == 1 else "Standard_B2s",
            os_type="Linux",
            power_state="stopped" if i % 2 else "deallocated",
            reported_at=now,
        )
        for i in range(10_000)
    )
    with CaptureQueriesContext(connection) as queries:
        book = price_book()
        found = totals(
            VirtualMachine.objects.values_list("location", "size", "os_type", "power_state"), book
        )
    assert len(queries) == 3
    assert found.vms == 10_001
    assert found.unpriced > 0  # the unknown size is said, not summed as 0
    # 4,000 priced Stopped (allocated) VMs at $1.20/day; the factory's running VM is billed too.
    assert found.waste_text == "$4,800.00"
    assert found.daily_text == "$4,801.20"


def test_saved_so_far_from_a_deallocation_done_here(db, operator_user):
    now = timezone.now()
    vm = VirtualMachineFactory(location="eastus", size="Standard_D2s_v5", power_state="deallocated")
    ComputePrice.objects.create(
        region="eastus",
        size="standard_d2s_v5",
        os_type="Linux",
        currency="USD",
        hourly=Decimal("0.10"),
        fetched_at=now,
    )
    operation = OperationFactory(vm=vm, kind="vm.deallocate", requested_by=operator_user)
    operation.finished_at = now - timedelta(hours=5)
    from contoso_images.operations.registry import OperationEvent

    event = OperationEvent(
        name="succeeded",
        kind="vm.deallocate",
        target=vm.target,
        user=operator_user,
        operation=operation,
    )
    prices.on_operation_event(event)
    prices.on_operation_event(event)  # a retried worker records it once
    assert Deallocation.objects.count() == 1
    found = prices.savings(now=now)
    assert money(found[0].amount) == "$0.50"
    summary = prices.savings_summary(found)
    assert summary.by_person == [(operator_user.get_username(), found[0].amount)]
    assert summary.total_text == "$0.50"


def test_the_price_regions_read_distinct_locations_not_every_vm(inventory):
    """The VM model's ordering (name, resource group) in a DISTINCT made it one row per VM."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        prices.price_regions()
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert "ORDER BY" not in sql and '"name"' not in sql.split("FROM")[0]
