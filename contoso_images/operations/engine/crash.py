"""The points where a worker can die, named, so the crash tests can kill one at each of them.

Production installs nothing here: ``hooks`` stays empty and ``point`` does nothing. The
crash tests add a hook that kills the worker at a planned point, as the OOM killer or a lost
host would: in process (tests/operations/test_crash_points.py) or in a real qcluster started
with the tests' plug-in app (tests/crash_plan.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contoso_images.operations.models import Operation

#: The points where a worker can die, in the order a step passes them.
CRASH_POINTS = (
    "before_request",
    "after_accept",
    "while_watching",
    "before_result",
    "during_handoff",
)

#: Called with the point's name and the operation at every point a worker passes.
hooks: list[Callable[[str, Operation], None]] = []


def point(name: str, operation: Operation) -> None:
    """The worker passes the point ``name`` (one of CRASH_POINTS) on ``operation``."""
    for hook in hooks:
        hook(name, operation)
