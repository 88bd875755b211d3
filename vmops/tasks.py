"""django-q2 entry points. Thin: each hands over to a service."""

from __future__ import annotations

from contoso_images.core.sync import sync_report, sync_run
from vmops.services.inventory import INVENTORY


def inventory_sync_scheduled() -> str:
    """The schedule's and "Refresh now"'s task: every subscription's VMs."""
    return sync_report(sync_run(INVENTORY))


def prices_sync_scheduled() -> str:
    """Daily, and "Refresh prices": every region the inventory uses."""
    from vmops.services.prices import PRICES

    return sync_report(sync_run(PRICES))


def billing_guard_scheduled() -> str:
    """The billing guard's schedule: every policy, once (dry runs only report)."""
    from vmops.services.guard import guard_run

    return "; ".join(str(result) for result in guard_run())
