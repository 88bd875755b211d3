"""How long the engine holds, watches and waits, read from settings when asked (never at import,
so a test's or a cluster's settings apply)."""

from __future__ import annotations

import os
import socket

from django.conf import settings

#: Seconds one status call may wait inside the gateway before the task records progress.
POLL_STEP_SECONDS = 3.0


def lease_seconds() -> int:
    return int(getattr(settings, "OPERATION_LEASE_SECONDS", 60))


def wait_slice_seconds() -> float:
    return float(getattr(settings, "OPERATION_WAIT_SLICE_SECONDS", 5))


def poll_step() -> float:
    """Renew the lease well before it runs out, however short it is configured."""
    step = float(getattr(settings, "OPERATION_POLL_SECONDS", POLL_STEP_SECONDS))
    return min(step, lease_seconds() / 3)


def retry_seconds() -> int:
    """How long to pause when Azure failed without saying when to come back."""
    return int(getattr(settings, "OPERATION_RETRY_SECONDS", 30))


def give_up_seconds() -> float:
    """An operation unfinished after this long is settled from what Azure shows."""
    return float(getattr(settings, "OPERATION_GIVE_UP_AFTER_SECONDS", 24 * 3600))


def requeue_after_seconds() -> float:
    """A queued operation whose task has not started by then is queued again."""
    return float(getattr(settings, "OPERATION_REQUEUE_AFTER_SECONDS", 120))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"
