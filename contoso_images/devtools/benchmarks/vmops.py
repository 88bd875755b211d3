"""How vmops holds up at 10,000 VMs: list page, row polls, inventory sync, click-to-task-start.

``manage.py benchmark`` runs :func:`run` in a child process whose database is a throw-away
SQLite file. ``run()`` seeds its own temporary ARM emulator and refuses a database that
already holds VMs, so even called by hand it cannot change the demo's data.
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contoso_images import azure
from contoso_images.core.models import Subscription
from contoso_images.core.roles import OPERATORS
from contoso_images.devtools.benchmarks.previews import previewed_ids
from contoso_images.devtools.cluster import cluster_environment, stop_cluster, wait_for_log
from contoso_images.operations.models import Operation, OperationStatus
from vmops import services
from vmops.choices import PowerAction, PowerState
from vmops.columns import visible_columns
from vmops.models import BulkAction, VirtualMachine

Rows = list[tuple[str, str]]

SMALL_TENANT = 100
REQUESTS_PER_FIGURE = 5
CLICKS = 5
DB_POLL_SECONDS = 0.02
CLUSTER_START_TIMEOUT = 60.0
HOST = "localhost"
#: Stands in for a poller token on the row-poll operation, which no worker ever runs.
PLACEHOLDER_TOKEN = "benchmark-placeholder"  # noqa: S105 - not a secret

#: Sizes of the scaling figures (issue 19): whole-inventory figures, deep pages and search
#: must cost the same at both; a quick run passes smaller ones.
LIST_SMALL = 100
LIST_LARGE = 100_000
#: The list page against a bare render of the same fifty rows, at these sizes.
BARE_SIZES = (2_000, 20_000)
#: A search matching the same few VMs at every size (the filler never contains it).
LIST_SEARCH = "web"
DEEP_PAGE = 500
#: Turns of list page and bare render (alternating) behind the ratio.
BARE_ROUNDS = 11


def run(
    *,
    vms: int = 10_000,
    cluster: bool = True,
    progress: Callable[[str], None] | None = None,
    list_sizes: tuple[int, int] = (LIST_SMALL, LIST_LARGE),
    bare_sizes: tuple[int, ...] = BARE_SIZES,
    quick: bool = False,
) -> Rows:
    """Return ``(label, value)`` rows for the benchmark command (``quick``: the list scaling at
    small sizes too, to show that it runs)."""
    from contoso_images.arm_emulator import Emulator

    if VirtualMachine.objects.exists():
        raise RuntimeError(
            "This benchmark needs an empty database; run `manage.py benchmark`, "
            "which gives it a temporary one."
        )
    say = progress or (lambda _message: None)
    small, large = (100, 1_000) if quick else list_sizes
    if quick:
        bare_sizes = (200,)
    scaling = list_scaling(small=small, large=large, bare_sizes=bare_sizes, say=say)
    with tempfile.TemporaryDirectory(prefix="vmops-bench-") as tmp:
        state = Path(tmp) / "arm-emulator.sqlite3"
        emulator = Emulator(str(state))
        emulator.reset()
        emulator.set_durations(all=0)
        with override_settings(
            AZURE_MODE="emulator", AZURE_EMULATOR_STATE=str(state), AZURE_SUBSCRIPTION_IDS=[]
        ):
            azure.clear_client_cache()
            try:
                return scaling + _measure(
                    emulator, vms=vms, cluster=cluster, tmp=Path(tmp), say=say
                )
            finally:
                azure.clear_client_cache()


def _measure(
    emulator: Any, *, vms: int, cluster: bool, tmp: Path, say: Callable[[str], None]
) -> Rows:
    rows: Rows = []
    client = _operator_client()
    list_url = reverse("vmops:vm_list")

    say(f"list page at {SMALL_TENANT} VMs")
    pilot = emulator.seed_contoso_pilot()["virtual_machines"]
    emulator.seed_contoso_pilot(extra_vms=max(0, SMALL_TENANT - pilot))
    services.inventory_sync_all(force=True)
    small_count = _live_vms()
    small = _get_figures(client, list_url)

    say(f"inventory sync of {vms:,} extra VMs")
    emulator.seed_contoso_pilot(extra_vms=vms)
    emulator.clear_request_log()
    started = time.perf_counter()
    results = services.inventory_sync_all(force=True)
    first_sync = time.perf_counter() - started
    requests = len(emulator.request_log())
    expected = 1 + sum(math.ceil(r.listed / emulator.page_size) for r in results)
    created = sum(r.created for r in results)
    started = time.perf_counter()
    services.inventory_sync_all(force=True)
    repeat_sync = time.perf_counter() - started
    large_count = _live_vms()

    say(f"list page at {large_count:,} VMs")
    large = _get_figures(client, list_url)
    page_two = _get_figures(client, f"{list_url}?page=2")
    filtered = _get_figures(client, f"{list_url}?power_state=billed&sort=-size")

    small_label, large_label = f"{small_count:,} VMs", f"{large_count:,} VMs"
    rows += [
        (f"list page @ {small_label}: median of {REQUESTS_PER_FIGURE} (ms)", _ms(small.ms)),
        (f"list page @ {small_label}: queries", str(small.queries)),
        (f"list page @ {large_label}: median of {REQUESTS_PER_FIGURE} (ms)", _ms(large.ms)),
        (f"list page @ {large_label}: queries", str(large.queries)),
        ("list page time ratio (large / small)", f"{large.ms / small.ms:.2f}"),
        ("list page query ratio (large / small)", f"{large.queries / small.queries:.2f}"),
        ("list page columns (the defaults)", _default_columns()),
        (f"list page @ {large_label}: size (bytes)", f"{large.size:,}"),
        (
            f"list page 2 @ {large_label}: median (ms) / queries",
            f"{_ms(page_two.ms)} / {page_two.queries}",
        ),
        (
            f"filtered page (billed, by size) @ {large_label}: median (ms) / queries",
            f"{_ms(filtered.ms)} / {filtered.queries}",
        ),
    ]

    say("row polls")
    rows += _row_poll_sizes(client)

    rows += [
        ("ARM requests per full sync", str(requests)),
        (f"expected: 1 + ceil(n / {emulator.page_size}) per subscription", str(expected)),
        (f"full sync of {large_label}, {created:,} of them new (s)", f"{first_sync:.2f}"),
        ("repeat full sync, nothing changed (s)", f"{repeat_sync:.2f}"),
    ]

    if not cluster:
        rows.append(("click-to-task-start latency", "skipped (--skip-cluster)"))
        return rows
    from django_q.conf import Conf

    if Conf.SYNC:
        rows.append(("click-to-task-start latency", "skipped (tasks run inline: sync mode)"))
        return rows
    say("click-to-task-start latency through a real qcluster")
    rows += _click_to_task_start(client, emulator, tmp)
    return rows


# --- Helpers --------------------------------------------------------------------------------


def _default_columns() -> str:
    return ", ".join(c.label.lower() for c in visible_columns(None)) + ", actions"


@dataclass(frozen=True)
class _Figures:
    ms: float
    queries: int
    size: int
    #: The fastest of the requests: on a shared, busy machine the steadier figure.
    best: float = 0.0


def _operator_client() -> Client:
    user, _ = get_user_model().objects.get_or_create(username="benchmark-operator")
    user.groups.add(Group.objects.get(name=OPERATORS))
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def _live_vms() -> int:
    return VirtualMachine.objects.filter(gone_at__isnull=True).count()


def _get_figures(client: Client, url: str, **headers: str) -> _Figures:
    """Median time of five GETs after one warm-up, with the query count of the last one."""
    _get(client, url, headers)
    times = []
    for _ in range(REQUESTS_PER_FIGURE):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = _get(client, url, headers)
            times.append((time.perf_counter() - started) * 1000)
    return _Figures(statistics.median(times), len(queries), len(response.content), min(times))


def _get(client: Client, url: str, headers: dict[str, str]) -> Any:
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response


def _ms(value: float) -> str:
    return f"{value:.1f}"


def _row_poll_sizes(client: Client) -> Rows:
    """Bytes a polling row costs, for a VM that is mid-operation and for one that is idle."""
    busy_vm, idle_vm = VirtualMachine.objects.filter(
        power_state=PowerState.RUNNING, gone_at__isnull=True
    ).order_by("pk")[:2]
    now = timezone.now()
    # What the worker has written a few seconds into a deallocation.
    target = busy_vm.target
    Operation.objects.create(
        kind=PowerAction.DEALLOCATE.operation_kind,
        status=OperationStatus.RUNNING,
        requested_at=now,
        started_at=now,
        attempts=1,
        target_id=target.id,
        target_key=target.key,
        target_type=target.type,
        target_name=target.name,
        target_resource_group=target.resource_group,
        target_subscription_id=target.subscription_id,
        continuation_token=PLACEHOLDER_TOKEN,
        progress_message="Azure reports the operation in progress (12 s so far).",
        lease_until=now + timedelta(minutes=5),
    )
    VirtualMachine.objects.filter(pk=busy_vm.pk).update(power_state=PowerState.DEALLOCATING)
    hx = {"HX-Request": "true"}
    busy = _get(client, reverse("vmops:vm_row", args=[busy_vm.pk]), hx)
    idle = _get(client, reverse("vmops:vm_row", args=[idle_vm.pk]), hx)
    return [
        ("row poll, VM with an unfinished operation (bytes)", f"{len(busy.content):,}"),
        ("row poll, VM without one (bytes)", f"{len(idle.content):,}"),
    ]


# --- Click-to-task-start through a real cluster ---------------------------------------------


def _click_to_task_start(client: Client, emulator: Any, tmp: Path) -> Rows:
    from django_q.models import Schedule

    # Only the clicks should keep the cluster busy: no scheduled sync in the middle.
    Schedule.objects.update(next_run=timezone.now() + timedelta(days=1))
    candidates = list(
        VirtualMachine.objects.filter(
            power_state=PowerState.STOPPED, gone_at__isnull=True, generalized=False
        ).order_by("pk")[:CLICKS]
    )
    log_path = tmp / "qcluster.log"
    with log_path.open("wb") as log:
        started = time.perf_counter()
        cluster = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "qcluster"],
            cwd=settings.BASE_DIR,
            env=cluster_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_log(log_path, "running.", cluster, timeout=CLUSTER_START_TIMEOUT)
            startup = time.perf_counter() - started
            emulator.clear_request_log()
            latencies = [_one_click(client, vm) for vm in candidates]
            sent = _deallocate_posts(emulator)
            bulk_rows = _bulk_deallocation(client, emulator)
            multi_rows = _multi_select(client, emulator)
        except Exception:
            sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
            raise
        finally:
            stop_cluster(cluster)
    ms = [seconds * 1000 for seconds in latencies]
    succeeded = Operation.objects.filter(
        target_key__in=[vm.azure_id for vm in candidates], status=OperationStatus.SUCCEEDED
    ).count()
    return [
        ("qcluster start until 'running.' (s)", f"{startup:.2f}"),
        (f"click-to-task-start, {len(ms)} deallocations: median (ms)", _ms(statistics.median(ms))),
        (f"click-to-task-start, {len(ms)} deallocations: max (ms)", _ms(max(ms))),
        ("deallocations succeeded / POSTs sent to ARM", f"{succeeded} / {sent}"),
        *bulk_rows,
        *multi_rows,
    ]


def _deallocate_posts(emulator: Any) -> int:
    return sum(
        1
        for entry in emulator.request_log()
        if entry.method == "POST" and entry.path.split("?")[0].endswith("/deallocate")
    )


BULK_VMS = 10
BULK_SECONDS = 10


def _bulk_deallocation(client: Client, emulator: Any) -> Rows:
    """Many long operations on few workers: hand-offs let them run side by side."""
    vms = list(
        VirtualMachine.objects.filter(
            power_state=PowerState.RUNNING, gone_at__isnull=True, generalized=False
        ).order_by("-pk")[:BULK_VMS]
    )
    emulator.set_durations(deallocate=BULK_SECONDS)
    emulator.clear_request_log()
    started = time.perf_counter()
    for vm in vms:
        url = reverse("vmops:vm_action", args=[vm.pk, PowerAction.DEALLOCATE])
        # A running VM's deallocation asks first: the button's answer comes with the POST.
        response = client.post(url, {"confirm": "yes"}, headers={"HX-Request": "true"})
        if response.status_code != 200:
            raise RuntimeError(f"deallocate {vm.name} was refused")
    keys = [vm.azure_id for vm in vms]
    _wait_for(
        lambda: (
            not Operation.objects.filter(target_key__in=keys, finished_at__isnull=True).exists()
        ),
        what="the bulk deallocation to finish",
        timeout=BULK_VMS * BULK_SECONDS,
    )
    elapsed = time.perf_counter() - started
    emulator.set_durations(all=0)
    operations = Operation.objects.filter(target_key__in=keys)
    succeeded = operations.filter(status=OperationStatus.SUCCEEDED).count()
    sent = _deallocate_posts(emulator)
    workers = settings.Q_WORKERS
    return [
        (
            f"{BULK_VMS} deallocations of {BULK_SECONDS} s on {workers} workers: wall time (s)",
            f"{elapsed:.1f}",
        ),
        (
            "  one worker per operation until it ends would need at least (s)",
            f"{BULK_VMS / workers * BULK_SECONDS:.0f}",
        ),
        (
            "  succeeded / deallocate POSTs / hand-offs",
            f"{succeeded} / {sent} / {sum(operations.values_list('handoffs', flat=True))}",
        ),
    ]


#: A search matching exactly 1,000 of the filler VMs (vm-fleet-01000 to vm-fleet-01999).
MULTI_SELECT_QUERY = "vm-fleet-01"
MULTI_SELECT_TIMEOUT = 900.0


def _multi_select(client: Client, emulator: Any) -> Rows:
    """Deallocate "all VMs matching the filter" for 1,000 VMs: one request, then the workers."""
    selected = VirtualMachine.objects.filter(name__icontains=MULTI_SELECT_QUERY).count()
    emulator.set_durations(all=0)
    emulator.clear_request_log()
    data = {"action": PowerAction.DEALLOCATE.value, "scope": "filter", "q": MULTI_SELECT_QUERY}
    data["previewed"] = previewed_ids(client, reverse("vmops:vm_bulk"), data)  # as the page does
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("vmops:vm_bulk"), data)
    request_seconds = time.perf_counter() - started
    if response.status_code != 302:
        raise RuntimeError(f"the multi-select answered {response.status_code}")
    bulk = BulkAction.objects.latest("pk")
    ids = [item["operation"] for item in bulk.items if item["outcome"] == "queued"]
    deadline = time.monotonic() + MULTI_SELECT_TIMEOUT
    while Operation.objects.filter(pk__in=ids, finished_at__isnull=True).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("Timed out waiting for the 1,000-VM multi-select to finish.")
        time.sleep(0.25)  # a calm poll: the workers share the SQLite file
    wall = time.perf_counter() - started
    succeeded = Operation.objects.filter(pk__in=ids, status=OperationStatus.SUCCEEDED).count()
    inserts = sum(1 for q in queries.captured_queries if q["sql"].lstrip().startswith("INSERT"))
    skipped = len(bulk.items) - len(ids)
    return [
        (f"multi-select Deallocate of {selected:,} VMs (all matching a search)", ""),
        ("  VMs acted on / skipped (already deallocated)", f"{len(ids):,} / {skipped:,}"),
        ("  request time (s)", f"{request_seconds:.2f}"),
        (
            "  request queries (of which INSERT batches, task rows included)",
            f"{len(queries)} ({inserts})",
        ),
        ("  deallocate POSTs sent to ARM", f"{_deallocate_posts(emulator):,}"),
        (f"  wall time until all done on {settings.Q_WORKERS} workers (s)", f"{wall:.1f}"),
        ("  succeeded", f"{succeeded:,} / {len(ids):,}"),
    ]


def _one_click(client: Client, vm: VirtualMachine) -> float:
    """POST the action as the button does; seconds until a worker has claimed the operation."""
    clicked = timezone.now()
    response = client.post(
        reverse("vmops:vm_action", args=[vm.pk, PowerAction.DEALLOCATE]),
        headers={"HX-Request": "true"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"deallocate {vm.name} answered {response.status_code}")
    operation = Operation.objects.get(
        target_key=vm.azure_id, kind=PowerAction.DEALLOCATE.operation_kind
    )
    started_at = _wait_for(
        lambda: Operation.objects.filter(pk=operation.pk).values_list("started_at", flat=True)[0],
        what=f"a worker to start operation {operation.pk}",
    )
    _wait_for(
        lambda: Operation.objects.filter(pk=operation.pk, finished_at__isnull=False).exists(),
        what=f"operation {operation.pk} to finish",
    )
    return float((started_at - clicked).total_seconds())


def _wait_for(probe: Callable[[], Any], *, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(DB_POLL_SECONDS)
    raise RuntimeError(f"Timed out after {timeout:.0f} s waiting for {what}.")


# --- The list page at 100 and 100,000 VMs, and against a bare render of its rows ---------------

SEED_BATCH = 5_000
_GROUPS = [f"rg-team-{i:02d}" for i in range(24)]
_LOCATIONS = ["westeurope", "northeurope", "eastus", "eastus2", "uksouth"]
_SIZES = ["Standard_B2s", "Standard_D2s_v5", "Standard_D4s_v5", "Standard_E4s_v5", "Standard_F2s"]
#: Fleet VMs seeded Stopped (billed) before the states cycle: a page of the billed filter.
BILLED_FIRST = 50
_STATES = [
    PowerState.RUNNING,
    PowerState.RUNNING,
    PowerState.DEALLOCATED,
    PowerState.STOPPED,
    PowerState.RUNNING,
    PowerState.DEALLOCATED,
]


def list_scaling(
    *,
    small: int = LIST_SMALL,
    large: int = LIST_LARGE,
    bare_sizes: tuple[int, ...] = BARE_SIZES,
    say: Callable[[str], None] | None = None,
) -> Rows:
    """The list page at ``small`` and ``large`` VMs (page 1, the billed filter, a search,
    page 500 reached by its Next link) and the list page over a bare render of its rows.

    Seeds VMs straight into the table (a sync of 100,000 VMs is the sync benchmark's figure,
    not this one's) and removes them afterwards. Needs an empty inventory.
    """
    import os

    from django.contrib.auth.models import Permission

    say = say or (lambda _message: None)
    if VirtualMachine.objects.exists():
        raise RuntimeError("list_scaling needs an empty inventory.")
    subscription = Subscription.objects.create(
        subscription_id="00000000-0000-0000-0000-00000000bench", display_name="Benchmark"
    )
    client = _operator_client()
    # The operator role holds the permissions; make sure the list shows its action column.
    assert Permission.objects.filter(codename="operate_virtualmachine").exists()
    url = reverse("vmops:vm_list")
    sizes = sorted({small, large, *bare_sizes})
    figures: dict[int, dict[str, _Figures]] = {}
    bare: dict[int, tuple[float, float]] = {}
    try:
        for size in sizes:
            say(f"list page at {size:,} VMs")
            _seed_to(subscription, size)
            if size in (small, large):
                figures[size] = {
                    "page 1": _get_figures(client, url),
                    "billed filter": _get_figures(client, f"{url}?power_state=billed"),
                    f"search “{LIST_SEARCH}”": _get_figures(client, f"{url}?q={LIST_SEARCH}"),
                    f"page {DEEP_PAGE}": _get_figures(client, _deep_page_url(client, url)),
                }
            if size in bare_sizes:
                bare[size] = _bare_ratio(client, url)
    finally:
        VirtualMachine.objects.filter(subscription=subscription).delete()
        subscription.delete()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rows: Rows = [(f"machine: {os.cpu_count()} cores, load average {load}", "")]
    for label in figures[small]:
        a, b = figures[small][label], figures[large][label]
        rows += [
            (
                f"list {label} @ {small:,} / {large:,} VMs: median (ms)",
                f"{_ms(a.ms)} / {_ms(b.ms)} (×{b.ms / a.ms:.2f})",
            ),
            (
                f"list {label} @ {small:,} / {large:,} VMs: fastest (ms)",
                f"{_ms(a.best)} / {_ms(b.best)} (×{b.best / a.best:.2f})",
            ),
            (f"list {label} @ {small:,} / {large:,} VMs: queries", f"{a.queries} / {b.queries}"),
        ]
    for size, (page_ms, bare_ms) in bare.items():
        rows.append(
            (
                f"list page / bare render of its 50 rows @ {size:,} VMs (ms)",
                f"{_ms(page_ms)} / {_ms(bare_ms)} (×{page_ms / bare_ms:.1f})",
            )
        )
    return rows


def _seed_to(subscription: Any, size: int) -> None:
    """Add VMs until the inventory holds ``size``: a few named web-NN (the search finds
    them at every size), the rest fleet VMs, the first :data:`BILLED_FIRST` of them Stopped
    (billed) so that the billed filter fills its page of 50 rows at 100 VMs as at 100,000
    (a sixth of 100 filled 16: the ratio measured the rows, not the estate)."""
    have = VirtualMachine.objects.count()
    now = timezone.now()
    batch: list[VirtualMachine] = []
    for i in range(have, size):
        name = f"web-{i:02d}" if i < 10 else f"vm-fleet-{i:06d}"
        state = PowerState.STOPPED if 10 <= i < 10 + BILLED_FIRST else _STATES[i % len(_STATES)]
        group = _GROUPS[i % len(_GROUPS)]
        batch.append(
            VirtualMachine(
                subscription=subscription,
                resource_group=group,
                name=name,
                azure_id=(
                    f"/subscriptions/{subscription.subscription_id}/resourcegroups/{group}"
                    f"/providers/microsoft.compute/virtualmachines/{name}"
                ),
                location=_LOCATIONS[i % len(_LOCATIONS)],
                size=_SIZES[i % len(_SIZES)],
                os_type="Linux" if i % 3 else "Windows",
                image_reference={
                    "publisher": "Canonical",
                    "offer": "ubuntu-24_04-lts",
                    "sku": "server",
                },
                image_label="Canonical/ubuntu-24_04-lts/server/latest",
                hyper_v_generation="V2",
                power_state=state,
                settled_power_state=state,
                settled_at=now - timedelta(hours=i % 500) if i % 4 else None,
                tags={"env": ("prod", "dev", "test")[i % 3], "team": group[-2:]},
                reported_at=now,
                created_at=now - timedelta(days=i % 900),
            )
        )
        if len(batch) >= SEED_BATCH:
            VirtualMachine.objects.bulk_create(batch)
            batch = []
    if batch:
        VirtualMachine.objects.bulk_create(batch)


def _deep_page_url(client: Client, url: str) -> str:
    """Page 500 as a person reaches it: the Next link of page 499 (the last page when the
    inventory is smaller)."""
    import re

    response = _get(client, f"{url}?page={DEEP_PAGE - 1}", {})
    links = re.findall(r'href="([^"]*)"[^>]*>Next', response.content.decode())
    if not links:
        return f"{url}?page={DEEP_PAGE}"
    return url + str(links[-1]).replace("&amp;", "&")


BARE_TEMPLATE = """<table>{% for vm in vms %}<tr><td><a href="/vms/{{ vm.pk }}/">{{ vm.name }}</a>\
<span>{{ vm.resource_group }}</span></td><td>{{ vm.power_state }}</td><td>{{ vm.size }}</td>\
<td>{{ vm.location }}</td><td>{% for k, v in vm.tags.items %}{{ k }}={{ v }} {% endfor %}</td>\
<td>{{ vm.image_label }}</td><td>{{ vm.created_at|date:'c' }}</td>\
<td>{{ vm.settled_at|date:'c' }}</td>\
<td><form method="post" action="/vms/{{ vm.pk }}/actions/"><input type="hidden" \
name="csrfmiddlewaretoken" value="{{ token }}">{% for a in actions %}<button name="action" \
value="{{ a }}">{{ a }}</button>{% endfor %}</form></td></tr>{% endfor %}</table>"""


def _bare_ratio(client: Client, url: str) -> tuple[float, float]:
    """Median ms of the list page and of a bare render of the same fifty rows: one query, a
    minimal template of the same columns with a form of four buttons per row. The two are
    measured in turns, so a busy machine slows both alike."""
    from django.template import engines

    template = engines["django"].from_string(BARE_TEMPLATE)
    actions = [a.value for a in PowerAction]

    def render() -> int:
        vms = list(
            VirtualMachine.objects.filter(gone_at__isnull=True).order_by(
                "name", "resource_group", "pk"
            )[:50]
        )
        return len(template.render({"vms": vms, "actions": actions, "token": "x" * 64}))

    _get(client, url, {})
    render()
    page_ms, bare_ms = [], []
    for _ in range(BARE_ROUNDS):
        started = time.perf_counter()
        _get(client, url, {})
        page_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        render()
        bare_ms.append((time.perf_counter() - started) * 1000)
    return statistics.median(page_ms), statistics.median(bare_ms)
