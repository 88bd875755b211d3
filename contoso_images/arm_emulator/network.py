"""Transport-level faults of the HTTPS server, switched through the state file.

The request faults of ``faults.py`` act on one request (answered 429, reset after it took
effect, held past the client's read timeout...). These act on the server as a whole, the way
a network or a load balancer fails:

* ``refuse_connections``: the listening socket is closed, so a client's connect gets
  ``ECONNREFUSED`` (nothing reached Azure); idle keep-alive connections are closed too, so a
  pooled connection cannot slip past.
* ``serve_wrong_certificate``: new connections get a certificate for ``wrong-host.invalid``
  under the emulator's own CA, so the client's hostname check fails (a TLS failure before any
  request is sent).
* ``hold_seconds``: how long the server keeps silent on a request that a ``timeout`` fault
  hit, unless the client gives up first (it normally does, at its read timeout).
* ``reset_point``: where a lost answer (a ``drop`` fault with ``applied``) breaks off:
  ``body`` (after the status line and headers: the client sees a broken body, azure-core's
  IncompleteReadError) or ``start`` (before the first byte: "Connection aborted",
  azure-core's ServiceResponseError, which it would resend for PUT and DELETE).

Settings live in the state file (meta ``network``) so a test or an operator in another
process flips them. Each change bumps a generation; the server writes back the generation it
has applied (meta ``network_applied``) once the listener and the idle connections match, and
:meth:`Network.wait_applied` waits for that, so a test never races the server.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from .state import Store

DEFAULT_HOLD_SECONDS = 60.0
RESET_POINTS = ("body", "start")
META_KEY = "network"
APPLIED_KEY = "network_applied"


@dataclass(frozen=True)
class NetworkSettings:
    refuse: bool = False
    wrong_certificate: bool = False
    hold_seconds: float = DEFAULT_HOLD_SECONDS
    reset_point: str = "body"
    generation: int = 0

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> NetworkSettings:
        values = dict(stored or {})
        return cls(
            refuse=bool(values.get("refuse", False)),
            wrong_certificate=bool(values.get("wrong_certificate", False)),
            hold_seconds=float(values.get("hold_seconds", DEFAULT_HOLD_SECONDS)),
            reset_point=str(values.get("reset_point", "body")),
            generation=int(values.get("generation", 0)),
        )


class Network:
    """Read and switch the server-wide faults of one state file."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def settings(self) -> NetworkSettings:
        return NetworkSettings.from_stored(self.store.meta_get(META_KEY))

    def _change(self, **changes: Any) -> NetworkSettings:
        with self.store.write():
            current = self.settings()
            new = replace(current, **changes, generation=current.generation + 1)
            self.store.meta_set(META_KEY, asdict(new))
        return new

    def refuse_connections(self, on: bool = True) -> None:
        """Close (or reopen) the server's listening socket: connections are refused."""
        self._change(refuse=bool(on))

    def serve_wrong_certificate(self, on: bool = True) -> None:
        """Present a certificate for another host name to new connections."""
        self._change(wrong_certificate=bool(on))

    def set_hold_seconds(self, seconds: float) -> None:
        """How long a request hit by a ``timeout`` fault is left unanswered at most."""
        if seconds < 0:
            raise ValueError("hold_seconds must be >= 0")
        self._change(hold_seconds=float(seconds))

    def set_reset_point(self, point: str) -> None:
        """Where a lost answer breaks off: ``body`` (default) or ``start``."""
        if point not in RESET_POINTS:
            raise ValueError(f"reset_point must be one of {RESET_POINTS}")
        self._change(reset_point=point)

    def clear(self) -> None:
        """Back to a healthy server (hold time and reset point are kept)."""
        self._change(refuse=False, wrong_certificate=False)

    # --- the server's side ---------------------------------------------------------------

    def applied_generation(self) -> int:
        return int(self.store.meta_get(APPLIED_KEY, 0) or 0)

    def acknowledge(self, generation: int) -> None:
        """Called by the server once the settings of ``generation`` are in force."""
        self.store.meta_set(APPLIED_KEY, int(generation))

    def wait_applied(self, timeout: float = 5.0) -> bool:
        """Wait until a running server has applied the latest change (False on timeout:
        no server is running on this state file)."""
        wanted = self.settings().generation
        deadline = time.monotonic() + timeout
        while self.applied_generation() != wanted:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True
