from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from catalog.services import catalog_sync_all


class Command(BaseCommand):
    help = (
        "Sync the image catalog from Azure now: managed images and Compute Gallery galleries, "
        "definitions and versions of every subscription (one listing per gallery level)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for result in catalog_sync_all(force=True):
            self.stdout.write(str(result))
