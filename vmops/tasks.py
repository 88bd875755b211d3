"""django-q2 entry points. Thin: each hands over to a service."""

from __future__ import annotations

from contoso_images.core.sync import sync_report, sync_run
from vmops.services.inventory import INVENTORY


def inventory_sync_scheduled() -> str:
    """The schedule's and "Refresh now"'s task: every subscription's VMs."""
    return sync_report(sync_run(INVENTORY))
