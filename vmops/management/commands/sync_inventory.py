from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vmops.services import inventory_sync_all


class Command(BaseCommand):
    help = "Sync the VM inventory from Azure now (one paged listing per subscription)."

    def handle(self, *args: Any, **options: Any) -> None:
        for result in inventory_sync_all(force=True):
            self.stdout.write(str(result))
