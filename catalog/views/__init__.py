"""The catalog's pages and htmx partials (see each module)."""

from __future__ import annotations

from catalog.views.bulk import review_bulk, review_bulk_results
from catalog.views.images import (
    catalog_index,
    catalog_overview,
    image_by_resource,
    image_decide,
    image_detail,
    image_replication,
    image_review,
    image_row,
)
from catalog.views.marketplace import marketplace_add, marketplace_image, marketplace_index

__all__ = [
    "catalog_index",
    "catalog_overview",
    "image_by_resource",
    "image_decide",
    "image_detail",
    "image_replication",
    "image_review",
    "image_row",
    "marketplace_add",
    "review_bulk",
    "review_bulk_results",
    "marketplace_image",
    "marketplace_index",
]
