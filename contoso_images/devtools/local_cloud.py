"""The local cloud for the demo and the benchmarks: ``manage.py emulator_serve`` as a child
process, and the gateway settings that point the production path at it.

The settings are the ones a real-Azure deployment sets (docs/local-cloud.md, "What a
real-Azure deployment changes"): only their values differ. TLS is verified against the
emulator's CA; nothing here turns verification off.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
#: Resource Manager's own audience: tokens for it are accepted whatever port the server has.
CREDENTIAL_SCOPE = "https://management.azure.com/.default"


class LocalCloudError(RuntimeError):
    """The emulator server did not start, or did not answer."""


@dataclass(frozen=True)
class LocalCloud:
    """A running ``emulator_serve`` child and where it answers."""

    process: subprocess.Popen[bytes]
    base_url: str
    ca_cert: Path
    ca_bundle: Path

    def settings(self) -> dict[str, str]:
        return local_cloud_settings(self.base_url, self.ca_bundle)

    def sign_in_settings(self) -> dict[str, str]:
        return entra_sign_in_settings(self.base_url, self.ca_cert)

    def stop(self) -> None:
        stop_child(self.process)


def local_cloud_settings(base_url: str, ca_bundle: Path) -> dict[str, str]:
    """The gateway settings for the embedded tenant served at ``base_url``, as strings (for
    a child's environment as much as for ``settings``)."""
    from contoso_images.arm_emulator.identity import seed as people

    return {
        "AZURE_MODE": "azure",
        "AZURE_CLOUD": "custom",
        "AZURE_RESOURCE_MANAGER_ENDPOINT": base_url,
        "AZURE_AUTHORITY_HOST": base_url,
        "AZURE_CREDENTIAL_SCOPE": CREDENTIAL_SCOPE,
        "AZURE_TENANT_ID": people.CONTOSO_TENANT_ID,
        "AZURE_CLIENT_ID": people.GATEWAY_CLIENT_ID,
        "AZURE_CLIENT_SECRET": people.GATEWAY_CLIENT_SECRET,
        "AZURE_CA_BUNDLE": str(ca_bundle),
        "RETAIL_PRICES_ENDPOINT": base_url,
    }


def entra_sign_in_settings(base_url: str, ca_cert: Path) -> dict[str, str]:
    """Sign-in with the emulated tenant's Entra ID (its seeded dashboard app registration);
    ``ENTRA_REDIRECT_URI`` stays empty so the callback comes back to the host the browser
    used, with its session cookie."""
    from contoso_images.arm_emulator.identity import seed as people

    return {
        "ENTRA_TENANT_ID": people.CONTOSO_TENANT_ID,
        "ENTRA_CLIENT_ID": people.DASHBOARD_CLIENT_ID,
        "ENTRA_CLIENT_SECRET": people.DASHBOARD_CLIENT_SECRET,
        "ENTRA_AUTHORITY_HOST": base_url,
        "ENTRA_CA_BUNDLE": str(ca_cert),
    }


def register_dashboard_urls(state: str | os.PathLike[str], *, port: int) -> None:
    """Let the emulated tenant send people back to a dashboard on ``port`` (its app
    registration lists port 8000 only, as a real one lists the URLs it was given)."""
    from contoso_images.arm_emulator import Emulator
    from contoso_images.arm_emulator.identity import seed as people

    hosts = ("127.0.0.1", "localhost")
    identity = Emulator(state).identity
    identity.set_redirect_uris(
        people.DASHBOARD_CLIENT_ID, [f"http://{host}:{port}/auth/callback/" for host in hosts]
    )
    identity.set_logout_uris(
        people.DASHBOARD_CLIENT_ID, [f"http://{host}:{port}/" for host in hosts]
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A port free now (the child binds it right after)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def start_emulator_server(
    state: str | os.PathLike[str],
    *,
    port: int = 0,
    tls_dir: str | os.PathLike[str] | None = None,
    stdout: int | None = None,
) -> LocalCloud:
    """Run ``manage.py emulator_serve`` on ``state`` in its own session and return once it
    answers over verified TLS (``port`` 0: a free one)."""
    from contoso_images.arm_emulator.tls import default_tls_dir, ensure_tls_files

    tls = ensure_tls_files(tls_dir if tls_dir is not None else default_tls_dir())
    port = port or free_port()
    base_url = f"https://127.0.0.1:{port}"
    command = [
        sys.executable,
        str(Path(settings.BASE_DIR, "manage.py")),
        "emulator_serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--state",
        str(state),
        "--tls-dir",
        str(tls.directory),
        "--quiet",
    ]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
        command,
        cwd=settings.BASE_DIR,
        # emulator_serve is a devtools command: keep devtools installed in the child.
        env={**os.environ, "DJANGO_DEVTOOLS": os.environ.get("DJANGO_DEVTOOLS", "true")},
        stdout=stdout,
        start_new_session=True,
    )
    try:
        wait_until_answering(base_url, tls.ca_cert, process, timeout=START_TIMEOUT)
    except BaseException:
        stop_child(process)
        raise
    return LocalCloud(process, base_url, tls.ca_cert, tls.ca_bundle)


def wait_until_answering(
    base_url: str, ca_file: Path, process: subprocess.Popen[bytes], *, timeout: float
) -> None:
    """Poll the cloud metadata document (no token needed) over verified TLS until the server
    answers; fail early if the child exits (a port in use, a broken state file)."""
    context = ssl.create_default_context(cafile=str(ca_file))
    url = f"{base_url}/metadata/endpoints?api-version=2015-01-01"
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalCloudError(
                f"The emulator server exited with code {process.returncode} before answering "
                f"(is {base_url} already in use?)."
            )
        try:
            with urllib.request.urlopen(url, context=context, timeout=2) as resp:  # noqa: S310 - our https URL
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.2)
    raise LocalCloudError(f"The emulator server at {base_url} did not answer in time: {last}")


def stop_child(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL its whole session (each child has its own) if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
