"""``manage.py emulator_seed``: reset the ARM emulator's state file and seed the pilot."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Reset the ARM emulator and seed the 'Contoso pilot' scenario (plus N extra VMs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--vms", type=int, default=0, help="extra generated VMs to add (e.g. 10000)"
        )
        parser.add_argument(
            "--state", default=None, help="state file (default: settings.AZURE_EMULATOR_STATE)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from contoso_images.arm_emulator import Emulator

        path = options["state"] or getattr(settings, "AZURE_EMULATOR_STATE", None)
        emulator = Emulator(path)
        emulator.reset()
        counts = emulator.seed_contoso_pilot(extra_vms=max(0, options["vms"]))
        self.stdout.write(f"Seeded {emulator.path}")
        width = max(len(k) for k in counts)
        for kind, count in counts.items():
            self.stdout.write(f"  {kind.replace('_', ' '):<{width}}  {count:>6}")
        self.stdout.write(self.style.SUCCESS("Done."))
