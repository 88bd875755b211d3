"""The fault soak: hundreds of power actions through a real cluster while Azure misbehaves.

10 % of ARM requests are throttled (429), 10 % fail with a 5xx, and 5 % take effect but lose
their answer (a 500/503/504, a timeout or a dropped connection after Azure applied them), on
two workers. Every operation must end in Azure's true state, the dashboard must say what
Azure says, and no action may reach Azure twice. ``manage.py benchmark --only soak``.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import override_settings

from contoso_images import azure
from contoso_images.core.roles import OPERATORS
from contoso_images.devtools.cluster import cluster_environment, stop_cluster, wait_for_log
from contoso_images.operations import engine
from contoso_images.operations.models import Operation
from contoso_images.operations.services import RequestItem, operation_request_many
from vmops.choices import PowerAction, PowerState
from vmops.models import VirtualMachine
from vmops.services import inventory_sync_all

Rows = list[tuple[str, str]]

#: action -> (the power state its VM needs, the state Azure shows after it, the REST verb)
ACTIONS = {
    PowerAction.START: (PowerState.DEALLOCATED, PowerState.RUNNING, "start"),
    PowerAction.POWER_OFF: (PowerState.RUNNING, PowerState.STOPPED, "poweroff"),
    PowerAction.DEALLOCATE: (PowerState.RUNNING, PowerState.DEALLOCATED, "deallocate"),
    PowerAction.RESTART: (PowerState.RUNNING, PowerState.RUNNING, "restart"),
}
FAULTS = {"throttle_rate": 0.10, "server_error_rate": 0.10, "applied_lost_rate": 0.05}
ACTION_SECONDS = 2
LIMIT_SECONDS = 1800


def run(
    *, operations: int = 500, cluster: bool = True, progress: Callable[[str], None] | None = None
) -> Rows:
    from contoso_images.arm_emulator import Emulator

    say = progress or (lambda _message: None)
    if not cluster:
        return [("fault soak", "skipped (--skip-cluster)")]
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        state = Path(tmp) / "arm-emulator.sqlite3"
        emulator = Emulator(str(state))
        emulator.reset()
        emulator.seed_contoso_pilot(extra_vms=operations * 2)
        emulator.set_durations(
            all=0, **dict.fromkeys(("start", "power_off", "deallocate", "restart"), ACTION_SECONDS)
        )
        with override_settings(
            AZURE_MODE="emulator", AZURE_EMULATOR_STATE=str(state), AZURE_SUBSCRIPTION_IDS=[]
        ):
            azure.clear_client_cache()
            try:
                return _soak(emulator, operations, Path(tmp), say)
            finally:
                azure.clear_client_cache()


def _soak(emulator: Any, count: int, tmp: Path, say: Callable[[str], None]) -> Rows:
    say("syncing the inventory")
    inventory_sync_all(force=True)
    user = _operator()
    plan = _plan(count)
    say(f"asking for {sum(len(vms) for vms in plan.values())} operations")
    # The tasks wait in the broker; the cluster starts once the faults are on.
    created: list[Operation] = []
    for action, vms in plan.items():
        result = operation_request_many(
            kind=action.operation_kind,
            items=[RequestItem(vm.target, vm) for vm in vms],
            user=user,
        )
        created += result.created
    emulator.clear_request_log()
    emulator.set_faults(retry_after=1, **FAULTS)
    say(f"running them on 2 workers with {FAULTS}")
    started = time.perf_counter()
    log_path = tmp / "qcluster.log"
    with log_path.open("wb") as log:
        import subprocess
        import sys

        process = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "qcluster"],
            cwd=settings.BASE_DIR,
            env=cluster_environment(
                Q_WORKERS="2", OPERATION_LEASE_SECONDS="15", OPERATION_RETRY_SECONDS="2"
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_log(log_path, "running.", process, timeout=60)
            _wait_until_done(created, say)
        finally:
            stop_cluster(process)
    elapsed = time.perf_counter() - started
    emulator.set_faults()  # Azure answers truthfully again for the verdict
    return _verdict(emulator, created, plan, elapsed)


def _operator() -> Any:
    user, _ = get_user_model().objects.get_or_create(username="soak-operator")
    user.groups.add(Group.objects.get(name=OPERATORS))
    return user


def _plan(count: int) -> dict[PowerAction, list[VirtualMachine]]:
    """An even mix of the four actions, each on VMs in a state that allows it."""
    per_action = count // len(ACTIONS)
    plan: dict[PowerAction, list[VirtualMachine]] = {}
    used: set[int] = set()
    for i, (action, (needs, _, _)) in enumerate(ACTIONS.items()):
        wanted = per_action + (1 if i < count % len(ACTIONS) else 0)
        vms = list(
            VirtualMachine.objects.select_related("subscription")
            .filter(power_state=needs, generalized=False, gone_at__isnull=True)
            .exclude(pk__in=used)
            .order_by("pk")[:wanted]
        )
        if len(vms) < wanted:
            raise RuntimeError(f"not enough VMs {needs} for {wanted} {action.label} operations")
        used.update(vm.pk for vm in vms)
        plan[action] = vms
    return plan


def _wait_until_done(created: list[Operation], say: Callable[[str], None]) -> None:
    ids = [operation.pk for operation in created]
    deadline = time.monotonic() + LIMIT_SECONDS
    last_report = 0.0
    while True:
        left = Operation.objects.filter(pk__in=ids, finished_at__isnull=True).count()
        if not left:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{left} operations still unfinished after {LIMIT_SECONDS} s")
        if time.monotonic() - last_report > 30:
            say(f"{len(ids) - left} of {len(ids)} finished")
            last_report = time.monotonic()
        engine.reconcile()  # the scheduled reconciler, every few seconds instead of a minute
        time.sleep(3)


def _verdict(
    emulator: Any,
    created: list[Operation],
    plan: dict[PowerAction, list[VirtualMachine]],
    elapsed: float,
) -> Rows:
    truth = {
        vm.id.lower(): vm.power_state
        for sub in emulator.subscription_ids()
        for vm in azure.vm_list_with_power_state(sub)
    }
    expected = {vm.azure_id: ACTIONS[action][1].value for action, vms in plan.items() for vm in vms}
    verbs = {vm.azure_id: ACTIONS[action][2] for action, vms in plan.items() for vm in vms}
    operations = {
        op.target_key: op for op in Operation.objects.filter(pk__in=[o.pk for o in created])
    }
    cached = dict(
        VirtualMachine.objects.filter(azure_id__in=expected).values_list("azure_id", "power_state")
    )
    right = sum(1 for key, state in expected.items() if truth.get(key) == state)
    agrees = sum(
        1
        for key in expected
        if operations[key].status == "succeeded" and cached.get(key) == truth.get(key)
    )
    accepted: Counter[str] = Counter()
    for entry in emulator.request_log():
        path = entry.path.split("?")[0].lower()
        if entry.method != "POST" or not entry.applied:
            continue
        vm_id, _, verb = path.rpartition("/")
        if verbs.get(vm_id) == verb:
            accepted[vm_id] += 1
    duplicates = sum(n - 1 for n in accepted.values() if n > 1)
    lost = sum(1 for entry in emulator.request_log() if entry.lost)
    statuses = Counter(op.status for op in operations.values())
    return [
        (
            "operations / right final state / dashboard agrees with Azure / duplicate actions",
            f"{len(created)} / {right} / {agrees} / {duplicates}",
        ),
        ("operations succeeded / failed", f"{statuses['succeeded']} / {statuses['failed']}"),
        (
            "ARM requests in all / answers lost after Azure applied them",
            f"{len(emulator.request_log()):,} / {lost:,}",
        ),
        ("wall time on 2 workers (s)", f"{elapsed:.0f}"),
    ]
