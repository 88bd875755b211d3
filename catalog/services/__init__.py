"""The business rules of the catalog: sync from Azure, review decisions, the Marketplace."""

from __future__ import annotations

from catalog.services.images import image_read_live, record_captured_image
from catalog.services.marketplace import (
    marketplace_entry_add,
    marketplace_entry_refresh,
    marketplace_image_detail,
    marketplace_level,
    marketplace_subscription,
)
from catalog.services.review import effect_succeeded, review_decide
from catalog.services.sync import (
    CATALOG,
    CatalogSyncResult,
    catalog_sync,
    catalog_sync_all,
    recompute_latest,
)

__all__ = [
    "CATALOG",
    "CatalogSyncResult",
    "catalog_sync",
    "catalog_sync_all",
    "effect_succeeded",
    "image_read_live",
    "marketplace_entry_add",
    "marketplace_entry_refresh",
    "marketplace_image_detail",
    "marketplace_level",
    "marketplace_subscription",
    "recompute_latest",
    "record_captured_image",
    "review_decide",
]
