"""The business rules of vmops: inventory sync and VM operations (see each module)."""

from __future__ import annotations

from vmops.services.inventory import (
    SyncResult,
    inventory_sync,
    inventory_sync_all,
    subscriptions_sync,
    vm_read_live,
)
from vmops.services.operations import (
    ActionNotAllowed,
    enqueue_operation,
    operation_run,
    operations_reconcile,
    vm_action_request,
    vm_unfinished_operation,
    vms_deallocate_request,
)

__all__ = [
    "ActionNotAllowed",
    "SyncResult",
    "enqueue_operation",
    "inventory_sync",
    "inventory_sync_all",
    "operation_run",
    "operations_reconcile",
    "subscriptions_sync",
    "vm_action_request",
    "vm_read_live",
    "vm_unfinished_operation",
    "vms_deallocate_request",
]
