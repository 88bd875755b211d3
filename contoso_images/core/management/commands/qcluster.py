"""``manage.py qcluster``: django-q2's cluster, with queues that survive a killed worker and
a watchdog that exits the cluster non-zero when it stops working anyway. It writes the
schedules' periods from its own settings before it starts.

Core is listed before django_q in INSTALLED_APPS, so this command is the one Django runs.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from typing import Any

import django_q.cluster as dq_cluster
from django.conf import settings
from django.core.management.base import CommandParser
from django_q.management.commands.qcluster import Command as DjangoQCommand
from django_q.models import Schedule
from django_q.signals import pre_execute

from contoso_images.core import schedules
from contoso_images.core.cluster import robust_queue, watchdog


class Command(DjangoQCommand):  # type: ignore[misc]  # django-q2 ships no types
    help = (
        "Start the task cluster: django-q2 with queues that a killed worker cannot lock, and "
        "a watchdog that exits non-zero (70, 71, 75) when the cluster stops working, so its "
        "supervisor restarts it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-watchdog", action="store_true", help="run without the watchdog thread"
        )
        parser.add_argument(
            "--stock-queues",
            action="store_true",
            help="use django-q2's own queues (a killed idle worker can wedge them)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings.SECRET_KEY  # noqa: B018 - refuse to start without it, as django-q2 does
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        # The periods this cluster is configured with (RECONCILE_SECONDS, ...), not the ones
        # the last migrate wrote.
        schedules.ensure(Schedule, settings)
        if not options["stock_queues"] and settings.QCLUSTER_ROBUST_QUEUES:
            robust_queue.install()
        watch = not options["no_watchdog"] and settings.QCLUSTER_WATCHDOG
        shared = None
        if watch:
            shared = multiprocessing.RawArray("d", watchdog.SLOTS)  # inherited by the fork
            watchdog.WatchedSentinel.shared = shared

            def task_started(sender: Any, **kwargs: Any) -> None:  # runs in the workers
                shared[watchdog.LAST_START] = time.monotonic()

            pre_execute.connect(task_started, weak=False, dispatch_uid="qcluster-watchdog")
            dq_cluster.Sentinel = watchdog.WatchedSentinel

        cluster = dq_cluster.Cluster()
        cluster.start()
        if options.get("run_once"):
            cluster.stop()
            return
        guard = None
        if watch:
            guard = watchdog.Watchdog(
                shared=shared,
                stall_seconds=settings.QCLUSTER_STALL_SECONDS,
                wedge_seconds=settings.QCLUSTER_WEDGE_SECONDS,
                guard_stall_seconds=settings.QCLUSTER_GUARD_STALL_SECONDS,
                check_every=settings.QCLUSTER_CHECK_SECONDS,
            )
            guard.start()  # after the fork: the Sentinel never inherits this thread
        stopping = threading.Event()

        def on_signal(signum: int, frame: Any) -> None:
            stopping.set()
            if guard is not None:
                guard.arm_stop_deadline(settings.QCLUSTER_STOP_SECONDS)
            cluster.sig_handler(signum, frame)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        # Wait here rather than in multiprocessing's atexit join, so a dead Sentinel is seen.
        while cluster.sentinel.is_alive():
            cluster.sentinel.join(1)
        if not stopping.is_set() and watch:
            watchdog.kill_cluster_and_exit(
                f"the Sentinel exited (exit code {cluster.sentinel.exitcode})",
                watchdog.EXIT_SENTINEL_DIED,
            )
