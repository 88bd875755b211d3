"""Fault injection: throttling, server errors, latency, dropped connections, timeouts,
and requests that take effect but whose response is lost.

Rates are persisted in the state file so every process (web, workers) misbehaves the
same way; the ``AZURE_EMULATOR_*`` environment variables override the file when set.
``queue_fault`` entries hit the next matching requests exactly, for tests.

A fault either stops the request before it reaches Azure (the default: nothing
happens) or, with ``applied``, lets it take effect and then loses the answer, as ARM's
front door can: the client sees a 500/503/504, a read timeout or a connection reset
although the action was accepted. How azure-core (1.41) reads each: a 500/503/504 is
an HTTP error, retried for every method including POST; a dropped connection or a
connect timeout before sending is ``ServiceRequestError`` / ``ServiceRequestTimeoutError``;
a reset or a read timeout after sending is ``ServiceResponseError`` /
``ServiceResponseTimeoutError``; transport errors of either kind are retried only for
idempotent methods (GET, PUT, DELETE), never for POST or PATCH.

Queued *operation* failures are different again: the request is accepted (202/201/200)
and the long-running operation it starts ends ``Failed`` or ``Canceled`` when it settles.
"""

from __future__ import annotations

import os
import random
import sqlite3
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

import requests
from urllib3.exceptions import ProtocolError

from . import clock, errors
from .state import Store
from .wire import ArmRequest

_RANDOM = random.Random()  # noqa: S311 - fault dice, not cryptography

ENV = {
    "throttle_rate": "AZURE_EMULATOR_THROTTLE_RATE",
    "server_error_rate": "AZURE_EMULATOR_SERVER_ERROR_RATE",
    "latency_ms": "AZURE_EMULATOR_LATENCY_MS",
    "drop_rate": "AZURE_EMULATOR_DROP_RATE",
    "applied_lost_rate": "AZURE_EMULATOR_APPLIED_LOST_RATE",
}
# How a response is lost, for applied_lost_rate: picked at random.
LOST_AS = ("500", "503", "504", "timeout", "drop")


class Default(Enum):
    """``queue_fault(retry_after=...)`` left out; ``None`` already means "no header"."""

    RETRY_AFTER = "default"


DEFAULT_RETRY_AFTER = Default.RETRY_AFTER
# Statuses that carry Retry-After unless a test says otherwise: Azure sends it with
# throttling (429) and ServiceUnavailable.
RETRY_AFTER_STATUSES = (429, 503)


def default_retry_after(status: int) -> int | None:
    """``Retry-After: 1`` for 429/503, none for anything else: azure-core retries *any*
    response that carries the header, so a 409/404/400 with one would be retried silently
    instead of reaching the caller."""
    return 1 if status in RETRY_AFTER_STATUSES else None


class ConnectionDropped(requests.exceptions.ConnectionError):
    """The emulated network lost the request; azure-core turns it into ServiceRequestError."""


class ResponseLost(requests.exceptions.ConnectionError):
    """The request took effect, then the connection was reset before the answer arrived.
    Built as requests builds a reset (``ProtocolError('Connection aborted.', …)``) so
    azure-core raises ServiceResponseError, which it does not retry for POST."""

    def __init__(self, message: str) -> None:
        super().__init__(ProtocolError("Connection aborted.", ConnectionResetError(message)))


class ResponseTimeout(requests.exceptions.ReadTimeout):
    """The request took effect and the answer never came: a read timeout
    (ServiceResponseTimeoutError in azure-core)."""


class RequestTimeout(requests.exceptions.ConnectTimeout):
    """The request never reached Azure: a connect timeout (ServiceRequestTimeoutError)."""


@dataclass
class FaultSettings:
    throttle_rate: float = 0.0
    server_error_rate: float = 0.0
    latency_ms: int = 0
    drop_rate: float = 0.0
    retry_after: int = 1
    applied_lost_rate: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def settings(stored: dict[str, Any] | None) -> FaultSettings:
    """File values, overridden by the environment variables that are set."""
    values = dict(stored or {})
    for key, var in ENV.items():
        raw = os.environ.get(var)
        if raw:
            values[key] = float(raw)
    return FaultSettings(
        throttle_rate=float(values.get("throttle_rate", 0.0)),
        server_error_rate=float(values.get("server_error_rate", 0.0)),
        latency_ms=int(values.get("latency_ms", 0)),
        drop_rate=float(values.get("drop_rate", 0.0)),
        retry_after=int(values.get("retry_after", 1)),
        applied_lost_rate=float(values.get("applied_lost_rate", 0.0)),
    )


@dataclass(frozen=True)
class Fault:
    """What happens to one request: an error ``status`` (with ``retry_after``), or a
    dropped connection (``drop``), or a timeout (``timeout``); before the request takes
    effect, or after (``applied``)."""

    status: int = 0
    retry_after: int | None = None
    drop: bool = False
    timeout: bool = False
    applied: bool = False

    @property
    def lost_as(self) -> str:
        """How the answer was lost, as the request log records it."""
        if self.drop:
            return "drop"
        if self.timeout:
            return "timeout"
        return str(self.status)

    def error(self, now: float, req: ArmRequest | None = None) -> errors.ArmError:
        return _error_for(self.status, self.retry_after, now, req)

    def interrupt(self, where: str) -> None:
        """Raise the transport error of a drop or a timeout (nothing for an HTTP error)."""
        if self.drop:
            if self.applied:
                raise ResponseLost(f"Connection reset after the request was applied ({where}).")
            raise ConnectionDropped(f"Connection aborted by the emulator ({where}).")
        if self.timeout:
            if self.applied:
                raise ResponseTimeout(f"Read timed out after the request was applied ({where}).")
            raise RequestTimeout(f"Connection to the emulator timed out ({where}).")


def _queued(store: Store, req: ArmRequest) -> Fault | None:
    """Consume the first matching queued fault."""
    conn = store.conn()
    rows = conn.execute(
        "SELECT id, method, path_contains, status, retry_after, drop_conn, timeout, applied "
        "FROM fault_queue WHERE remaining > 0 ORDER BY id"
    ).fetchall()
    target = req.path_and_query.lower()
    for fid, method, contains, status, retry_after, drop, timeout, applied in rows:
        if method and method.upper() != req.method:
            continue
        if contains and contains.lower() not in target:
            continue
        with store.write() as wconn:
            cur = wconn.execute(
                "UPDATE fault_queue SET remaining = remaining - 1 WHERE id = ? AND remaining > 0",
                (fid,),
            )
        if cur.rowcount:
            return Fault(status, retry_after, bool(drop), bool(timeout), bool(applied))
    return None


def _error_for(
    status: int, retry_after: int | None, now: float, req: ArmRequest | None = None
) -> errors.ArmError:
    if status == 429:
        err = errors.throttled(retry_after or 1, start=clock.iso(now), end=clock.iso(now + 1800))
        if retry_after is None:
            err.headers.pop("Retry-After", None)
        return err
    if status >= 500:
        err = errors.server_error(status)
    elif status == 409:
        err = errors.concurrent_conflict()
    elif status == 401:
        err = errors.invalid_authentication_token()
    elif status == 403:
        err = errors.authorization_failed(
            req.method if req is not None else "GET", req.path if req is not None else "/"
        )
    else:
        err = errors.ArmError(
            status, "BadRequest" if status == 400 else "NotFound", "Injected fault."
        )
    if retry_after is not None:
        err.headers["Retry-After"] = str(retry_after)
    else:
        err.headers.pop("Retry-After", None)
    return err


def pick(store: Store, req: ArmRequest, cfg: FaultSettings) -> Fault | None:
    """The fault for this request, if any: a queued one first, then the rates."""
    queued = _queued(store, req)
    if queued is not None:
        return queued
    if cfg.drop_rate and _RANDOM.random() < cfg.drop_rate:
        return Fault(drop=True)
    if cfg.throttle_rate and _RANDOM.random() < cfg.throttle_rate:
        return Fault(429, cfg.retry_after)
    if cfg.server_error_rate and _RANDOM.random() < cfg.server_error_rate:
        return Fault(_RANDOM.choice((500, 503)), cfg.retry_after)
    if cfg.applied_lost_rate and _RANDOM.random() < cfg.applied_lost_rate:
        how = _RANDOM.choice(LOST_AS)
        if how in ("drop", "timeout"):
            return Fault(drop=how == "drop", timeout=how == "timeout", applied=True)
        return Fault(int(how), default_retry_after(int(how)), applied=True)
    return None


OPERATION_FAILURE_STATUSES = ("Failed", "Canceled")


def queue_operation_failure(
    conn: sqlite3.Connection,
    *,
    path_contains: str,
    status: str,
    code: str,
    message: str,
    count: int,
) -> None:
    """Make the next ``count`` operations started by a matching request end in ``status``."""
    conn.execute(
        "INSERT INTO operation_failures (path_contains, status, code, message, remaining) "
        "VALUES (?, ?, ?, ?, ?)",
        (path_contains, status, code, message, int(count)),
    )


def take_operation_failure(conn: sqlite3.Connection, path: str) -> dict[str, Any] | None:
    """Consume the first queued failure whose ``path_contains`` is in ``path``.

    Call inside the write transaction that starts the operation, so a request that is
    refused after all (rolled back) does not use the failure up.
    Returns ``{"status": ..., "error": {"code": ..., "message": ...}}``."""
    rows = conn.execute(
        "SELECT id, path_contains, status, code, message FROM operation_failures "
        "WHERE remaining > 0 ORDER BY id"
    ).fetchall()
    for fid, contains, status, code, message in rows:
        if contains.lower() in path.lower():
            conn.execute(
                "UPDATE operation_failures SET remaining = remaining - 1 WHERE id = ?", (fid,)
            )
            return {"status": status, "error": {"code": code, "message": message}}
    return None
