"""Fault injection: throttling, server errors, latency and dropped connections.

Rates are persisted in the state file so every process (web, workers) misbehaves the
same way; the ``AZURE_EMULATOR_*`` environment variables override the file when set.
``queue_fault`` entries hit the next matching requests exactly, for tests.
Queued *operation* failures are different: the request is accepted (202/201) and the
long-running operation it starts ends ``Failed`` or ``Canceled`` when it settles.
"""

from __future__ import annotations

import os
import random
import sqlite3
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

import requests

from . import clock, errors
from .state import Store
from .wire import ArmRequest

_RANDOM = random.Random()  # noqa: S311 - fault dice, not cryptography

ENV = {
    "throttle_rate": "AZURE_EMULATOR_THROTTLE_RATE",
    "server_error_rate": "AZURE_EMULATOR_SERVER_ERROR_RATE",
    "latency_ms": "AZURE_EMULATOR_LATENCY_MS",
    "drop_rate": "AZURE_EMULATOR_DROP_RATE",
}


class Default(Enum):
    """``queue_fault(retry_after=...)`` left out; ``None`` already means "no header"."""

    RETRY_AFTER = "default"


DEFAULT_RETRY_AFTER = Default.RETRY_AFTER
# Statuses that carry Retry-After unless a test says otherwise: Azure sends it with
# throttling (429, §3.4) and ServiceUnavailable.
RETRY_AFTER_STATUSES = (429, 503)


def default_retry_after(status: int) -> int | None:
    """``Retry-After: 1`` for 429/503, none for anything else: azure-core retries *any*
    response that carries the header, so a 409/404/400 with one would be retried silently
    instead of reaching the caller (azure-facts §9.7)."""
    return 1 if status in RETRY_AFTER_STATUSES else None


class ConnectionDropped(requests.exceptions.ConnectionError):
    """The emulated network lost the request; azure-core turns it into ServiceRequestError."""


@dataclass
class FaultSettings:
    throttle_rate: float = 0.0
    server_error_rate: float = 0.0
    latency_ms: int = 0
    drop_rate: float = 0.0
    retry_after: int = 1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def settings(stored: dict[str, Any] | None) -> FaultSettings:
    """File values, overridden by the environment variables that are set."""
    values = dict(stored or {})
    for key, var in ENV.items():
        raw = os.environ.get(var)
        if raw not in (None, ""):
            values[key] = float(raw)
    return FaultSettings(
        throttle_rate=float(values.get("throttle_rate", 0.0)),
        server_error_rate=float(values.get("server_error_rate", 0.0)),
        latency_ms=int(values.get("latency_ms", 0)),
        drop_rate=float(values.get("drop_rate", 0.0)),
        retry_after=int(values.get("retry_after", 1)),
    )


def _queued(store: Store, req: ArmRequest) -> tuple[int, int | None, bool] | None:
    """Consume the first matching queued fault: ``(status, retry_after, drop)``."""
    conn = store.conn()
    rows = conn.execute(
        "SELECT id, method, path_contains, status, retry_after, drop_conn FROM fault_queue "
        "WHERE remaining > 0 ORDER BY id"
    ).fetchall()
    target = req.path_and_query.lower()
    for fid, method, contains, status, retry_after, drop in rows:
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
            return status, retry_after, bool(drop)
    return None


def _error_for(status: int, retry_after: int | None, now: float) -> errors.ArmError:
    if status == 429:
        err = errors.throttled(retry_after or 1, start=clock.iso(now), end=clock.iso(now + 1800))
        if retry_after is None:
            err.headers.pop("Retry-After", None)
        return err
    if status >= 500:
        err = errors.server_error(status)
    elif status == 409:
        err = errors.concurrent_conflict()
    else:
        err = errors.ArmError(
            status, "BadRequest" if status == 400 else "NotFound", "Injected fault."
        )
    if retry_after is not None:
        err.headers["Retry-After"] = str(retry_after)
    else:
        err.headers.pop("Retry-After", None)
    return err


def pick(store: Store, req: ArmRequest, cfg: FaultSettings, now: float) -> errors.ArmError | None:
    """The fault for this request, if any. Raises :class:`ConnectionDropped` for drops."""
    queued = _queued(store, req)
    if queued is not None:
        status, retry_after, drop = queued
        if drop:
            raise ConnectionDropped("Connection aborted by the emulator (queued fault).")
        return _error_for(status, retry_after, now)
    if cfg.drop_rate and _RANDOM.random() < cfg.drop_rate:
        raise ConnectionDropped("Connection aborted by the emulator (drop_rate).")
    if cfg.throttle_rate and _RANDOM.random() < cfg.throttle_rate:
        return _error_for(429, cfg.retry_after, now)
    if cfg.server_error_rate and _RANDOM.random() < cfg.server_error_rate:
        return _error_for(_RANDOM.choice((500, 503)), cfg.retry_after, now)
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
