"""Price figures and the billing guard at scale: the VM list's price figures for ``vms`` VMs
(queries, time), the prices sync (Retail Prices API requests), one guard dry run and one
guard run over ``vms`` Stopped (allocated) VMs (time, queries, operations queued).

``manage.py benchmark --only prices [--vms N]`` runs :func:`run` in a child process whose
database is a throw-away SQLite file; ``run()`` seeds its own temporary ARM emulator (which
serves the Retail Prices API) and refuses a database that already holds VMs.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contoso_images import azure
from contoso_images.arm_emulator import retail_prices_data
from contoso_images.core.models import Subscription
from contoso_images.core.roles import OPERATORS
from contoso_images.core.sync import sync_run
from contoso_images.operations import engine
from contoso_images.operations.models import Operation
from vmops.models import BillingPolicy, ListPreference, PolicyKind, VirtualMachine
from vmops.services import guard, prices

Rows = list[tuple[str, str]]
HOST = "localhost"
#: Regions and sizes the emulated price list knows (a mix, so the sync asks for several).
REGIONS = ("eastus", "westeurope", "northeurope", "uksouth", "japaneast")


def run(*, vms: int = 10_000, progress: Callable[[str], None] | None = None) -> Rows:
    """Return ``(label, value)`` rows for the benchmark command."""
    from contoso_images.arm_emulator import Emulator

    if VirtualMachine.objects.exists():
        raise RuntimeError(
            "This benchmark needs an empty database; run `manage.py benchmark --only prices`, "
            "which gives it a temporary one."
        )
    say = progress or (lambda _message: None)
    with tempfile.TemporaryDirectory(prefix="prices-bench-") as tmp:
        state = Path(tmp) / "arm-emulator.sqlite3"
        emulator = Emulator(str(state))
        emulator.reset()
        emulator.set_durations(all=0)
        with override_settings(
            AZURE_MODE="emulator",
            AZURE_EMULATOR_STATE=str(state),
            AZURE_SUBSCRIPTION_IDS=[],
            ALLOWED_HOSTS=[HOST, "testserver"],
        ):
            azure.clear_client_cache()
            try:
                return _measure(emulator, vms=vms, say=say)
            finally:
                azure.clear_client_cache()


def _seed(vms: int) -> None:
    sub, _ = Subscription.objects.get_or_create(
        subscription_id="00000000-0000-0000-0000-0000000b3e4c",
        defaults={"display_name": "Benchmark"},
    )
    sizes = [m.arm_sku for m in retail_prices_data.VM_METERS][:12] + [
        retail_prices_data.UNPRICED_SIZE
    ]
    now = timezone.now()
    states = ("stopped", "running", "deallocated", "stopped")
    VirtualMachine.objects.bulk_create(
        (
            VirtualMachine(
                subscription=sub,
                resource_group=f"rg-{i % 40:02d}",
                name=f"bench-{i:06d}",
                azure_id=f"/subscriptions/{sub.subscription_id}/resourcegroups/rg-{i % 40:02d}"
                f"/providers/microsoft.compute/virtualmachines/bench-{i:06d}",
                location=REGIONS[i % len(REGIONS)],
                size=sizes[i % len(sizes)],
                os_type="Windows" if i % 4 == 0 else "Linux",
                power_state=states[i % len(states)],
                settled_power_state=states[i % len(states)],
                settled_at=now - timedelta(hours=3),
                tags={"contoso-keep-allocated": "true"} if i % 50 == 0 else {},
                reported_at=now,
            )
            for i in range(vms)
        ),
        batch_size=2000,
    )


def _measure(emulator: Any, *, vms: int, say: Callable[[str], None]) -> Rows:
    rows: Rows = []
    say(f"seeding {vms:,} VMs")
    _seed(vms)
    emulator.clear_request_log()
    started = time.perf_counter()
    results = sync_run(prices.PRICES, force=True)
    sync_seconds = time.perf_counter() - started
    requests = [e for e in emulator.request_log() if e.path.startswith("/api/retail/prices")]
    rows.append(
        (
            f"prices sync: {len(results)} regions",
            f"{sync_seconds:.2f} s, {len(requests)} Retail Prices API requests",
        )
    )

    user_model = get_user_model()
    operator = user_model.objects.create_user("bench-operator", password=None)
    operator.groups.add(Group.objects.get(name=OPERATORS))
    admin = user_model.objects.create_user("bench-admin", password=None, is_superuser=True)
    ListPreference.objects.create(user=operator, columns=["size", "waste"])
    client = Client(HTTP_HOST=HOST)
    client.force_login(operator)
    for path, label in (("/vms/", "list page"), ("/vms/?sort=-waste", "list sorted by waste")):
        client.get(path)  # warm
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            seconds = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        rows.append(
            (f"{label}, price figures of {vms:,} VMs", f"{len(queries)} queries, {seconds:.3f} s")
        )

    say("billing guard")
    policy = guard.policy_save(
        policy=BillingPolicy(
            name="Stopped over an hour", kind=PolicyKind.STOPPED_FOR, stopped_minutes=60
        ),
        user=admin,
        before=None,
    )
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        plan = guard.policy_plan(policy)
        seconds = time.perf_counter() - started
    rows.append(
        (
            f"guard dry run over {vms:,} VMs",
            f"{seconds:.2f} s, {len(queries)} queries, {len(plan.acting):,} to deallocate, "
            f"saving {plan.daily_saving_text}/day",
        )
    )
    policy.enabled = True
    policy.save(update_fields=["enabled"])
    # Count what is queued: the operations themselves are the engine's benchmark.
    with (
        mock.patch.object(engine, "enqueue", lambda pk: None),
        CaptureQueriesContext(connection) as queries,
    ):
        started = time.perf_counter()
        (result,) = guard.guard_run()
        seconds = time.perf_counter() - started
    queued = Operation.objects.filter(kind="vm.deallocate").count()
    rows.append(
        (
            f"guard run over {vms:,} VMs",
            f"{seconds:.2f} s, {len(queries)} queries, {queued:,} operations queued "
            f"({result.already} already under way, {result.refused} refused)",
        )
    )
    with (
        mock.patch.object(engine, "enqueue", lambda pk: None),
        CaptureQueriesContext(connection) as queries,
    ):
        started = time.perf_counter()
        (again,) = guard.guard_run()
        seconds = time.perf_counter() - started
    rows.append(
        (
            "guard run again at once",
            f"{seconds:.2f} s, {len(queries)} queries, {again.queued} new operations "
            f"({again.already} already under way)",
        )
    )
    return rows
