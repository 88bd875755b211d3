"""Price figures on the VM list: the total per day of the VMs the filters select, the waste
column and its sort, the CSV export; constant queries for 10,000 VMs."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import SubscriptionFactory
from vmops.models import ComputePrice, ListPreference, VirtualMachine

pytestmark = pytest.mark.django_db


def _vms(n: int, *, start: int = 0) -> None:
    sub = SubscriptionFactory(subscription_id="00000000-0000-0000-0000-00000000aaaa")
    now = timezone.now()
    sizes = ["Standard_B2s", "Standard_D2s_v5", "Standard_Unpriced"]
    states = ["running", "stopped", "deallocated", "stopped"]
    VirtualMachine.objects.bulk_create(
        VirtualMachine(
            subscription=sub,
            resource_group=f"rg-{i % 3}",
            name=f"vm-{i:05d}",
            azure_id=f"/subscriptions/x/resourcegroups/rg/providers/m/virtualmachines/vm-{i}",
            location="westeurope",
            size=sizes[i % 3],
            os_type="Windows" if i % 5 == 0 else "Linux",
            power_state=states[i % 4],
            reported_at=now,
        )
        for i in range(start, start + n)
    )


@pytest.fixture
def priced(db):
    now = timezone.now()
    for size, linux, windows in (
        ("standard_b2s", "0.05", "0.09"),
        ("standard_d2s_v5", "0.1", "0.2"),
    ):
        ComputePrice.objects.create(
            region="westeurope",
            size=size,
            os_type="Linux",
            currency="USD",
            hourly=Decimal(linux),
            fetched_at=now,
        )
        ComputePrice.objects.create(
            region="westeurope",
            size=size,
            os_type="Windows",
            currency="USD",
            hourly=Decimal(windows),
            fetched_at=now,
        )


def _expected(qs) -> tuple[Decimal, Decimal]:
    prices = {(p.size, p.os_type): p.hourly for p in ComputePrice.objects.all()}
    daily = waste = Decimal(0)
    for vm in qs:
        hourly = prices.get((vm.size.lower(), "Windows" if vm.os_type == "Windows" else "Linux"))
        if hourly is None or vm.power_state == "deallocated":
            continue
        daily += hourly * 24
        if vm.power_state == "stopped":
            waste += hourly * 24
    return daily, waste


def test_tiles_show_the_total_per_day_of_the_filtered_vms(operator_client, priced):
    _vms(40)
    html = unescape(operator_client.get("/vms/?resource_group=rg-1").content.decode())
    daily, waste = _expected(VirtualMachine.objects.filter(resource_group="rg-1"))
    assert f"about <strong>${daily:,.2f}/day</strong>" in html
    assert f"<strong>${waste:,.2f}/day</strong> for VMs stopped but still billed" in html
    assert "no price found" not in html  # rg-1 holds priced sizes only
    assert (
        "Estimate at list price in USD, before discounts, reservations and savings plans." in html
    )
    assert f"stopped but still billed for compute: about ${waste:,.2f}/day" in html


def test_waste_column_and_sort(operator_client, operator_user, priced):
    _vms(24)
    ListPreference.objects.create(user=operator_user, columns=["size", "waste"])
    html = unescape(operator_client.get("/vms/?sort=-waste").content.decode())
    assert "Waste per day" in html
    rows = html.split('class="col-waste"')[1:]
    cells = [row.split(">", 1)[1].split("<", 1)[0] for row in rows]
    priced_cells = [c for c in cells if c.endswith("USD")]
    amounts = [Decimal(c.split()[0].replace(",", "")) for c in priced_cells]
    assert amounts and amounts == sorted(amounts, reverse=True)
    assert cells.index(priced_cells[-1]) < cells.index("no price found")


def test_csv_carries_the_figures(operator_client, priced):
    _vms(8)
    body = b"".join(operator_client.get("/vms/export.csv").streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    by_name = {row["Name"]: row for row in rows}
    assert by_name["vm-00001"]["Compute per hour (list price)"] == "0.1000"
    assert by_name["vm-00001"]["Compute per day (list price)"] == "2.40"
    assert by_name["vm-00001"]["Waste per day (stopped but billed)"] == "2.40 USD"
    assert by_name["vm-00002"]["Compute per hour (list price)"] == "no price found"
    assert by_name["vm-00000"]["Waste per day (stopped but billed)"] == ""


def test_price_figures_for_10000_vms_in_a_constant_number_of_queries(
    operator_client, operator_user, priced
):
    ListPreference.objects.create(user=operator_user, columns=["size", "waste"])
    _vms(20)
    with CaptureQueriesContext(connection) as small:
        assert operator_client.get("/vms/?sort=-waste").status_code == 200
    _vms(9_980, start=20)
    with CaptureQueriesContext(connection) as large:
        response = operator_client.get("/vms/?sort=-waste")
    assert response.status_code == 200
    assert len(large) == len(small) <= 18
    daily, _ = _expected(VirtualMachine.objects.all())
    html = unescape(response.content.decode())
    assert f"${daily:,.2f}/day" in html
    assert "without a price: no price found" in html
