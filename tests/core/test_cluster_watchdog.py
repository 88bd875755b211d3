"""The task cluster survives SIGKILL of idle workers, and exits non-zero when it cannot work.

django-q2 issue #23: an idle worker killed (as the OOM killer does) leaves the task queue's
reader lock taken; with django-q2's own queues nothing runs after that and the process never
exits. Real qclusters here, in their own sessions; only their processes are killed.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import time
from pathlib import Path

import pytest

from contoso_images.core.cluster.robust_queue import ProcessDeathSafeLock
from contoso_images.operations.models import Operation
from tests.helpers import vm_in_state


def _hold_and_die(lock, ready) -> None:
    lock.acquire()
    ready.set()
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_lock_is_released_when_its_holder_is_killed():
    lock = ProcessDeathSafeLock()
    ready = multiprocessing.get_context("fork").Event()
    holder = multiprocessing.get_context("fork").Process(target=_hold_and_die, args=(lock, ready))
    holder.start()
    assert ready.wait(10)
    holder.join(10)
    assert holder.exitcode == -signal.SIGKILL
    assert lock.acquire(timeout=5), "the dead holder's lock was not released"
    lock.release()


def test_the_django_q2_names_the_cluster_relies_on_are_there():
    """robust_queue and the watchdog replace these module-level names of django-q2 1.11."""
    import django_q.cluster as dq_cluster
    import django_q.queues

    assert isinstance(dq_cluster.Queue, type) and issubclass(
        dq_cluster.Queue, django_q.queues.Queue
    )
    assert callable(dq_cluster.Value) and callable(dq_cluster.Sentinel.status)
    assert hasattr(dq_cluster.Cluster, "sig_handler")
    assert hasattr(django_q.queues.Queue(maxsize=1), "_rlock")


def _workers(log: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"ready for work at (\d+)", log.read_text())]


def _wait(probe, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _live_processes_in_group(group: int) -> list[int]:
    """Processes of the cluster's own process group that are not yet zombies. Asked by group
    rather than by the workers' logged pids: a CI container with a small ``pid_max`` reuses
    a killed worker's pid for an unrelated process within seconds."""
    live = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] not in (b"Z", b"X"):
            live.append(int(entry))
    return live


def _assert_no_process_of_the_cluster_is_left(cluster) -> None:
    """SIGKILL is asynchronous: a killed worker may still be tearing down its memory when
    the watchdog's own process has exited, so this waits (briefly) for the group to empty."""
    _wait(
        lambda: not _live_processes_in_group(cluster.pid) or None,
        timeout=10,
        what=f"the cluster's processes {_live_processes_in_group(cluster.pid)} to be gone",
    )


def _kill_idle_workers(log: Path, cluster) -> list[int]:
    workers = _wait(lambda: _workers(log), timeout=10, what="the workers")
    for pid in workers:
        assert os.getpgid(pid) == cluster.pid  # only this test's own cluster
        os.kill(pid, signal.SIGKILL)
    return workers


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_killing_every_idle_worker_no_longer_wedges_the_cluster(
    start_qcluster, emulator, inventory, operator_user, tmp_path
):
    from vmops.services import vm_action_request

    cluster = start_qcluster(Q_WORKERS="2")
    log = tmp_path / "qcluster-0.log"
    time.sleep(1)  # both workers idle in get()
    _kill_idle_workers(log, cluster)
    time.sleep(2)  # the Sentinel reincarnates them
    vm = vm_in_state(inventory, "stopped")
    operation, _ = vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    _wait(
        lambda: Operation.objects.filter(pk=operation.pk, status="succeeded").exists(),
        timeout=30,
        what="the operation to run after the kills",
    )
    assert cluster.poll() is None


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_a_wedged_cluster_is_killed_and_exits_non_zero(
    start_qcluster, emulator, inventory, operator_user, tmp_path
):
    """With django-q2's own queues the wedge happens; the watchdog ends it with exit 70."""
    from vmops.services import vm_action_request

    cluster = start_qcluster(
        Q_WORKERS="2",
        QCLUSTER_ROBUST_QUEUES="false",
        QCLUSTER_WEDGE_SECONDS="3",
        QCLUSTER_CHECK_SECONDS="0.5",
    )
    log = tmp_path / "qcluster-0.log"
    time.sleep(1)
    _kill_idle_workers(log, cluster)
    vm = vm_in_state(inventory, "stopped")
    vm_action_request(vm=vm, kind="deallocate", user=operator_user)
    exit_code = _wait(cluster.poll, timeout=40, what="the watchdog to end the cluster")
    assert exit_code == 70
    assert "queue wedged" in log.read_text()
    _assert_no_process_of_the_cluster_is_left(cluster)


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_a_killed_sentinel_ends_the_cluster_with_exit_71(start_qcluster, emulator, tmp_path):
    cluster = start_qcluster(Q_WORKERS="1", QCLUSTER_CHECK_SECONDS="0.5")
    sentinel = _wait(
        lambda: [
            int(p)
            for p in (Path(f"/proc/{cluster.pid}/task/{cluster.pid}/children").read_text().split())
        ],
        timeout=10,
        what="the Sentinel",
    )[0]
    os.kill(sentinel, signal.SIGKILL)
    assert _wait(cluster.poll, timeout=20, what="the cluster to exit") == 71


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_a_cluster_whose_heartbeat_stalls_is_killed_with_exit_70(
    start_qcluster, emulator, tmp_path
):
    """Issue #20, item 4. The heartbeat is due and none comes while no worker is busy: the
    cluster runs nothing that was scheduled, so the watchdog ends it for its supervisor.

    (django-q2 1.11 first runs schedules 30 s after the Sentinel starts, so within the
    few seconds of this test the due heartbeat is never written.)"""
    from datetime import timedelta

    from django.utils import timezone
    from django_q.models import Schedule

    from contoso_images.core.models import Heartbeat

    Heartbeat.objects.all().delete()
    cluster = start_qcluster(
        Q_WORKERS="1", QCLUSTER_STALL_SECONDS="3", QCLUSTER_CHECK_SECONDS="0.5"
    )
    assert cluster.poll() is None  # running, with no heartbeat due yet
    Schedule.objects.filter(name="heartbeat").update(next_run=timezone.now() - timedelta(minutes=1))
    assert _wait(cluster.poll, timeout=30, what="the watchdog to end the cluster") == 70
    log = (tmp_path / "qcluster-0.log").read_text()
    assert "no heartbeat for" in log
    assert not Heartbeat.objects.exists()


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_a_graceful_stop_that_outlasts_its_limit_is_forced_with_exit_75(
    start_qcluster, emulator, tmp_path
):
    """Issue #20, item 4. SIGTERM while a task runs: the Sentinel waits for the worker, the
    watchdog does not wait longer than QCLUSTER_STOP_SECONDS, and kills what is left."""
    from django_q.tasks import async_task

    cluster = start_qcluster(Q_WORKERS="1", QCLUSTER_STOP_SECONDS="2", QCLUSTER_CHECK_SECONDS="0.5")
    log = tmp_path / "qcluster-0.log"
    async_task("time.sleep", 120, task_name="a-long-task")
    _wait(lambda: "processing a-long-task" in log.read_text(), timeout=20, what="the task")
    worker = _workers(log)[-1]

    stopped_at = time.monotonic()
    cluster.send_signal(signal.SIGTERM)
    assert _wait(cluster.poll, timeout=30, what="the forced stop") == 75
    assert time.monotonic() - stopped_at < 15  # not the task's 120 s
    assert "the graceful stop did not finish in time" in log.read_text()
    assert worker  # the task's worker was seen, and is gone with the rest of the group:
    _assert_no_process_of_the_cluster_is_left(cluster)
