"""The emulator's clock: wall time plus an offset kept in the state file.

Time-driven transitions (a VM "starting" for six seconds) are settled by comparing
timestamps, never by a background thread. Tests and demos move time forward with
``Emulator.advance()``; the offset lives in the state file so that every process
sharing the file sees the same "now".
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def wall() -> float:
    """Seconds since the epoch, from the real clock."""
    return time.time()


def to_datetime(ts: float) -> datetime:
    """A timezone-aware UTC datetime for an epoch timestamp."""
    return datetime.fromtimestamp(ts, tz=UTC)


def iso(ts: float) -> str:
    """ARM's timestamp format (``2024-10-04T23:58:13.0104006+00:00`` style, 7 digits)."""
    dt = to_datetime(ts)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0+00:00"
