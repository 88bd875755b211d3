"""The price list the emulated Retail Prices API serves: every item, in USD.

Which figures are real list prices and which are illustrative is stated, with sources and
the date, in ``docs/emulator-fidelity.md`` ("Retail Prices API"). In short: a handful of
eastus / westeurope figures were quoted from the API by public sources; every other figure
is *derived* from them with the rules below and is illustrative, never a claim about what
Azure charges. The meter, product and SKU *names* follow the real naming scheme.

What is served, for every priced VM size x region (``PRICED_REGIONS``):

- the Linux product (``Virtual Machines Dsv5 Series``): the pay-as-you-go meter
  (``Consumption``), its ``Spot`` and ``Low Priority`` meters (also ``Consumption``: a client
  must drop them by name), and 1- and 3-year ``Reservation`` items;
- the Windows product (same name + `` Windows``): pay-as-you-go, ``Spot`` and ``Low Priority``
  meters, and ``DevTestConsumption`` items (Windows billed at the Linux rate);
- for every region, managed disk tiers (Premium SSD P, Standard SSD E, Standard HDD S; LRS,
  per month) and a transactions meter per Standard disk product.

``Standard_B2ls_v2`` is deliberately left without any item, so the dashboard's "no price
found" can be seen (real Azure does price it).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

VM_SERVICE = "Virtual Machines"
VM_SERVICE_ID = "DZH313Z7MMC8"  # the real serviceId of Virtual Machines (doc example)
STORAGE_SERVICE = "Storage"
STORAGE_SERVICE_ID = "DZH317F1HKN0"  # the real serviceId of Storage (a recorded Files item)

#: A seeded size that deliberately has no price at all (see the module docstring).
UNPRICED_SIZE = "Standard_B2ls_v2"

# arm region -> (billing location as the API names it, illustrative price factor vs eastus).
# The factor for westeurope is the one the quoted D2s v5 prices imply (0.115 / 0.096);
# the others are illustrative.
PRICED_REGIONS: dict[str, tuple[str, float]] = {
    "eastus": ("US East", 1.0),
    "eastus2": ("US East 2", 1.0),
    "centralus": ("US Central", 1.1),
    "westus2": ("US West 2", 1.0),
    "westus3": ("US West 3", 0.98),
    "northeurope": ("EU North", 1.1),
    "westeurope": ("EU West", 0.115 / 0.096),
    "uksouth": ("UK South", 1.16),
    "francecentral": ("FR Central", 1.25),
    "germanywestcentral": ("DE West Central", 1.25),
    "swedencentral": ("SE Central", 1.1),
    "southeastasia": ("AP Southeast", 1.25),
    "japaneast": ("JA East", 1.29),
    "australiaeast": ("AU East", 1.3),
    "canadacentral": ("CA Central", 1.1),
}


@dataclass(frozen=True)
class VmMeter:
    """One VM size's meters: names as the API spells them, eastus prices per hour."""

    arm_sku: str
    meter: str  # "D2s v5"
    product: str  # the Linux product name; Windows appends " Windows"
    linux_eastus: float
    windows_eastus: float
    effective: str  # effectiveStartDate
    # Known product ids (recorded); derived from the product name when empty.
    linux_product_id: str = ""
    windows_product_id: str = ""


# eastus, USD per hour. Quoted from the API by public sources (docs/emulator-fidelity.md):
# D2s v5 0.096 / 0.188 (Windows), B1s 0.0104, B2s 0.0416, D2s v3 0.096, F2s v2 0.085.
# The rest is illustrative: Windows = Linux + 0.046 per vCPU (the rule the quoted D2s v5
# pair follows), with smaller licence steps for the B series.
VM_METERS: tuple[VmMeter, ...] = (
    VmMeter(
        "Standard_B1s",
        "B1s",
        "Virtual Machines BS Series",
        0.0104,
        0.0146,
        "2025-10-01",
        linux_product_id="DZH318Z0BQ35",
    ),
    VmMeter(
        "Standard_B1ms",
        "B1ms",
        "Virtual Machines BS Series",
        0.0207,
        0.0287,
        "2025-10-01",
        linux_product_id="DZH318Z0BQ35",
    ),
    VmMeter(
        "Standard_B2s",
        "B2s",
        "Virtual Machines BS Series",
        0.0416,
        0.0496,
        "2025-10-01",
        linux_product_id="DZH318Z0BQ35",
    ),
    VmMeter(
        "Standard_B2ms",
        "B2ms",
        "Virtual Machines BS Series",
        0.0832,
        0.0992,
        "2025-10-01",
        linux_product_id="DZH318Z0BQ35",
    ),
    VmMeter(
        "Standard_B4ms",
        "B4ms",
        "Virtual Machines BS Series",
        0.166,
        0.198,
        "2025-10-01",
        linux_product_id="DZH318Z0BQ35",
    ),
    VmMeter(
        "Standard_B2s_v2", "B2s v2", "Virtual Machines Bsv2 Series", 0.0832, 0.1752, "2023-09-01"
    ),
    VmMeter(
        "Standard_DS1_v2", "DS1 v2", "Virtual Machines DSv2 Series", 0.073, 0.119, "2021-11-01"
    ),
    VmMeter(
        "Standard_D2s_v3", "D2s v3", "Virtual Machines DSv3 Series", 0.096, 0.188, "2021-11-01"
    ),
    VmMeter(
        "Standard_D2s_v5",
        "D2s v5",
        "Virtual Machines Dsv5 Series",
        0.096,
        0.188,
        "2021-11-01",
        linux_product_id="DZH318Z08M9W",
        windows_product_id="DZH318Z08M9T",
    ),
    VmMeter(
        "Standard_D4s_v5",
        "D4s v5",
        "Virtual Machines Dsv5 Series",
        0.192,
        0.376,
        "2021-11-01",
        linux_product_id="DZH318Z08M9W",
        windows_product_id="DZH318Z08M9T",
    ),
    VmMeter(
        "Standard_D8s_v5",
        "D8s v5",
        "Virtual Machines Dsv5 Series",
        0.384,
        0.752,
        "2021-11-01",
        linux_product_id="DZH318Z08M9W",
        windows_product_id="DZH318Z08M9T",
    ),
    VmMeter(
        "Standard_D2as_v5", "D2as v5", "Virtual Machines Dasv5 Series", 0.086, 0.178, "2021-11-01"
    ),
    VmMeter(
        "Standard_E2s_v5", "E2s v5", "Virtual Machines Esv5 Series", 0.126, 0.218, "2021-11-01"
    ),
    VmMeter(
        "Standard_E4s_v5", "E4s v5", "Virtual Machines Esv5 Series", 0.252, 0.436, "2021-11-01"
    ),
    VmMeter(
        "Standard_F2s_v2", "F2s v2", "Virtual Machines FSv2 Series", 0.085, 0.177, "2021-11-01"
    ),
)

# Spot and Low Priority meters as a share of the pay-as-you-go price (illustrative: real
# Spot prices move with demand), reservations as the hourly-equivalent share over the term,
# savings plans as the shares the quoted D2s v5 figures imply (0.0658368 and 0.0441792 of
# 0.096).
SPOT_SHARE = 0.15
LOW_PRIORITY_SHARE = 0.2
RESERVATION_SHARE = {"1 Year": 0.62, "3 Years": 0.4}
RESERVATION_HOURS = {"1 Year": 8760, "3 Years": 26280}
SAVINGS_PLAN_SHARE = {"3 Years": 0.0441792 / 0.096, "1 Year": 0.0658368 / 0.096}


@dataclass(frozen=True)
class DiskTier:
    product: str
    tier: str  # "P10"
    eastus_month: float


# eastus, USD per disk-month, LRS. P10 19.71 and E10 9.60 were quoted from the API
# (azure-facts §14); the others are illustrative figures in the same progression.
DISK_TIERS: tuple[DiskTier, ...] = tuple(
    DiskTier(product, tier, price)
    for product, tiers in (
        (
            "Premium SSD Managed Disks",
            (
                ("P1", 0.77),
                ("P2", 1.54),
                ("P3", 3.08),
                ("P4", 5.28),
                ("P6", 10.21),
                ("P10", 19.71),
                ("P15", 38.02),
                ("P20", 73.22),
                ("P30", 135.17),
                ("P40", 259.05),
                ("P50", 495.57),
            ),
        ),
        (
            "Standard SSD Managed Disks",
            (
                ("E1", 0.3),
                ("E2", 0.6),
                ("E3", 1.2),
                ("E4", 2.4),
                ("E6", 4.8),
                ("E10", 9.6),
                ("E15", 19.2),
                ("E20", 38.4),
                ("E30", 76.8),
                ("E40", 153.6),
                ("E50", 307.2),
            ),
        ),
        (
            "Standard HDD Managed Disks",
            (
                ("S4", 1.54),
                ("S6", 3.01),
                ("S10", 5.89),
                ("S15", 11.33),
                ("S20", 21.76),
                ("S30", 40.96),
                ("S40", 77.83),
                ("S50", 143.36),
            ),
        ),
    )
    for tier, price in tiers
)
# Standard disks are also billed per 10,000 transactions (illustrative price).
DISK_OPERATIONS = {"Standard SSD Managed Disks": 0.002, "Standard HDD Managed Disks": 0.0005}


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest().upper()


def _product_id(product: str, known: str = "") -> str:
    """``DZH318Z0`` + 4 characters, the real format; derived when no real id is known."""
    return known or f"DZH318Z0{_digest(product)[:4]}"


def _meter_id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "contoso-emulator/retail/" + "/".join(parts)))


def _price(value: float) -> float:
    """Prices carry at most 6 decimals, as the API's do (``0.176346``)."""
    return round(value, 6)


def _item(
    *,
    region: str,
    price: float,
    meter: str,
    product: str,
    product_id: str,
    sku: str,
    service: str,
    service_id: str,
    family: str,
    unit: str,
    kind: str,
    arm_sku: str,
    effective: str,
    term: str = "",
) -> dict[str, Any]:
    """One item, keys in the order the API sends them (``reservationTerm`` after
    ``tierMinimumUnits`` on reservations, as in the doc's example)."""
    location = PRICED_REGIONS[region][0]
    head: dict[str, Any] = {"currencyCode": "USD", "tierMinimumUnits": 0.0}
    if term:
        head["reservationTerm"] = term
    return {
        **head,
        "retailPrice": _price(price),
        "unitPrice": _price(price),
        "armRegionName": region,
        "location": location,
        "effectiveStartDate": f"{effective}T00:00:00Z",
        "meterId": _meter_id(region, product, meter, kind, term),
        "meterName": meter,
        "productId": product_id,
        "skuId": f"{product_id}/{_digest(product_id, sku)[:4]}",
        "productName": product,
        "skuName": sku,
        "serviceName": service,
        "serviceId": service_id,
        "serviceFamily": family,
        "unitOfMeasure": unit,
        "type": kind,
        "isPrimaryMeterRegion": True,
        "armSkuName": arm_sku,
    }


def _vm_items(m: VmMeter, region: str, factor: float) -> list[dict[str, Any]]:
    linux = m.linux_eastus * factor
    # The Windows licence does not change with the region: that is how the quoted
    # westeurope pair (0.115 / 0.207) relates to the eastus one (0.096 / 0.188).
    windows = linux + (m.windows_eastus - m.linux_eastus)
    win_product = f"{m.product} Windows"
    common = {
        "region": region,
        "service": VM_SERVICE,
        "service_id": VM_SERVICE_ID,
        "family": "Compute",
        "unit": "1 Hour",
        "arm_sku": m.arm_sku,
        "effective": m.effective,
    }
    linux_ids = {"product": m.product, "product_id": _product_id(m.product, m.linux_product_id)}
    win_ids = {"product": win_product, "product_id": _product_id(win_product, m.windows_product_id)}
    spot, low = f"{m.meter} Spot", f"{m.meter} Low Priority"
    items = [
        _item(price=linux, meter=m.meter, sku=m.meter, kind="Consumption", **linux_ids, **common),
        _item(
            price=linux * SPOT_SHARE,
            meter=spot,
            sku=spot,
            kind="Consumption",
            **linux_ids,
            **common,
        ),
        _item(
            price=linux * LOW_PRIORITY_SHARE,
            meter=low,
            sku=low,
            kind="Consumption",
            **linux_ids,
            **common,
        ),
    ]
    for term, share in RESERVATION_SHARE.items():
        # A reservation's price is the whole term's (the doc's E64 v4 example: 25007.0).
        total = round(linux * share * RESERVATION_HOURS[term])
        items.append(
            _item(
                price=total,
                meter=m.meter,
                sku=m.meter,
                kind="Reservation",
                term=term,
                **linux_ids,
                **common,
            )
        )
    items += [
        _item(price=windows, meter=m.meter, sku=m.meter, kind="Consumption", **win_ids, **common),
        _item(
            price=windows * SPOT_SHARE,
            meter=spot,
            sku=spot,
            kind="Consumption",
            **win_ids,
            **common,
        ),
        _item(
            price=windows * LOW_PRIORITY_SHARE,
            meter=low,
            sku=low,
            kind="Consumption",
            **win_ids,
            **common,
        ),
        # Dev/Test subscriptions pay the Linux rate for Windows (the doc's example item is a
        # DevTestConsumption Spot meter of a Windows product).
        _item(
            price=linux, meter=m.meter, sku=m.meter, kind="DevTestConsumption", **win_ids, **common
        ),
        _item(
            price=linux * SPOT_SHARE,
            meter=spot,
            sku=spot,
            kind="DevTestConsumption",
            **win_ids,
            **common,
        ),
    ]
    return items


def _disk_items(region: str, factor: float) -> list[dict[str, Any]]:
    common = {
        "region": region,
        "service": STORAGE_SERVICE,
        "service_id": STORAGE_SERVICE_ID,
        "family": "Storage",
        "arm_sku": "",
        "effective": "2022-01-01",
    }
    items = [
        _item(
            price=d.eastus_month * factor,
            meter=f"{d.tier} LRS Disk",
            sku=f"{d.tier} LRS",
            product=d.product,
            product_id=_product_id(d.product),
            unit="1/Month",
            kind="Consumption",
            **common,
        )
        for d in DISK_TIERS
    ]
    for product, price in DISK_OPERATIONS.items():
        redundancy = "Standard SSD LRS" if "SSD" in product else "Standard HDD LRS"
        items.append(
            _item(
                price=price * factor,
                meter="LRS Disk Operations",
                sku=redundancy,
                product=product,
                product_id=_product_id(product),
                unit="10K",
                kind="Consumption",
                **common,
            )
        )
    return items


@functools.cache
def catalog() -> tuple[dict[str, Any], ...]:
    """Every item the API serves, in a stable order (paging relies on it).

    Items are shared: callers must copy before changing one."""
    items: list[dict[str, Any]] = []
    for region, (_, factor) in PRICED_REGIONS.items():
        for meter in VM_METERS:
            items.extend(_vm_items(meter, region, factor))
        items.extend(_disk_items(region, factor))
    return tuple(items)


def savings_plan(item: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The ``savingsPlan`` rates of a pay-as-you-go Linux VM meter (api-version
    2023-01-01-preview only), ``None`` where a savings plan does not apply."""
    if (
        item["serviceName"] != VM_SERVICE
        or item["type"] != "Consumption"
        or item["productName"].endswith(" Windows")
        or " Spot" in item["meterName"]
        or " Low Priority" in item["meterName"]
    ):
        return None
    price = item["retailPrice"]
    return [
        {"unitPrice": _price(price * s), "retailPrice": _price(price * s), "term": term}
        for term, s in SAVINGS_PLAN_SHARE.items()
    ]
