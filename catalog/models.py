from __future__ import annotations

from django.db import models


class CatalogPermission(models.Model):
    """Anchor for the catalog's role permissions, which belong to the catalog as a whole.

    Unmanaged and table-less: it exists so that `catalog.view_catalog` and
    `catalog.review_image` are real Django permissions that groups can hold.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_catalog", "Can see the image catalog"),
            ("review_image", "Can approve, deprecate or comment on custom images"),
        ]

    def __str__(self) -> str:
        return "Catalog permissions"
