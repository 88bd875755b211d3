"""``manage.py demo`` prepares the dashboard on the production path by default: it serves the
embedded tenant over HTTPS in a child process, syncs through ``ClientSecretCredential`` with
the emulator's CA, says which cloud and endpoints it uses (never the secret), and stops the
child before it returns."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from contoso_images.arm_emulator import Emulator
from contoso_images.arm_emulator.identity import seed as people

pytestmark = pytest.mark.slow


def run_demo(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "AZURE_EMULATOR_STATE": str(tmp_path / "state.sqlite3"),
        "AZURE_EMULATOR_TLS_DIR": str(tmp_path / "tls"),
        **env,
    }
    for name in ("AZURE_MODE", "DEMO_TRANSPORT", "REDIS_URL"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "demo", "--no-serve", *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_demo_runs_its_first_sync_over_https_with_real_tokens(tmp_path):
    done = run_demo(tmp_path, "--emulator-port", "0")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    base = re.search(r"Resource Manager\s+(https://127\.0\.0\.1:\d+)", done.stdout)
    assert base, out
    assert "AZURE_CLOUD=custom" in done.stdout
    assert f"Entra ID authority  {base[1]}/{people.CONTOSO_TENANT_ID}" in done.stdout
    assert f"service principal {people.GATEWAY_CLIENT_ID}" in done.stdout
    assert f"trusted CA          {tmp_path / 'tls' / 'ca-bundle.pem'}" in done.stdout
    assert people.GATEWAY_CLIENT_SECRET not in out
    assert re.search(r"Synced Contoso Pilot – Production: \d+ VMs listed", done.stdout), out

    # Every Resource Manager request of the sync carried the gateway's token.
    log = Emulator(tmp_path / "state.sqlite3").request_log()
    arm = [e for e in log if not e.path.startswith("/api/retail/prices")]
    assert arm and {e.caller for e in arm} == {people.GATEWAY_CLIENT_ID}
    assert any("/virtualMachines" in e.path for e in arm)

    # The emulator server was a child: it is gone with the demo.
    port = int(base[1].rsplit(":", 1)[1])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_in_process_keeps_the_emulator_inside_the_process(tmp_path):
    done = run_demo(tmp_path, "--in-process")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the ARM emulator in process (AZURE_MODE=emulator" in done.stdout
    assert "Resource Manager" not in done.stdout
    log = Emulator(tmp_path / "state.sqlite3").request_log()
    assert log and {e.caller for e in log} == {""}  # no token, no server
