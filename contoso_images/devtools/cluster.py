"""Starting and stopping a real qcluster on the database and emulator this process uses.

For the benchmarks and the cluster tests; runtime code never imports it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

CLUSTER_STOP_TIMEOUT = 30.0


def database_url() -> str:
    """A DATABASE_URL for the database this process uses (the test one under pytest)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or ""  # a TCP host; a socket directory cannot go in this URL
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{db['NAME']}"


def cluster_environment(**extra: str) -> dict[str, str]:
    """The environment for a qcluster sharing this process's database and emulator."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "AZURE_MODE": "emulator",
        "AZURE_EMULATOR_STATE": str(settings.AZURE_EMULATOR_STATE),
        "Q_REAL_CLUSTER": "1",
        "DJANGO_LOG_LEVEL": "INFO",  # the cluster says "running." at INFO
        **extra,
    }


def wait_for_log(
    path: Path, text: str, process: subprocess.Popen[bytes], *, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise RuntimeError(f"qcluster exited with code {process.returncode} before {text!r}")
        time.sleep(0.1)
    raise RuntimeError(f"qcluster did not log {text!r} within {timeout:.0f} s")


def stop_cluster(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the cluster drains and exits), then SIGKILL the whole group if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(CLUSTER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        # A stop can hang (a django-q2 cluster whose idle worker died): the cluster has its
        # own session, so this kills its workers and nothing else.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
