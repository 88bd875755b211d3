"""django-q2 entry points. Thin: each hands over to a service."""

from __future__ import annotations

from catalog.services.sync import CATALOG
from contoso_images.core.sync import sync_report, sync_run


def catalog_sync_scheduled() -> str:
    """The schedule's and "Refresh now"'s task: every subscription's custom images."""
    return sync_report(sync_run(CATALOG))
