"""The business rules of vmops: inventory sync and power actions (see each module)."""

from __future__ import annotations

from vmops.services.actions import (
    BulkCounts,
    bulk_action_counts,
    vm_action_request,
    vm_unfinished_operation,
    vms_action_plan,
    vms_action_request,
)
from vmops.services.inventory import (
    INVENTORY,
    InventorySyncResult,
    inventory_sync,
    inventory_sync_all,
    vm_read_live,
)

__all__ = [
    "BulkCounts",
    "bulk_action_counts",
    "INVENTORY",
    "InventorySyncResult",
    "inventory_sync",
    "inventory_sync_all",
    "vm_action_request",
    "vm_read_live",
    "vm_unfinished_operation",
    "vms_action_plan",
    "vms_action_request",
]
