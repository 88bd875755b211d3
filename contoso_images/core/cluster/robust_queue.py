"""A django-q2 queue whose locks die with the process that holds them.

``multiprocessing.Queue`` serialises readers with ``_rlock`` and writers with ``_wlock``,
semaphores in shared memory with no owner: an idle worker blocks in ``get()`` holding
``_rlock``, so SIGKILL of that one worker locks the queue for good. POSIX record locks
(``fcntl.lockf``) belong to a process and the kernel drops them when it exits, however it
exits. Used by replacing ``django_q.cluster.Queue`` (and the ``Value`` of worker timers,
whose lock the Sentinel takes every guard cycle) before the Sentinel is forked.

Linux / POSIX and the fork start method only, which is what django-q2 uses. It relies on
django-q2's module-level names: tests/core/test_cluster_watchdog.py checks they are there.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import tempfile
import threading
import time
from multiprocessing.util import register_after_fork
from typing import Any

from django_q.queues import Queue as DjangoQQueue


class ProcessDeathSafeLock:
    """An inter-process mutex that a dying holder cannot keep.

    Record locks exclude processes, not threads of one process, so a ``threading.Lock``
    does that; it is made anew after a fork, so a child never inherits it taken.
    """

    def __init__(self) -> None:
        fd, path = tempfile.mkstemp(prefix="contoso-queue-lock-")
        os.unlink(path)  # the file lives as long as a process holds its descriptor
        self._fd = fd
        self._threads = threading.Lock()
        register_after_fork(self, ProcessDeathSafeLock._after_fork)

    def _after_fork(self) -> None:
        self._threads = threading.Lock()

    def __del__(self) -> None:
        # Closing another descriptor of the file would drop its locks too: only ours.
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        wait = -1 if timeout is None or not block else timeout
        if not self._threads.acquire(block, wait):
            return False
        try:
            if block and timeout is None:
                fcntl.lockf(self._fd, fcntl.LOCK_EX)  # sleeps in the kernel
                return True
            deadline = time.monotonic() + (timeout or 0)
            while True:
                try:
                    fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except OSError:
                    if not block or time.monotonic() >= deadline:
                        self._threads.release()
                        return False
                    time.sleep(0.005)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        fcntl.lockf(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def __enter__(self) -> ProcessDeathSafeLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ProcessDeathSafeRLock(ProcessDeathSafeLock):
    """Re-entrant: ``Synchronized.value`` takes the lock ``with timer.get_lock():`` holds."""

    def __init__(self) -> None:
        super().__init__()
        self._owner: int | None = None
        self._depth = 0

    def _after_fork(self) -> None:
        super()._after_fork()
        self._owner, self._depth = None, 0

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        me = threading.get_ident()
        if self._owner == me:
            self._depth += 1
            return True
        if not super().acquire(block, timeout):
            return False
        self._owner, self._depth = me, 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            super().release()


class RobustCounter:
    """django-q2's ``SharedCounter`` (queue size) with a lock that dies with its holder."""

    def __init__(self, n: int = 0) -> None:
        self.count = multiprocessing.RawValue("i", n)
        self._lock = ProcessDeathSafeLock()

    def increment(self, n: int = 1) -> None:
        with self._lock:
            self.count.value += n

    @property
    def value(self) -> int:
        return int(self.count.value)


class RobustQueue(DjangoQQueue):  # type: ignore[misc]  # django-q2 ships no types
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rlock = ProcessDeathSafeLock()
        self._wlock = ProcessDeathSafeLock()
        self.size = RobustCounter(0)


def robust_value(typecode: str, *args: Any) -> Any:
    """In place of ``multiprocessing.Value`` for worker timers (``Sentinel.spawn_worker``)."""
    return multiprocessing.Value(typecode, *args, lock=ProcessDeathSafeRLock())  # type: ignore[call-overload]


def install() -> None:
    """Make the Sentinel about to be forked use these queues and timers."""
    import django_q.cluster as dq_cluster

    dq_cluster.Queue = RobustQueue  # looked up when the Sentinel is built
    dq_cluster.Value = robust_value  # looked up when each worker is spawned
