"""How the audit record holds up at 1,000,000 events: appends, pages, free text, the capture
history, the export's memory, verification.

``manage.py benchmark`` runs :func:`run` in a child process whose database is a throw-away
SQLite file. Events can never be removed from an audit record, so ``run()`` refuses to run
anywhere but in that sandbox. The large log holds ``events`` events (1,000,000 by default,
``--audit-events``), in a realistic mix of actions; ``quick`` runs every step on a few
thousand, to show that nothing is broken (its times are not judged).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.template import Context, Template
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contoso_images.audit import search
from contoso_images.audit.models import AuditEvent, Outcome
from contoso_images.audit.services import Subject, record, record_many
from contoso_images.audit.services.verification import chain_verify
from contoso_images.core.roles import AUDITORS

Rows = list[tuple[str, str]]

#: Set by ``manage.py benchmark`` in its sandbox child (see the command).
SANDBOX_MARKER = "CONTOSO_BENCHMARK_SANDBOX"
LARGE_LOG = 1_000_000
QUICK_LOG = 1_000
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


@dataclass(frozen=True)
class Sizes:
    """How much each step does: the full run's, or the quick run's (``--quick``)."""

    small_log: int = SMALL_LOG
    single_appends: int = SINGLE_APPENDS
    processes: int = PROCESSES
    appends_per_process: int = APPENDS_PER_PROCESS
    #: Seconds the appending processes get to import Django before the signal.
    warm_up: float = 4.0
    #: Timed GETs (after one warm-up) per page figure.
    requests: int = REQUESTS_PER_FIGURE


QUICK = Sizes(
    small_log=100, single_appends=20, processes=2, appends_per_process=10, warm_up=0, requests=1
)


def run(
    *,
    events: int = LARGE_LOG,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Rows:
    """Return ``(label, value)`` rows for the benchmark command."""
    if os.environ.get(SANDBOX_MARKER) != "1":
        raise RuntimeError(
            "The audit benchmark appends events that can never be removed; run it through "
            "`manage.py benchmark`, which gives it a temporary database."
        )
    say = progress or (lambda _message: None)
    sizes = QUICK if quick else Sizes()
    large = QUICK_LOG if quick else max(sizes.small_log * 10, events)
    with override_settings(AUDIT_CHECKPOINT_KEY=secrets.token_urlsafe(32)):
        return _measure(large=large, sizes=sizes, say=say)


def _single_appends(count: int, label: str) -> float:
    """Events per second appended one by one, one transaction each (as actions record)."""
    started = time.perf_counter()
    for i in range(count):
        record(
            action="benchmark.append",
            target=Subject(kind="benchmark", id=f"{label}:{i}", name=label),
            parameters={"i": i},
        )
    return count / (time.perf_counter() - started)


def _measure(*, large: int, sizes: Sizes, say: Callable[[str], None]) -> Rows:
    rows: Rows = []
    client = _auditor_client()

    say(f"pages at {sizes.small_log:,} events")
    _seed_to(sizes.small_log)
    small_count = AuditEvent.objects.count()
    small = _page_figures(client, sizes.requests)

    say(f"append rate, one process ({sizes.single_appends:,} events)")
    single = _single_appends(sizes.single_appends, "single")
    say(f"append rate, {sizes.processes} processes × {sizes.appends_per_process}")
    concurrent = _concurrent_appends(sizes)
    # What the worker does after every search.INDEX_EVERY single appends (no worker runs here).
    search.catch_up()
    report = chain_verify(source="benchmark")
    rows += [
        (
            f"append rate @ {small_count:,} events, 1 process, one transaction each (events/s)",
            f"{single:,.0f}",
        ),
        (
            f"append rate, {sizes.processes} processes at once, one transaction each (events/s)",
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
    say(f"append rate at {total:,} events")
    single_large = _single_appends(sizes.single_appends, "large")
    rows.append(
        (
            f"append rate @ {total:,} events, 1 process, one transaction each (events/s)",
            f"{single_large:,.0f}",
        )
    )
    # As the worker leaves the index at its worst: caught up, then INDEX_EVERY - 1 single
    # appends it has not reached yet (searches scan those). Without a worker here the 2,000
    # appends above would all stay unindexed, which no running install sees.
    search.catch_up()
    _single_appends(search.INDEX_EVERY - 1, "tail")
    unindexed = AuditEvent.objects.count() - search.indexed_head()
    if connection.vendor != "sqlite":  # PostgreSQL's index is kept by the database itself
        unindexed = 0
    rows.append(("events the free-text index has not reached yet (scanned)", f"{unindexed:,}"))
    say(f"pages at {total:,} events")
    big = _page_figures(client, sizes.requests)
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

    say("rendering the log's rows")
    rows += _row_render_figures()

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


def _concurrent_appends(sizes: Sizes) -> float:
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        go = Path(tmp) / "go"
        workers = [
            subprocess.Popen(  # noqa: S603 - our own interpreter and code, fixed arguments
                [sys.executable, "-c", WORKER, str(sizes.appends_per_process), f"w{n}", str(go)],
                cwd=settings.BASE_DIR,
                env=os.environ.copy(),
            )
            for n in range(sizes.processes)
        ]
        time.sleep(sizes.warm_up)  # every process has imported Django and waits for the signal
        started = time.perf_counter()
        go.touch()
        codes = [worker.wait(timeout=600) for worker in workers]
        elapsed = time.perf_counter() - started
    if any(codes):
        raise RuntimeError(f"an appending process failed: exit codes {codes}")
    return sizes.processes * sizes.appends_per_process / elapsed


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


def _page_figures(client: Client, requests: int) -> dict[str, tuple[float, int]]:
    index = reverse("audit:audit_index")
    captures = reverse("audit:capture_history")
    pages = {
        "log page 1": index,
        "log page 20": f"{index}?page=20",
        "log filtered (action, outcome; goal <= 100 ms)": f"{index}?action=vm.start&outcome=failed",
        "log filtered (actor)": f"{index}?actor=benchmark-omar",
        "log free-text search (goal <= 100 ms)": f"{index}?q=OperationNotAllowed",
        "log free-text search, rare (a request id)": f"{index}?q=00000202-0000",
        "capture history (goal <= 100 ms)": captures,
        "capture history, failed": f"{captures}?outcome=failed",
        "event page": reverse("audit:event_detail", args=[100]),
    }
    return {label: _get_figures(client, url, requests) for label, url in pages.items()}


def _get_figures(client: Client, url: str, requests: int) -> tuple[float, int]:
    """Median time of some GETs after one warm-up, with the query count of the last one."""
    _get(client, url)
    times = []
    for _ in range(requests):
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


# --- Rows ---------------------------------------------------------------------------------

#: The log's cells with nothing but the values: what rendering a row cannot go below.
BARE_ROWS = Template(
    "{% for e in events %}<tr><td>{{ e.sequence }}</td><td>{{ e.occurred_at }}</td>"
    "<td>{{ e.actor_display }} {{ e.actor_username }} {{ e.source_ip }}</td>"
    "<td>{{ e.action }}</td><td>{{ e.target_name }} {{ e.target_kind }}</td>"
    "<td>{{ e.outcome }}</td><td>{{ e.detail }} {{ e.error_code }} {{ e.error_message }} "
    "{{ e.duration_ms }} {{ e.operation_id }}</td></tr>{% endfor %}"
)
RENDERS = 20


def _row_render_figures() -> Rows:
    """The log's rows as the page renders them, against a bare render of the same rows."""
    from django.template.loader import get_template
    from django.test import RequestFactory

    from contoso_images.audit.views import PAGE_SIZE, row_urls
    from contoso_images.core.navigation import ResourceLinks

    events = list(AuditEvent.objects.order_by("-sequence")[:PAGE_SIZE])
    user = get_user_model().objects.get(username="benchmark-auditor")
    request = RequestFactory().get("/audit/")
    request.user = user
    rows = get_template("audit/includes/event_rows.html")
    context = {"events": events, "row_urls": row_urls(), "resource_links": ResourceLinks(user)}

    def page() -> str:
        return rows.render(context, request)

    def bare() -> str:
        return BARE_ROWS.render(Context({"events": events}))

    page_ms, bare_ms = _median_ms(page), _median_ms(bare)
    return [
        (f"log rows, {len(events)} rendered as on the page: median (ms)", f"{page_ms:.2f}"),
        (f"log rows, {len(events)} rendered bare: median (ms)", f"{bare_ms:.2f}"),
        ("log rows ÷ bare render (goal <= 3)", f"{page_ms / bare_ms:.2f}"),
    ]


def _median_ms(render: Callable[[], str]) -> float:
    render()
    times = []
    for _ in range(RENDERS):
        started = time.perf_counter()
        render()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


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
