"""Browser tests: Playwright driving Debian's Chromium (never `playwright install`)."""

from __future__ import annotations

import base64
import hashlib
import os
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import connection

from contoso_images.arm_emulator.tls import ensure_tls_files
from tests.entra import entra, idp, idp_https, idp_server, idp_tls_dir

__all__ = ["entra", "idp", "idp_https", "idp_server", "idp_tls_dir"]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, idp_tls_dir):
    """Chromium, trusting the emulated Entra ID's server key and nothing else of it: its
    SPKI pin (``--ignore-certificate-errors-spki-list``), not "ignore certificate errors"."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is missing at {CHROMIUM}; the README's test command installs it.")
    tls = ensure_tls_files(idp_tls_dir, hosts=("127.0.0.1",))
    cert = x509.load_pem_x509_certificate(tls.server_cert.read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    args = [*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": args}


@pytest.fixture
def sign_in(page, live_server):
    """Sign in through the real login form, as a person would."""

    def _sign_in(username: str, password: str = "correct-horse-battery-staple") -> None:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()

    return _sign_in


@pytest.fixture
def csp_violations(page):
    """Console reports of Content-Security-Policy violations on every page the test opens."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    return seen


@pytest.fixture
def background_worker(monkeypatch):
    """Run queued operations in a thread, as a django-q2 worker would, so the page must poll."""
    from contoso_images.operations.engine import run as operation_run

    threads = []

    def enqueue(operation_id):
        def work():
            try:
                operation_run(operation_id=operation_id)
            finally:
                connection.close()

        thread = threading.Thread(target=work, daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr("contoso_images.operations.engine.enqueue", enqueue)
    yield
    for thread in threads:
        thread.join(30)


@pytest.fixture
def synced(emulator):
    """The pilot tenant synced into the database: {vm name: VirtualMachine}."""
    from vmops.models import VirtualMachine
    from vmops.services import inventory_sync_all

    inventory_sync_all()
    return {vm.name: vm for vm in VirtualMachine.objects.all()}
