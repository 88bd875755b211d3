"""In process or over HTTPS: the same inventory sync and the same clicks, side by side.

The production path (``AZURE_MODE=azure`` against the emulator served by ``emulator_serve``:
TLS, ``ClientSecretCredential`` tokens checked on every request, JSON over sockets) against
the in-process transport the unit tests use, on one seeded tenant (the pilot plus ``vms``
extra VMs, durations zero):

* a full inventory sync into an empty inventory, and a repeat sync where nothing changed;
* click-to-task-start (and click-to-done) of deallocations through a real ``qcluster`` whose
  environment says the transport, as the demo's does.

The core count and the load average are printed with the figures (the machine is shared:
read the two columns against each other, not against another day's run). ``manage.py
benchmark`` runs :func:`run` in a child process whose database is a temporary SQLite file;
outside that sandbox it refuses a database that already holds VMs.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from contoso_images import azure
from contoso_images.devtools.benchmarks.vmops import _one_click, _operator_client
from contoso_images.devtools.cluster import cluster_environment, stop_cluster, wait_for_log
from contoso_images.devtools.local_cloud import start_emulator_server
from contoso_images.operations.models import Operation, OperationStatus
from vmops import services
from vmops.choices import PowerState
from vmops.models import VirtualMachine

Rows = list[tuple[str, str]]

CLICKS = 5
CLUSTER_START_TIMEOUT = 60.0
SANDBOX_MARKER = "CONTOSO_BENCHMARK_SANDBOX"
IN_PROCESS, HTTPS = "in process", "HTTPS"


def run(
    *, vms: int = 10_000, cluster: bool = True, progress: Callable[[str], None] | None = None
) -> Rows:
    """Return ``(label, value)`` rows for the benchmark command."""
    from contoso_images.arm_emulator import Emulator

    if os.environ.get(SANDBOX_MARKER) != "1" and VirtualMachine.objects.exists():
        raise RuntimeError(
            "This benchmark empties the VM inventory; run `manage.py benchmark`, which gives "
            "it a temporary database."
        )
    say = progress or (lambda _message: None)
    rows: Rows = [("machine", _machine())]
    with tempfile.TemporaryDirectory(prefix="transport-bench-") as tmp:
        state = Path(tmp) / "arm-emulator.sqlite3"
        emulator = Emulator(str(state))
        emulator.reset()
        emulator.set_durations(all=0)
        emulator.seed_contoso_pilot(extra_vms=vms)
        say(f"serving {state.name} over HTTPS")
        cloud = start_emulator_server(state, tls_dir=Path(tmp) / "tls", stdout=subprocess.DEVNULL)
        try:
            transports = {
                IN_PROCESS: {"AZURE_MODE": "emulator"},
                HTTPS: cloud.settings(),
            }
            syncs = {}
            for name, values in transports.items():
                say(f"inventory sync, {name}")
                with _gateway(state, values):
                    syncs[name] = _sync_figures(emulator)
            rows += _side_by_side(
                [
                    (f"first sync of {syncs[IN_PROCESS]['vms']:,} VMs, all new (s)", "first"),
                    ("repeat sync, nothing changed (s)", "repeat"),
                    ("ARM requests per sync", "requests"),
                ],
                syncs,
            )
            if not cluster:
                rows.append(("click-to-task-start", "skipped (--skip-cluster)"))
            elif _tasks_inline():
                rows.append(("click-to-task-start", "skipped (tasks run inline: sync mode)"))
            else:
                clicks = {}
                for name, values in transports.items():
                    say(f"click-to-task-start through a real qcluster, {name}")
                    with _gateway(state, values):
                        clicks[name] = _click_figures(emulator, values, state, Path(tmp))
                rows += _side_by_side(
                    [
                        ("qcluster start until 'running.' (s)", "startup"),
                        (f"click-to-task-start, {CLICKS} deallocations: median (ms)", "start"),
                        (f"click-to-task-start, {CLICKS} deallocations: max (ms)", "start_max"),
                        (f"click-to-done, {CLICKS} deallocations: median (ms)", "done"),
                        ("deallocations succeeded", "succeeded"),
                    ],
                    clicks,
                )
        finally:
            cloud.stop()
    rows.append(("machine at the end", _machine()))
    rows.append(("HTTPS endpoint", f"{cloud.base_url} (emulator_serve, verified TLS)"))
    return rows


def _machine() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.2f} / {five:.2f} / {fifteen:.2f}"


def _side_by_side(labels: list[tuple[str, str]], figures: dict[str, dict[str, Any]]) -> Rows:
    rows: Rows = [("(side by side)", f"{IN_PROCESS:>12} | {HTTPS:>8}")]
    for label, key in labels:
        values = [figures[name][key] for name in (IN_PROCESS, HTTPS)]
        cells = [
            f"{v:,.2f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)
            for v in values
        ]
        rows.append((label, f"{cells[0]:>12} | {cells[1]:>8}"))
    return rows


@contextmanager
def _gateway(state: Path, values: dict[str, str]) -> Iterator[None]:
    """This process's gateway on one transport (the cluster gets the same as environment)."""
    with override_settings(AZURE_EMULATOR_STATE=str(state), AZURE_SUBSCRIPTION_IDS=[], **values):
        azure.clear_client_cache()
        try:
            yield
        finally:
            azure.clear_client_cache()


def _sync_figures(emulator: Any) -> dict[str, Any]:
    VirtualMachine.objects.all().delete()  # the same start for both transports
    emulator.clear_request_log()
    started = time.perf_counter()
    results = services.inventory_sync_all(force=True)
    first = time.perf_counter() - started
    requests = len(emulator.request_log())
    started = time.perf_counter()
    services.inventory_sync_all(force=True)
    repeat = time.perf_counter() - started
    listed = sum(r.listed for r in results)
    return {"vms": listed, "first": first, "repeat": repeat, "requests": requests}


def _tasks_inline() -> bool:
    from django_q.conf import Conf

    return bool(Conf.SYNC)


def _click_figures(emulator: Any, values: dict[str, str], state: Path, tmp: Path) -> dict[str, Any]:
    from django_q.models import Schedule

    # Only the clicks should keep the cluster busy: no scheduled sync in the middle.
    Schedule.objects.update(next_run=timezone.now() + timedelta(days=1))
    services.inventory_sync_all(force=True)
    candidates = list(
        VirtualMachine.objects.filter(
            power_state=PowerState.STOPPED, gone_at__isnull=True, generalized=False
        ).order_by("pk")[:CLICKS]
    )
    client = _operator_client()
    log_path = tmp / f"qcluster-{values['AZURE_MODE']}.log"
    environment = cluster_environment(AZURE_EMULATOR_STATE=str(state), **values)
    with log_path.open("wb") as log:
        started = time.perf_counter()
        cluster = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "qcluster"],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_log(log_path, "running.", cluster, timeout=CLUSTER_START_TIMEOUT)
            startup = time.perf_counter() - started
            starts, dones = [], []
            for vm in candidates:
                clicked = time.perf_counter()
                starts.append(_one_click(client, vm) * 1000)  # returns once it is done
                dones.append((time.perf_counter() - clicked) * 1000)
        except Exception:
            sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
            raise
        finally:
            stop_cluster(cluster)
    keys = [vm.azure_id for vm in candidates]
    succeeded = Operation.objects.filter(
        target_key__in=keys, status=OperationStatus.SUCCEEDED
    ).count()
    return {
        "startup": startup,
        "start": statistics.median(starts),
        "start_max": max(starts),
        "done": statistics.median(dones),
        "succeeded": f"{succeeded} / {len(keys)}",
    }
