from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from contoso_images.core.health import health_report


class Command(BaseCommand):
    help = "Print whether the database and the task cluster are alive (JSON); exit 1 if not."

    def handle(self, *args: Any, **options: Any) -> None:
        report = health_report()
        self.stdout.write(json.dumps(report, indent=2))
        if not report["ok"]:
            raise SystemExit(1)
