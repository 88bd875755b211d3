"""The watchdog's stall default counts the heartbeat as django-q2 runs it (whole minutes):
a 61-second heartbeat runs every 2 minutes, so a healthy cluster must not look stalled at
152 s."""

import importlib
import os
from unittest import mock


def _stall_for(heartbeat: str) -> float:
    from contoso_images import settings as project_settings

    env = {"HEARTBEAT_SECONDS": heartbeat}
    with mock.patch.dict(os.environ, env):
        os.environ.pop("QCLUSTER_STALL_SECONDS", None)
        reloaded = importlib.reload(project_settings)
        value = reloaded.QCLUSTER_STALL_SECONDS
    importlib.reload(project_settings)
    return value


def test_stall_default_uses_whole_minute_heartbeat():
    assert _stall_for("60") == 150
    assert _stall_for("61") == 270  # runs every 2 minutes: two periods + 30 s
    assert _stall_for("30") == 150  # runs every minute
