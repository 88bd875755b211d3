"""vmops pages and htmx partials. Thin: parse, check permission, call a selector or service."""

from __future__ import annotations

from vmops.views.billing import (
    billing,
    policy_delete,
    policy_detail,
    policy_edit,
    policy_switch,
    savings_page,
    vm_skip_tonight,
)
from vmops.views.bulk import vm_bulk, vm_bulk_deallocate, vm_bulk_results
from vmops.views.deploy import deployment_detail, vm_delete, vm_delete_many, vm_deploy
from vmops.views.inventory import (
    vm_columns,
    vm_export,
    vm_list,
    vm_overview,
)
from vmops.views.vm import vm_action, vm_by_resource, vm_detail, vm_row_view

__all__ = [
    "deployment_detail",
    "vm_delete",
    "vm_delete_many",
    "vm_deploy",
    "billing",
    "policy_delete",
    "policy_detail",
    "policy_edit",
    "policy_switch",
    "savings_page",
    "vm_skip_tonight",
    "vm_action",
    "vm_bulk",
    "vm_bulk_deallocate",
    "vm_bulk_results",
    "vm_by_resource",
    "vm_columns",
    "vm_detail",
    "vm_export",
    "vm_list",
    "vm_overview",
    "vm_row_view",
]
