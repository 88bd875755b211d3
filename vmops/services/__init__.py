"""The business rules of vmops: inventory sync and power actions (see each module)."""

from __future__ import annotations

from vmops.services.actions import (
    BulkRequestResult,
    vm_action_request,
    vm_unfinished_operation,
    vms_deallocate_request,
)
from vmops.services.inventory import (
    SyncResult,
    inventory_sync,
    inventory_sync_all,
    inventory_sync_request,
    vm_read_live,
)

__all__ = [
    "BulkRequestResult",
    "SyncResult",
    "inventory_sync",
    "inventory_sync_all",
    "inventory_sync_request",
    "vm_action_request",
    "vm_read_live",
    "vm_unfinished_operation",
    "vms_deallocate_request",
]
