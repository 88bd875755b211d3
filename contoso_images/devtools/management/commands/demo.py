"""``manage.py demo``: prepare the dashboard and run it, on the production path by default.

By default the demo is a **local cloud**: the embedded Contoso pilot tenant is served over
HTTPS by ``manage.py emulator_serve`` (a child process), and the web server, the task cluster
and the first sync reach it exactly as they would reach Azure — ``AZURE_MODE=azure``,
``AZURE_CLOUD=custom``, the server's endpoints, the seeded service principal through
``ClientSecretCredential`` and the emulator's CA through ``AZURE_CA_BUNDLE`` (TLS is verified;
nothing turns that off). The settings go to the child processes as environment variables and
to this process's own gateway as settings. docs/local-cloud.md.

``--transport in-process`` (or ``DEMO_TRANSPORT=in-process``) keeps the in-process emulator
(``AZURE_MODE=emulator``, no server); ``--transport settings`` uses whatever the settings
already say (a real subscription). When the settings already say ``AZURE_MODE=azure``
(environment or ``.env``), that is the default: the demo never points a real-Azure
configuration at the emulator.
"""

from __future__ import annotations

import contextlib
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
from django.core.management.base import BaseCommand, CommandError, CommandParser

from contoso_images.devtools.local_cloud import (
    LocalCloud,
    LocalCloudError,
    register_dashboard_urls,
    start_emulator_server,
    stop_child,
)

DEMO_USERS = (("operator", "operators"), ("reviewer", "reviewers"), ("auditor", "auditors"))
HTTPS, IN_PROCESS, SETTINGS = "https", "in-process", "settings"
TRANSPORTS = (HTTPS, IN_PROCESS, SETTINGS)


def default_transport() -> str:
    chosen = os.environ.get("DEMO_TRANSPORT", "").strip().lower()
    if chosen:
        return chosen
    # AZURE_MODE=azure from the environment or .env: a real cloud is configured; keep it.
    return SETTINGS if str(settings.AZURE_MODE).strip().lower() == "azure" else HTTPS


class Command(BaseCommand):
    help = (
        "Prepare the demo (migrate, static files, emulated tenant, demo users, first sync) and "
        "run the web server and a task cluster together until Ctrl-C — by default against the "
        "embedded tenant served over HTTPS (the production path)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default=os.environ.get("DEMO_ADDR", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-serve", action="store_true", help="Prepare only, then exit.")
        parser.add_argument(
            "--transport",
            choices=TRANSPORTS,
            default=default_transport(),
            help=(
                "https: the embedded tenant over HTTPS, production path (default); "
                "in-process: the emulator inside each process; settings: the cloud the "
                "settings name (default when AZURE_MODE=azure is set)."
            ),
        )
        parser.add_argument(
            "--in-process",
            dest="transport",
            action="store_const",
            const=IN_PROCESS,
            help="Same as --transport in-process.",
        )
        parser.add_argument(
            "--emulator-port",
            type=int,
            default=int(os.environ.get("DEMO_EMULATOR_PORT", "8443")),
            help="port of the HTTPS emulator (default 8443; 0: any free port)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        transport = options["transport"]
        if transport not in TRANSPORTS:
            raise CommandError(f"DEMO_TRANSPORT must be one of {', '.join(TRANSPORTS)}.")
        # A service manager stops us with SIGTERM: leave through `finally` (which stops the
        # children) as on Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            self._run(transport, options)
        except KeyboardInterrupt:
            self._say("Interrupted.")

    def _run(self, transport: str, options: dict[str, Any]) -> None:
        Path(settings.BASE_DIR, "var").mkdir(exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if transport == IN_PROCESS:
            self._use({"AZURE_MODE": "emulator"})
        if transport != SETTINGS:
            self._seed_tenant()
        emulator: LocalCloud | None = None
        try:
            if transport == HTTPS:
                emulator = self._start_emulator(options["emulator_port"], options["port"])
            password = self._demo_password()
            for username, group in DEMO_USERS:
                call_command(
                    "create_user",
                    username,
                    group=[group],
                    password=password,
                    stdout=io.StringIO(),
                )
            self._first_sync()

            url = f"http://{options['addr']}:{options['port']}/"
            self.stdout.write(self.style.SUCCESS("\nContoso Images is ready."))
            self.stdout.write(f"  Open {url}")
            for username, group in DEMO_USERS:
                self.stdout.write(f"  Sign in as {username:<9} ({group}) with password {password}")
            if transport == HTTPS:
                self.stdout.write(
                    "  or 'Sign in with Microsoft': the emulated tenant's page lists its people "
                    "(one per role, one with none)"
                )
            self._describe_cloud(transport)
            if not options["no_serve"]:
                self._serve(options["addr"], options["port"])
        finally:
            if emulator is not None:
                self._say("Stopping the emulator server…")
                emulator.stop()

    # --- the cloud ---------------------------------------------------------------------------

    def _use(self, values: dict[str, str]) -> None:
        """Apply gateway settings here (this process's gateway) and in the environment the
        children (task cluster) inherit."""
        from contoso_images.azure import clear_client_cache

        for name, value in values.items():
            os.environ[name] = value
            setattr(settings, name, value)
        clear_client_cache()

    def _start_emulator(self, port: int, dashboard_port: int) -> LocalCloud:
        self.stdout.write("Starting the emulated tenant over HTTPS…")
        try:
            cloud = start_emulator_server(settings.AZURE_EMULATOR_STATE, port=port)
        except LocalCloudError as exc:
            raise CommandError(f"{exc} Choose another port with DEMO_EMULATOR_PORT.") from exc
        self._use(cloud.settings())
        # "Sign in with Microsoft" through the emulated tenant, beside the local accounts.
        register_dashboard_urls(settings.AZURE_EMULATOR_STATE, port=dashboard_port)
        self._use(cloud.sign_in_settings())
        return cloud

    def _seed_tenant(self) -> None:
        from contoso_images.arm_emulator import Emulator

        emulator = Emulator(settings.AZURE_EMULATOR_STATE)
        if emulator.is_empty():
            # A new tenant keeps the emulator's default durations: a few seconds per
            # operation, so progress is visible.
            emulator.seed_contoso_pilot()
            self.stdout.write("Seeded the emulated Contoso pilot tenant.")
        else:
            self.stdout.write("Kept the emulated tenant already in use.")

    def _describe_cloud(self, transport: str) -> None:
        """Which cloud the dashboard talks to, and through which endpoints (never the
        secret)."""
        write = self.stdout.write
        if transport == IN_PROCESS:
            write("  Azure: the ARM emulator in process (AZURE_MODE=emulator; no network, no")
            write(f"         tokens), state {settings.AZURE_EMULATOR_STATE}")
            write("         No real Azure resources are touched.\n")
            return
        from contoso_images.azure.config import current

        config = current()
        if transport == HTTPS:
            write("  Azure: the local cloud — the embedded Contoso pilot tenant over HTTPS,")
            write("         reached on the production path (no real Azure resources are touched)")
        else:
            write(f"  Azure: AZURE_MODE={config.mode}, as the settings say")
        if config.mode != "azure":
            write(f"         the in-process emulator, state {settings.AZURE_EMULATOR_STATE}\n")
            return
        write(f"    cloud               AZURE_CLOUD={config.cloud}")
        write(f"    Resource Manager    {config.resource_manager}")
        tenant = config.tenant_id or "(from the credential)"
        write(f"    Entra ID authority  {config.authority}/{tenant}")
        write(f"    token scope         {config.credential_scope}")
        if config.uses_client_secret:
            write(f"    credential          service principal {config.client_id} (client secret)")
        else:
            write("    credential          DefaultAzureCredential")
        write(f"    Retail Prices API   {config.retail_prices_endpoint}/api/retail/prices")
        write(f"    trusted CA          {config.ca_bundle or 'the system store'}")
        if transport == HTTPS:
            write(f"    state file          {settings.AZURE_EMULATOR_STATE}")
            write("    request log         python manage.py emulator_log (caller per request)")
        write("")

    # --- demo data ---------------------------------------------------------------------------

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

    # --- serving -----------------------------------------------------------------------------

    def _serve(self, addr: str, port: int) -> None:
        cluster = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, str(Path(settings.BASE_DIR, "manage.py")), "qcluster"],
            start_new_session=True,
        )
        try:
            call_command("runserver", f"{addr}:{port}", use_reloader=False, use_threading=True)
        except KeyboardInterrupt:
            pass
        finally:
            self._say("Stopping the task cluster…")
            stop_child(cluster)

    def _say(self, line: str) -> None:
        """Write while stopping: a closed terminal or pipe (``| tee`` stopped by the same
        Ctrl-C) must not keep the children from being stopped."""
        with contextlib.suppress(OSError, ValueError):
            self.stdout.write(line)
            self.stdout.flush()
