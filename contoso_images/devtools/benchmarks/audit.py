"""How the audit record holds up: append rate, export of 100,000 events, pages, verification.

``manage.py benchmark`` runs :func:`run` in a child process whose database is a throw-away
SQLite file. Events can never be removed from an audit record, so ``run()`` refuses to run
anywhere but in that sandbox. The large log holds ten events per ``--vms`` (100,000 by
default), in a realistic mix of actions.
"""

from __future__ import annotations

import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contoso_images.audit.models import AuditEvent, Outcome
from contoso_images.audit.services import Subject, record, record_many
from contoso_images.audit.services.verification import chain_verify
from contoso_images.core.roles import AUDITORS

Rows = list[tuple[str, str]]

#: Set by ``manage.py benchmark`` in its sandbox child (see the command).
SANDBOX_MARKER = "CONTOSO_BENCHMARK_SANDBOX"
EVENTS_PER_VM = 10
SMALL_LOG = 1_000
SINGLE_APPENDS = 2_000
PROCESSES = 4
APPENDS_PER_PROCESS = 500
SEED_BATCH = 5_000
REQUESTS_PER_FIGURE = 5
HOST = "localhost"
RSS_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

WORKER = """
import os, sys, time
from pathlib import Path
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contoso_images.settings")
import django
django.setup()
from contoso_images.audit.services import Subject, record
count, label, go = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
while not go.exists():
    time.sleep(0.002)
for i in range(count):
    record(action="benchmark.concurrent_append", target=Subject(kind="benchmark", id=f"{label}:{i}",
           name=label), parameters={"worker": label, "i": i})
"""


def run(*, vms: int = 10_000, progress: Callable[[str], None] | None = None) -> Rows:
    """Return ``(label, value)`` rows for the benchmark command."""
    if os.environ.get(SANDBOX_MARKER) != "1":
        raise RuntimeError(
            "The audit benchmark appends events that can never be removed; run it through "
            "`manage.py benchmark`, which gives it a temporary database."
        )
    say = progress or (lambda _message: None)
    large = max(SMALL_LOG * 10, vms * EVENTS_PER_VM)
    with override_settings(AUDIT_CHECKPOINT_KEY=secrets.token_urlsafe(32)):
        return _measure(large=large, say=say)


def _measure(*, large: int, say: Callable[[str], None]) -> Rows:
    rows: Rows = []
    client = _auditor_client()

    say(f"pages at {SMALL_LOG:,} events")
    _seed_to(SMALL_LOG)
    small_count = AuditEvent.objects.count()
    small = _page_figures(client)

    say(f"append rate, one process ({SINGLE_APPENDS:,} events)")
    started = time.perf_counter()
    for i in range(SINGLE_APPENDS):
        record(
            action="benchmark.append",
            target=Subject(kind="benchmark", id=f"single:{i}", name="single"),
            parameters={"i": i},
        )
    single = SINGLE_APPENDS / (time.perf_counter() - started)
    say(f"append rate, {PROCESSES} processes × {APPENDS_PER_PROCESS}")
    concurrent = _concurrent_appends()
    report = chain_verify(source="benchmark")
    rows += [
        ("append rate, 1 process, one transaction each (events/s)", f"{single:,.0f}"),
        (
            f"append rate, {PROCESSES} processes at once, one transaction each (events/s)",
            f"{concurrent:,.0f}",
        ),
        ("chain intact after the concurrent appends", "yes" if report.ok else "NO"),
    ]

    say(f"seeding up to {large:,} events")
    seeded, seconds = _seed_to(large)
    total = AuditEvent.objects.count()
    rows.append(
        (f"bulk append (record_many) of {seeded:,} events (events/s)", f"{seeded / seconds:,.0f}")
    )
    say(f"pages at {total:,} events")
    big = _page_figures(client)
    for label in small:
        rows.append(
            (
                f"{label} @ {small_count:,} / {total:,} events: median (ms)",
                f"{small[label][0]:.1f} / {big[label][0]:.1f}",
            )
        )
        rows.append(
            (
                f"{label} @ {small_count:,} / {total:,} events: queries",
                f"{small[label][1]} / {big[label][1]}",
            )
        )

    for fmt in ("csv", "jsonl"):
        say(f"export of {total:,} events as {fmt}")
        rows += _export_figures(client, fmt)

    say(f"verification of {total:,} events")
    started = time.perf_counter()
    report = chain_verify(source="benchmark")
    elapsed = time.perf_counter() - started
    rows += [
        (f"audit_verify of {report.events:,} events (s)", f"{elapsed:.2f}"),
        ("chain intact", "yes" if report.ok else f"NO: {report.first_problem}"),
    ]
    return rows


# --- Appends --------------------------------------------------------------------------------


def _concurrent_appends() -> float:
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        go = Path(tmp) / "go"
        workers = [
            subprocess.Popen(  # noqa: S603 - our own interpreter and code, fixed arguments
                [sys.executable, "-c", WORKER, str(APPENDS_PER_PROCESS), f"w{n}", str(go)],
                cwd=settings.BASE_DIR,
                env=os.environ.copy(),
            )
            for n in range(PROCESSES)
        ]
        time.sleep(4)  # every process has imported Django and waits for the signal
        started = time.perf_counter()
        go.touch()
        codes = [worker.wait(timeout=600) for worker in workers]
        elapsed = time.perf_counter() - started
    if any(codes):
        raise RuntimeError(f"an appending process failed: exit codes {codes}")
    return PROCESSES * APPENDS_PER_PROCESS / elapsed


ACTORS = [("olivia", "Olivia Operator"), ("omar", "Omar Ops"), ("rui", "Rui Reviewer")]
VERBS = ["deallocate", "start", "power_off", "restart", "capture"]


def _entries(start: int, count: int) -> Iterator[dict[str, Any]]:
    """A realistic mix: requests, steps, ends with ARM errors now and then, sign-ins."""
    users = _users()
    for n in range(start, start + count):
        verb = VERBS[n % len(VERBS)]
        vm = f"vm-{n % 3000:05d}"
        target = Subject(
            kind="Microsoft.Compute/virtualMachines",
            id=f"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/"
            f"rg-{n % 40:02d}/providers/Microsoft.Compute/virtualMachines/{vm}",
            name=vm,
        )
        phase = n % 4
        entry: dict[str, Any] = {"actor": users[n % len(users)], "target": target}
        if phase == 0:
            entry.update(
                action=f"vm.{verb}.requested",
                outcome=Outcome.ACCEPTED,
                parameters={"power_state_when_requested": "running"},
                operation=n,
            )
        elif phase == 1:
            entry.update(action=f"vm.{verb}.step.{verb}.succeeded", duration=12.5, operation=n)
        elif phase == 2 and n % 20 == 2:
            entry.update(
                action=f"vm.{verb}.failed",
                outcome=Outcome.FAILED,
                error_code="OperationNotAllowed",
                error_message="Operation 'Start VM' is not allowed since the VM is generalized.",
                request_id=f"{n:08d}-0000-0000-0000-000000000000",
                duration=31.0,
                operation=n,
            )
        elif phase == 2:
            entry.update(action=f"vm.{verb}.succeeded", duration=31.0, operation=n)
        else:
            entry.update(action="auth.login", target=Subject(kind="user", name="olivia"))
        yield entry


def _users() -> list[Any]:
    model = get_user_model()
    users = []
    for username, name in ACTORS:
        first, last = name.split(" ", 1)
        user, _ = model.objects.get_or_create(
            username=f"benchmark-{username}", defaults={"first_name": first, "last_name": last}
        )
        users.append(user)
    return users


def _seed_to(total: int) -> tuple[int, float]:
    have = AuditEvent.objects.count()
    started = time.perf_counter()
    start = have
    while start < total:
        count = min(SEED_BATCH, total - start)
        record_many(_entries(start, count))
        start += count
    return max(0, total - have), max(time.perf_counter() - started, 1e-9)


# --- Pages ----------------------------------------------------------------------------------


def _auditor_client() -> Client:
    user, _ = get_user_model().objects.get_or_create(username="benchmark-auditor")
    user.groups.add(Group.objects.get(name=AUDITORS))
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def _page_figures(client: Client) -> dict[str, tuple[float, int]]:
    index = reverse("audit:audit_index")
    pages = {
        "log page 1": index,
        "log page 20": f"{index}?page=20",
        "log filtered (action, outcome)": f"{index}?action=vm.start&outcome=failed",
        "log free-text search": f"{index}?q=OperationNotAllowed",
        "capture history": reverse("audit:capture_history"),
        "event page": reverse("audit:event_detail", args=[SMALL_LOG // 2]),
    }
    return {label: _get_figures(client, url) for label, url in pages.items()}


def _get_figures(client: Client, url: str) -> tuple[float, int]:
    """Median time of five GETs after one warm-up, with the query count of the last one."""
    _get(client, url)
    times = []
    for _ in range(REQUESTS_PER_FIGURE):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            _get(client, url)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), len(queries)


def _get(client: Client, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response


# --- Export ---------------------------------------------------------------------------------


def _rss() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * RSS_PAGE
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _export(client: Client, fmt: str) -> tuple[int, int, int]:
    """Stream one export to nowhere: (bytes, lines, peak RSS growth in bytes)."""
    response: Any = client.post(reverse("audit:audit_export"), {"format": fmt})
    if response.status_code != 200 or not response.streaming:
        raise RuntimeError(f"export answered {response.status_code}")
    before = peak = _rss()
    size = lines = 0
    for n, chunk in enumerate(response.streaming_content):
        size += len(chunk)
        lines += chunk.count(b"\n")
        if n % 20 == 0:
            peak = max(peak, _rss())
    response.close()
    return size, lines, max(peak, _rss()) - before


def _export_figures(client: Client, fmt: str) -> Rows:
    started = time.perf_counter()
    size, lines, rss_growth = _export(client, fmt)
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    try:
        _export(client, fmt)
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    events = lines - 1 if fmt == "csv" else lines
    return [
        (f"export {fmt} of {events:,} events: time (s)", f"{elapsed:.2f}"),
        (f"export {fmt}: size (MB)", f"{size / 1e6:.1f}"),
        (f"export {fmt}: peak Python memory while streaming (MB)", f"{traced_peak / 1e6:.1f}"),
        (f"export {fmt}: resident memory growth (MB, goal < 50)", f"{rss_growth / 1e6:.1f}"),
    ]
