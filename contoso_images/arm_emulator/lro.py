"""Asynchronous operations: the 202 headers, the operation-status resource, settlement.

Each long-running request stores an operation row (``started``, ``due``). There is no
background thread: before a request is handled, every operation whose ``due`` time has
passed is *settled* — its effect is applied to the resource (VM power state, resource
ready, resource deleted) in one short write transaction. Any process sharing the state
file can settle, so the web process sees what a worker started.

An operation started while a failure was queued for its request path
(``Emulator.queue_operation_failure``) is accepted like any other, then settles with
status ``Failed``/``Canceled`` and ARM's error object in the operation-status body: its
*rollback* runs instead of its effect. An operation that a more recent one replaces (a VM
delete, or a power-off during a start) is *preempted*: it ends
``Canceled``/``OperationPreempted`` at once and neither its effect nor its rollback runs.

URLs are the ones recorded from real Compute: ``Azure-AsyncOperation`` →
``.../providers/Microsoft.Compute/locations/{loc}/operations/{id}?p=…&api-version=…`` and
``Location`` → the same with ``monitor=true``; Compute Gallery operations live under
``capsOperations`` instead, without ``p``. The poll echoes the api-version of the request
that started the operation. The status body is ``{startTime, [endTime], status,
[properties.output], name}``; ``properties.output`` carries what a run command or a capture
produced.

``Retry-After`` is sent only where Azure sends it (docs/emulator-fidelity.md, "Retry-After"):
``10`` on the 202 of a VM deallocate and of a VM delete (and of a VM create, recorded with
10 too; the handler passes ``RETRY_AFTER_VM``), none on power off, restart, start, Run
Command, capture, image and gallery writes, and none on status polls, so a client polls at
its own interval there (the SDK's ``polling_interval``; the emulator transport caps every
sleep, to 0 in tests). A value is never 0: azure-core reads 0 as "no header".
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import clock, faults, regions
from .errors import ArmError, operation_not_found, operation_preempted
from .state import Resource, save_resource
from .wire import ARM_HOST, ArmRequest, Ctx, Response, json_response, new_id

COMPUTE_API_VERSION = "2026-04-01"
# Where the status of an operation is polled: Compute (CRP) or Compute Gallery.
CRP, CAPS = "operations", "capsOperations"
#: Retry-After on the 202/201 of a VM deallocate, delete and create (recorded: 10 seconds).
RETRY_AFTER_VM = 10


@dataclass
class Operation:
    id: str
    sub: str
    location: str
    kind: str
    resource_seq: int | None
    started: float
    due: float
    settled: bool
    status: str
    params: dict[str, Any]
    result: Any
    error: dict[str, Any] | None


_OP_COLUMNS = (
    "id, sub, location, kind, resource_seq, started, due, settled, status, params, result, error"
)

Effect = Callable[[sqlite3.Connection, Operation, float], Any]
_EFFECTS: dict[str, Effect] = {}
_ROLLBACKS: dict[str, Effect] = {}
_FAILURE = "failure"  # params key of a queued failure: {"status": ..., "error": {...}}


def effect(kind: str) -> Callable[[Effect], Effect]:
    """Register what settling an operation of ``kind`` does (returns the op's result)."""

    def register(fn: Effect) -> Effect:
        _EFFECTS[kind] = fn
        return fn

    return register


def rollback(*kinds: str) -> Callable[[Effect], Effect]:
    """Register what settling a *failed* operation of these kinds does instead of its effect
    (typically: free the resource and leave it as it was)."""

    def register(fn: Effect) -> Effect:
        for kind in kinds:
            _ROLLBACKS[kind] = fn
        return fn

    return register


def _row(row: tuple[Any, ...]) -> Operation:
    op_id, sub, loc, kind, seq, started, due, settled, status, params, result, error = row
    return Operation(
        op_id,
        sub,
        loc,
        kind,
        seq,
        started,
        due,
        bool(settled),
        status,
        json.loads(params),
        None if result is None else json.loads(result),
        None if error is None else json.loads(error),
    )


def start(
    conn: sqlite3.Connection,
    ctx: Ctx,
    req: ArmRequest,
    res: Resource,
    *,
    kind: str,
    op_key: str,
    duration: float,
    params: dict[str, Any] | None = None,
) -> Operation:
    """Start an operation of ``kind`` on ``res``, due ``duration`` seconds from now.

    ``res`` is saved marked busy with it (``emu["op"]``, ``op_key`` says what it is doing).
    A failure queued for ``req``'s path (:func:`faults.take_operation_failure`) is kept in
    the operation's params and applied when it settles: the request is still accepted."""
    params = dict(params or {})
    failure = faults.take_operation_failure(conn, req.path)
    if failure is not None:
        params[_FAILURE] = failure
    op = Operation(
        new_id(),
        res.sub.lower(),
        regions.normalize(res.body["location"]),
        kind,
        res.seq,
        ctx.now,
        ctx.now + max(0.0, duration),
        False,
        "InProgress",
        params,
        None,
        None,
    )
    conn.execute(
        f"INSERT INTO operations ({_OP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL, NULL)",  # noqa: S608
        (
            op.id,
            op.sub,
            op.location,
            op.kind,
            op.resource_seq,
            op.started,
            op.due,
            op.status,
            json.dumps(op.params),
        ),
    )
    res.emu["op"] = {"id": op.id, "kind": op_key, "until": op.due}
    save_resource(conn, res)
    return op


def get(conn: sqlite3.Connection, op_id: str) -> Operation | None:
    row = conn.execute(
        f"SELECT {_OP_COLUMNS} FROM operations WHERE id = ?",  # noqa: S608
        (op_id,),
    ).fetchone()
    return None if row is None else _row(row)


def has_due(conn: sqlite3.Connection, now: float) -> bool:
    row = conn.execute(
        "SELECT 1 FROM operations WHERE settled = 0 AND due <= ? LIMIT 1", (now,)
    ).fetchone()
    return row is not None


def settle_due(conn: sqlite3.Connection, now: float) -> int:
    """Apply the effect of every due operation (call inside a write transaction)."""
    rows = conn.execute(
        f"SELECT {_OP_COLUMNS} FROM operations WHERE settled = 0 AND due <= ? ORDER BY due",  # noqa: S608
        (now,),
    ).fetchall()
    for row in rows:
        op = _row(row)
        failure = op.params.get(_FAILURE)
        if failure is None:
            status, error = "Succeeded", None
            fn = _EFFECTS.get(op.kind)
        else:
            status, error = failure["status"], json.dumps(failure["error"])
            fn = _ROLLBACKS.get(op.kind)
        result = fn(conn, op, op.due) if fn else None
        conn.execute(
            "UPDATE operations SET settled = 1, status = ?, result = ?, error = ? WHERE id = ?",
            (status, None if result is None else json.dumps(result), error, op.id),
        )
    return len(rows)


def preempt(conn: sqlite3.Connection, op_id: str, now: float) -> None:
    """End a pending operation ``Canceled`` with ``OperationPreempted`` as of ``now``.

    Neither its effect nor its rollback runs: the operation that preempts it takes the
    resource over (call this right before :func:`start`-ing that one, in the same write
    transaction), so whatever the old one would have done is simply never done."""
    conn.execute(
        "UPDATE operations SET settled = 1, status = 'Canceled', due = ?, error = ? "
        "WHERE id = ? AND settled = 0",
        (now, json.dumps(operation_preempted()), op_id),
    )


def headers(
    op: Operation, api_version: str, *, poll: str = CRP, retry_after: int | None = None
) -> dict[str, str]:
    """The 202/201/200 headers that make ARMPolling poll this operation; ``Retry-After``
    only when given (only where Azure sends one)."""
    base = (
        f"{ARM_HOST}/subscriptions/{op.sub}/providers/Microsoft.Compute/locations/"
        f"{quote(op.location)}/{poll}/{op.id}"
    )
    v = quote(api_version or COMPUTE_API_VERSION)
    if poll == CRP:
        base += f"?p={new_id()}&"
    else:
        base += "?"
    head = {
        "Azure-AsyncOperation": f"{base}api-version={v}",
        "Location": f"{base}monitor=true&api-version={v}",
        "x-ms-request-id": op.id,
    }
    if retry_after:
        head["Retry-After"] = str(max(1, int(retry_after)))
    return head


def async_only(
    op: Operation, api_version: str, *, poll: str = CRP, retry_after: int | None = None
) -> dict[str, str]:
    """The headers of a PUT or PATCH: Azure-AsyncOperation and no Location, since the
    client's final GET is the resource URL itself."""
    head = headers(op, api_version, poll=poll, retry_after=retry_after)
    head.pop("Location")
    return head


def accepted(
    op: Operation, api_version: str, *, poll: str = CRP, retry_after: int | None = None
) -> Response:
    """202 Accepted with an empty body (POST actions, DELETE)."""
    return Response(202, headers(op, api_version, poll=poll, retry_after=retry_after), b"")


def status_handler(ctx: Ctx, req: ArmRequest, sub: str, location: str, op_id: str) -> Response:
    """GET on the Azure-AsyncOperation URL, or (``monitor=true``) on the Location URL."""
    op = get(ctx.store.conn(), op_id)
    if op is None or op.sub != sub.lower():
        raise operation_not_found(op_id)
    if req.flag("monitor"):
        if not op.settled:
            return Response(202, {"Location": f"{ARM_HOST}{req.path_and_query}"}, b"")
        if op.error:
            # The HTTP status of a failed operation's monitor URL is not known (no
            # recording shows one); ARMPolling reads the Azure-AsyncOperation body.
            raise ArmError(500, op.error["code"], op.error["message"])
        if op.result is not None:
            return json_response(200, op.result)
        return Response(200, {}, b"")
    body: dict[str, Any] = {"startTime": clock.iso(op.started)}
    if op.settled:
        body["endTime"] = clock.iso(op.due)
    body["status"] = op.status if op.settled else "InProgress"
    if op.result is not None:
        body["properties"] = {"output": op.result}
    if op.error:
        body["error"] = op.error
    body["name"] = op.id
    return json_response(200, body)


@contextmanager
def writing(ctx: Ctx) -> Iterator[sqlite3.Connection]:
    """A write transaction that first settles whatever became due (so rules see 'now')."""
    with ctx.store.write() as conn:
        settle_due(conn, ctx.now)
        yield conn
