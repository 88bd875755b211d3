"""The filtered VM list as CSV, for spreadsheets: every VM of the filter, streamed.

Values come from Azure (names, tags), so a cell that a spreadsheet would read as a formula
(starting with =, +, -, @, a tab or a carriage return) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from vmops.models import VirtualMachine

EXPORT_BATCH = 2000
HEADER = (
    "Name",
    "Resource group",
    "Subscription",
    "Subscription id",
    "Location",
    "Size",
    "OS",
    "Power state",
    "Generalized",
    "Tags",
    "Image",
    "Created (UTC)",
    "In this state since (UTC)",
    "Reported by Azure (UTC)",
    "Deleted in Azure (UTC)",
    "Resource id",
    # Estimates at list price in PRICES_CURRENCY, before discounts, reservations and savings
    # plans; "no price found" when the Retail Prices API has none for the size.
    "Compute per hour (list price)",
    "Compute per day (list price)",
    "Waste per day (stopped but billed)",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _utc(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def vm_csv_row(vm: VirtualMachine) -> list[str]:
    tags = "; ".join(f"{k}={v}" for k, v in sorted((vm.tags or {}).items()))
    return [
        safe_cell(value)
        for value in (
            vm.name,
            vm.resource_group,
            str(vm.subscription),
            vm.subscription.subscription_id,
            vm.location,
            vm.size,
            vm.os_type,
            vm.get_power_state_display(),
            "yes" if vm.generalized else "no",
            tags,
            vm.image_label,
            _utc(vm.created_at),
            _utc(vm.in_state_since),
            _utc(vm.reported_at),
            _utc(vm.gone_at),
            vm.azure_id,
            *_price_cells(vm),
        )
    ]


def _price_cells(vm: VirtualMachine) -> tuple[str, str, str]:
    hourly = getattr(vm, "hourly_price", None)
    if hourly is None:
        return ("no price found", "no price found", vm.waste_label)
    return (f"{hourly:.4f}", f"{hourly * 24:.2f}", vm.waste_label)


def vm_csv_rows(vms: Iterable[VirtualMachine]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a byte-order mark, so spreadsheet programs read UTF-8 names correctly
    yield writer.writerow(HEADER)
    for vm in vms:
        yield writer.writerow(vm_csv_row(vm))
