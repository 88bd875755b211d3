from __future__ import annotations

import io
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

DEMO_USERS = (("operator", "operators"), ("reviewer", "reviewers"), ("auditor", "auditors"))


class Command(BaseCommand):
    help = (
        "Prepare the demo (migrate, static files, emulated tenant, demo users, first sync) and "
        "run the web server and a task cluster together until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default=os.environ.get("DEMO_ADDR", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-serve", action="store_true", help="Prepare only, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        Path(settings.BASE_DIR, "var").mkdir(exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self._seed_tenant()
        password = self._demo_password()
        for username, group in DEMO_USERS:
            call_command(
                "create_user", username, group=[group], password=password, stdout=io.StringIO()
            )
        self._first_sync()

        url = f"http://{options['addr']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS("\nContoso Images is ready."))
        self.stdout.write(f"  Open {url}")
        for username, group in DEMO_USERS:
            self.stdout.write(f"  Sign in as {username:<9} ({group}) with password {password}")
        self.stdout.write("  Azure: the ARM emulator (no real Azure resources are touched)\n")
        if options["no_serve"]:
            return
        self._serve(options["addr"], options["port"])

    def _seed_tenant(self) -> None:
        if settings.AZURE_MODE != "emulator":
            return
        from contoso_images.arm_emulator import Emulator

        emulator = Emulator(settings.AZURE_EMULATOR_STATE)
        if emulator.is_empty():
            # A new tenant keeps the emulator's default durations: a few seconds per
            # operation, so progress is visible.
            emulator.seed_contoso_pilot()
            self.stdout.write("Seeded the emulated Contoso pilot tenant.")
        else:
            self.stdout.write("Kept the emulated tenant already in use.")

    def _demo_password(self) -> str:
        path = Path(settings.BASE_DIR, "var", "demo_password")
        if not path.exists():
            path.write_text(secrets.token_urlsafe(9))
            path.chmod(0o600)
        return path.read_text().strip()

    def _first_sync(self) -> None:
        """The VMs and the catalog are there at the first page view, not a schedule later."""
        from catalog.services import catalog_sync_all
        from vmops.services import inventory_sync_all

        for result in inventory_sync_all():
            self.stdout.write(f"Synced {result}")
        for catalog_result in catalog_sync_all():
            self.stdout.write(f"Synced the catalog of {catalog_result}")

    def _serve(self, addr: str, port: int) -> None:
        cluster = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, str(Path(settings.BASE_DIR, "manage.py")), "qcluster"],
            start_new_session=True,
        )
        # A service manager stops us with SIGTERM: leave through `finally` as on Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", f"{addr}:{port}", use_reloader=False, use_threading=True)
        except KeyboardInterrupt:
            pass
        finally:
            self.stdout.write("Stopping the task cluster…")
            cluster.send_signal(signal.SIGTERM)
            try:
                cluster.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(cluster.pid, signal.SIGKILL)
