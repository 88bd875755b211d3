"""A watchdog in the qcluster main process that kills a cluster which stopped working.

The main process of ``manage.py qcluster`` only forks the Sentinel and waits for it; it never
touches the task queues or the worker timers, so the wedges that stop a django-q2 cluster
cannot catch it. A thread there watches, every few seconds:

* the Sentinel's guard loop (a per-cycle tick the Sentinel publishes in shared memory);
* tasks waiting in the task queue while no worker is busy or starting one (the wedge);
* the database heartbeat, when its schedule is due and no worker is busy (busy workers
  delay it legitimately);
* a graceful stop that does not end in time, and a Sentinel that died.

On any of them it SIGKILLs every process of the cluster and exits with a non-zero code
(70 stalled, 71 Sentinel died, 75 stop timed out) without running atexit handlers (they
would wait for the dead Sentinel), so systemd (``Restart=always``) or a container restart
policy starts a fresh cluster.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import django_q.cluster as dq_cluster
from django.db import DatabaseError, connections
from django.utils import timezone

logger = logging.getLogger(__name__)

EXIT_STALLED = 70
EXIT_SENTINEL_DIED = 71
EXIT_STOP_TIMED_OUT = 75

#: Slots of the shared array the Sentinel writes and the watchdog reads.
TICK, WEDGED_SINCE, QUEUED, BUSY, LAST_START = range(5)
SLOTS = 5


def _process_table() -> list[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every process, read from /proc (Linux)."""
    table = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        table.append((int(entry), int(fields[1]), int(fields[2])))
    return table


def cluster_pids() -> list[int]:
    """This process's descendants, and, when it leads its process group (systemd, a
    container, ``setsid``), the other members of the group: the children of a dead Sentinel
    were re-parented, but keep their group."""
    me = os.getpid()
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, parent, _ in table:
        children.setdefault(parent, []).append(pid)
    found: list[int] = []
    todo = [me]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    if os.getpgrp() == me:
        found += [pid for pid, _, group in table if group == me and pid != me and pid not in found]
    return found


def kill_cluster_and_exit(reason: str, code: int) -> None:
    logger.critical("qcluster watchdog: %s; killing the cluster (exit %s)", reason, code)
    # Whichever thread ends the process ends it with this code, after the killing: once the
    # Sentinel is dead, django-q2's main thread returns from its join and would exit 0 while
    # this (daemon) thread was still killing; at that exit, the same work runs again first.
    atexit.register(_kill_and_exit, code)
    _kill_and_exit(code)


def _kill_and_exit(code: int) -> None:
    # Again until nothing new is found: a Sentinel still alive while the first list is
    # read may fork a worker after it (a reincarnation), which the first round would miss.
    killed: set[int] = set()
    for _ in range(5):
        fresh = set(cluster_pids()) - killed
        if not fresh:
            break
        for pid in fresh:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        killed |= fresh
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):  # leaving anyway
            handler.flush()
    os._exit(code)


class WatchedSentinel(dq_cluster.Sentinel):  # type: ignore[misc]  # django-q2 ships no types
    """A Sentinel that publishes, every guard cycle, what the watchdog needs.

    ``Sentinel.guard`` saves ``Stat(self)`` every cycle and ``Stat`` calls ``status()``,
    so this is a per-cycle hook. Worker timers are read without their lock: a worker
    killed while holding it must not stop the probe.
    """

    shared: Any = None

    def status(self) -> Any:
        state = super().status()
        shared = type(self).shared
        if shared is not None:
            try:
                now = time.monotonic()
                queued = self.task_queue.qsize()
                busy = sum(1 for p in self.pool if p.timer.get_obj().value > 0)
                shared[TICK], shared[QUEUED], shared[BUSY] = now, queued, busy
                if queued > 0 and busy == 0 and self.pool:
                    if not shared[WEDGED_SINCE]:
                        shared[WEDGED_SINCE] = now
                else:
                    shared[WEDGED_SINCE] = 0.0
            except Exception:  # the probe must never break the guard loop
                logger.exception("qcluster watchdog probe failed")
        return state


class Watchdog(threading.Thread):
    def __init__(
        self,
        *,
        shared: Any,
        stall_seconds: float,
        wedge_seconds: float,
        guard_stall_seconds: float,
        check_every: float,
    ) -> None:
        super().__init__(name="qcluster-watchdog", daemon=True)
        self.shared = shared
        self.stall = stall_seconds
        self.wedge = wedge_seconds
        self.guard_stall = guard_stall_seconds
        self.check_every = check_every
        self.judged_since = timezone.now()
        self.stop_deadline: float | None = None

    def arm_stop_deadline(self, seconds: float) -> None:
        if self.stop_deadline is None:
            self.stop_deadline = time.monotonic() + seconds

    def run(self) -> None:
        while True:
            time.sleep(self.check_every)
            if self.stop_deadline is not None:
                if time.monotonic() > self.stop_deadline:
                    kill_cluster_and_exit(
                        "the graceful stop did not finish in time", EXIT_STOP_TIMED_OUT
                    )
                continue
            busy = self._check_probe()
            self._check_heartbeat(busy)

    def _check_probe(self) -> int:
        now = time.monotonic()
        tick, wedged_since, queued, busy, last_start = self.shared[:]
        if tick and now - tick > self.guard_stall:
            kill_cluster_and_exit(
                f"Sentinel guard loop silent for {now - tick:.0f} s", EXIT_STALLED
            )
        # Tiny tasks leave the timers idle most of the time: a task start also counts.
        stuck_for = now - max(wedged_since, last_start)
        if wedged_since and stuck_for > self.wedge:
            kill_cluster_and_exit(
                f"{queued:.0f} task(s) waited {stuck_for:.0f} s in the task queue with no "
                "worker busy or starting one (queue wedged)",
                EXIT_STALLED,
            )
        return int(busy)

    def _check_heartbeat(self, busy: int) -> None:
        try:
            beat, expected = self._last_beat()
        except DatabaseError as exc:
            # The heartbeat cannot be written either: a new cluster would not help.
            logger.warning("qcluster watchdog: the database is unavailable (%s)", exc)
            self.judged_since = timezone.now()
            return
        if not expected:
            self.judged_since = timezone.now()  # judged from when a beat is due
            return
        reference = max(t for t in (beat, self.judged_since) if t is not None)
        age = (timezone.now() - reference).total_seconds()
        if age > self.stall and not busy:
            kill_cluster_and_exit(
                f"no heartbeat for {age:.0f} s (limit {self.stall:.0f} s, last beat {beat})",
                EXIT_STALLED,
            )

    def _last_beat(self) -> tuple[datetime | None, bool]:
        """The last beat, and whether one is due at all: a missing schedule, or one pushed
        into the future, must not restart a healthy cluster in a loop."""
        from django_q.models import Schedule

        from contoso_images.core.models import Heartbeat

        try:
            horizon = timezone.now() + timedelta(seconds=self.stall)
            due = (
                Schedule.objects.filter(name="heartbeat", next_run__lte=horizon)
                .exclude(repeats=0)
                .exists()
            )
            if not due:
                return None, False
            beat = Heartbeat.objects.filter(name="cluster").values_list("beat_at", flat=True)
            return beat.first(), True
        finally:
            connections.close_all()  # this thread's own connections
