"""How fast a full inventory sync keeps up at scale, next to the cost of just reading Azure.

The sync runs in a child process of its own (a temporary SQLite database and ARM emulator),
so its peak memory is its own and not the benchmark's, and nothing of the demo is touched.
Figures: the full sync's wall and CPU time; a baseline that fetches the very same listing
pages straight from the emulator and parses them into the gateway's frozen types (no SDK
models, no database), and the ratio of the two; the child's peak resident memory; ARM
requests against ``1 + ceil(n / page size)`` per subscription; and a second sync with
nothing changed. ``manage.py benchmark --only sync --vms 500`` runs it in seconds.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings

Rows = list[tuple[str, str]]

LIST_SUFFIX = "/providers/microsoft.compute/virtualmachines"
CHILD_TIMEOUT = 3600


def run(*, vms: int = 100_000, progress: Callable[[str], None] | None = None) -> Rows:
    """Return ``(label, value)`` rows for the benchmark command."""
    from contoso_images.arm_emulator import Emulator

    say = progress or (lambda _message: None)
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        state = Path(tmp) / "arm-emulator.sqlite3"
        say(f"seeding {vms:,} extra VMs")
        emulator = Emulator(str(state))
        emulator.reset()
        emulator.seed_contoso_pilot(extra_vms=vms)
        emulator.set_durations(all=0)
        env = _child_environment(Path(tmp), state)
        say("migrating the sync's own database")
        subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "migrate", "-v", "0"],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
        )
        say("full sync, fetch+parse baseline and repeat sync in a child process")
        figures = _run_child(env, Path(tmp) / "figures.json")
    return _rows(figures)


def _child_environment(tmp: Path, state: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'sync.sqlite3'}",
        "AZURE_MODE": "emulator",
        "AZURE_EMULATOR_STATE": str(state),
        "AZURE_SUBSCRIPTION_IDS": "",
        "DJANGO_LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
    }


def _run_child(env: dict[str, str], out: Path) -> dict[str, Any]:
    """Run :func:`child_main` in a fresh interpreter; its figures."""
    code = f"from {__name__} import child_main; child_main({str(out)!r})"
    try:
        subprocess.run(  # noqa: S603 - this interpreter, fixed code
            [sys.executable, "-c", code],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
            timeout=CHILD_TIMEOUT,
        )
    except subprocess.SubprocessError as exc:
        raise RuntimeError(f"The sync benchmark's child process failed: {exc}") from exc
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def child_main(out: str) -> None:
    """In the child: set Django up, then measure. Writes the figures as JSON to ``out``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contoso_images.settings")
    import django

    django.setup()
    Path(out).write_text(json.dumps(_measure()))


def _maxrss_kb() -> int:
    """This process's peak resident memory (KiB) since it started.

    Linux's ``VmHWM`` starts afresh at exec; ``ru_maxrss`` would carry over the parent's
    peak (the benchmark that seeded the emulator), so it is only the fallback."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def _measure() -> dict[str, Any]:
    from contoso_images import azure
    from contoso_images.arm_emulator import Emulator
    from vmops.models import VirtualMachine
    from vmops.services import inventory_sync_all

    emulator = Emulator(settings.AZURE_EMULATOR_STATE)
    subscription_ids = emulator.subscription_ids()
    for subscription_id in subscription_ids:
        azure.compute_client(subscription_id)  # build the SDK clients outside the timing
    setup_kb = _maxrss_kb()
    emulator.clear_request_log()

    results, sync_wall, sync_cpu = _timed(lambda: inventory_sync_all(force=True))
    sync_kb = _maxrss_kb()
    log = emulator.request_log()
    listing_urls = _first_listing_urls(log)

    listed, base_wall, base_cpu = _timed(lambda: _fetch_and_parse(emulator, listing_urls))
    _, repeat_wall, repeat_cpu = _timed(lambda: inventory_sync_all(force=True))
    per_subscription = {
        sid: VirtualMachine.objects.filter(subscription__subscription_id=sid).count()
        for sid in subscription_ids
    }
    return {
        "vms": sum(per_subscription.values()),
        "subscriptions": len(subscription_ids),
        "errors": [str(r) for r in results if getattr(r, "error", "")],
        "created": sum(getattr(r, "created", 0) for r in results),
        "sync_wall": sync_wall,
        "sync_cpu": sync_cpu,
        "base_wall": base_wall,
        "base_cpu": base_cpu,
        "base_listed": listed,
        "repeat_wall": repeat_wall,
        "repeat_cpu": repeat_cpu,
        "requests": len(log),
        "expected_requests": 1
        + sum(max(1, math.ceil(n / emulator.page_size)) for n in per_subscription.values()),
        "page_size": emulator.page_size,
        "setup_kb": setup_kb,
        "sync_kb": sync_kb,
        "peak_kb": _maxrss_kb(),
    }


def _first_listing_urls(log: list[Any]) -> list[str]:
    """The first page of each subscription's VM listing, as the sync asked for it."""
    urls = []
    for entry in log:
        path = entry.path.split("?")[0].lower()
        if entry.method == "GET" and path.endswith(LIST_SUFFIX) and "skiptoken" not in entry.path:
            urls.append(f"https://management.azure.com{entry.path}")
    return urls


def _fetch_and_parse(emulator: Any, urls: list[str]) -> int:
    """Every page of each listing straight from the emulator, parsed into the gateway's
    ``VirtualMachine``: what a sync cannot avoid doing, with no SDK and no database."""
    from contoso_images.azure.vms import vm_from_raw

    listed = 0
    headers = {"Authorization": "Bearer benchmark", "Accept": "application/json"}
    for url in urls:
        next_url: str | None = url
        while next_url:
            status, _, body = emulator.handle("GET", next_url, headers, None)
            if status != 200:
                raise RuntimeError(f"GET {next_url} answered {status}")
            page = json.loads(body)
            listed += len([vm_from_raw(raw) for raw in page.get("value") or []])
            next_url = page.get("nextLink")
    return listed


def _rows(f: dict[str, Any]) -> Rows:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    vms = f"{f['vms']:,} VMs"
    ratio = f["sync_wall"] / f["base_wall"] if f["base_wall"] else float("nan")
    cpu_ratio = f["sync_cpu"] / f["base_cpu"] if f["base_cpu"] else float("nan")
    rows: Rows = [
        ("machine: cores / load average (1, 5, 15 min)", f"{os.cpu_count()} / {load}"),
        (
            f"VMs in {f['subscriptions']} subscriptions / new at the first sync",
            f"{vms} / {f['created']:,}",
        ),
        (f"full sync of {vms}: wall / CPU (s)", f"{f['sync_wall']:.2f} / {f['sync_cpu']:.2f}"),
        (
            "fetch+parse of the same pages, no SDK models, no DB: wall / CPU (s)",
            f"{f['base_wall']:.2f} / {f['base_cpu']:.2f}",
        ),
        ("full sync / fetch+parse: wall / CPU", f"{ratio:.2f} / {cpu_ratio:.2f}"),
        (
            "peak RSS of the sync process (MB): after set-up / full sync / whole run",
            f"{f['setup_kb'] / 1024:.0f} / {f['sync_kb'] / 1024:.0f} / {f['peak_kb'] / 1024:.0f}",
        ),
        ("ARM requests of the full sync", str(f["requests"])),
        (
            f"  expected: 1 (subscriptions) + ceil(n / {f['page_size']}) per subscription",
            str(f["expected_requests"]),
        ),
        (
            "repeat full sync, nothing changed: wall / CPU (s)",
            f"{f['repeat_wall']:.2f} / {f['repeat_cpu']:.2f}",
        ),
    ]
    if f["errors"]:
        rows.append(("sync errors", "; ".join(f["errors"])))
    return rows
