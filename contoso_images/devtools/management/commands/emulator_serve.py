"""``manage.py emulator_serve``: the embedded tenant over HTTPS (ARM, Retail Prices, Entra ID).

Prints every endpoint, the CA to trust and the gateway settings that point at it, then serves
until Ctrl-C. The state file is the one the dashboard uses (``AZURE_EMULATOR_STATE``), so the
web process, the workers and this server all see the same tenant. docs/local-cloud.md.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Serve the emulated tenant over HTTPS on one local port: Resource Manager, the Retail "
        "Prices API and the emulated Entra ID, under a CA made on first run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8443, help="port (0: any free port)")
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument(
            "--public-host",
            default=None,
            help="host name clients use, if not --host (it is added to the certificate)",
        )
        parser.add_argument(
            "--state", default=None, help="state file (default: settings.AZURE_EMULATOR_STATE)"
        )
        parser.add_argument(
            "--tls-dir", default=None, help="CA and certificates (default: var/emulator-tls)"
        )
        parser.add_argument(
            "--workers", type=int, default=32, help="worker threads (one per open connection)"
        )
        parser.add_argument(
            "--quiet",
            action="store_true",
            help="print only where it serves (the demo runs it so), not every endpoint",
        )
        parser.add_argument(
            "--show-secret",
            action="store_true",
            help="print the seeded gateway app's client secret in the settings it suggests",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from contoso_images.arm_emulator.identity import seed as people
        from contoso_images.arm_emulator.server import EmulatorServer

        state = options["state"] or getattr(settings, "AZURE_EMULATOR_STATE", None)
        server = EmulatorServer(
            state,
            host=options["host"],
            port=options["port"],
            public_host=options["public_host"],
            tls_dir=options["tls_dir"],
            workers=options["workers"],
        )
        emulator = server.emulator
        if emulator.is_empty():
            emulator.seed_contoso_pilot()
            self.stdout.write(f"Seeded the Contoso pilot into {emulator.path}")
        base, tenant = server.base_url, people.CONTOSO_TENANT_ID
        if options["quiet"]:
            self.stdout.write(f"Serving {emulator.path} on {base} (CA {server.tls.ca_cert})")
            self.stdout.flush()
            self._serve(server)
            return
        # An emulator-only secret, but not one to copy into logs: shown when asked for.
        secret = (
            people.GATEWAY_CLIENT_SECRET
            if options["show_secret"]
            else "<GATEWAY_CLIENT_SECRET of arm_emulator/identity/seed.py; --show-secret>"
        )
        lines = [
            f"Serving {emulator.path} on {base}",
            f"  Resource Manager      {base}/subscriptions?api-version=2022-12-01",
            f"  Retail Prices API     {base}/api/retail/prices",
            f"  Cloud metadata        {base}/metadata/endpoints?api-version=2015-01-01",
            f"  Entra ID authority    {base}/{tenant}",
            f"  OpenID configuration  {base}/{tenant}/v2.0/.well-known/openid-configuration",
            f"  Sign-in page          {base}/{tenant}/oauth2/v2.0/authorize",
            f"  CA certificate        {server.tls.ca_cert}",
            f"  CA bundle             {server.ca_bundle}  (certifi roots + the CA)",
            "",
            "Gateway settings for this local cloud:",
            "  AZURE_MODE=azure",
            "  AZURE_CLOUD=custom",
            f"  AZURE_RESOURCE_MANAGER_ENDPOINT={base}",
            f"  AZURE_AUTHORITY_HOST={base}",
            "  AZURE_CREDENTIAL_SCOPE=https://management.azure.com/.default",
            f"  AZURE_TENANT_ID={tenant}",
            f"  AZURE_CLIENT_ID={people.GATEWAY_CLIENT_ID}",
            f"  AZURE_CLIENT_SECRET={secret}",
            f"  AZURE_CA_BUNDLE={server.ca_bundle}",
            "",
            "Azure CLI: see docs/local-cloud.md (az cloud register, core.instance_discovery=false,",
            "REQUESTS_CA_BUNDLE). Ctrl-C stops the server.",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
        self._serve(server)

    def _serve(self, server: Any) -> None:
        stop = threading.Event()

        def on_signal(signum: int, frame: object) -> None:
            stop.set()

        previous = signal.signal(signal.SIGTERM, on_signal)
        server.start()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            server.shutdown()
            self.stdout.write("Stopped.")
