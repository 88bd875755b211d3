"""Recording an event: numbered, hashed and chained under one lock, in the caller's transaction.

Callers record inside the ``transaction.atomic()`` that makes the change, so the change and
its record commit together or not at all: an action that cannot be recorded does not happen.
Appends take the chain lock (PostgreSQL: a transaction-scoped advisory lock, which needs no
privilege, so the runtime role that may only INSERT and SELECT can take it; SQLite: the
project's IMMEDIATE transactions already serialise writers), then read the head, which is the
newest event. Concurrent web processes and workers never fork the chain; the sequence number
being the primary key makes a fork impossible even without the lock (the second writer fails
loudly instead).

The append that brings the chain to a multiple of ``AUDIT_CHECKPOINT_EVENTS`` queues a
checkpoint once its transaction commits (never inside the request or task that records).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from contoso_images.audit import chain, context, search
from contoso_images.audit.models import AuditEvent, Outcome

ACTION_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_\-]+)*$")
BULK_BATCH = 1000
#: The advisory lock appends and checkpoints take on PostgreSQL ("contoso" in ASCII).
CHAIN_LOCK = 0x636F6E746F736F
CHECKPOINT_ACTION = "audit.checkpoint"
CHECKPOINT_DUE_TASK = "contoso_images.audit.tasks.audit_checkpoint_due"
SEARCH_INDEX_TASK = "contoso_images.audit.tasks.audit_search_index"
#: Keys of an operation's state kept out of the record: engine bookkeeping, not results.
ENGINE_STATE_KEYS = frozenset({"sent"})


@dataclass(frozen=True)
class Subject:
    """What an action was done to, when it is not an operation's ARM target.

    ``kind``: an ARM resource type (``Microsoft.Compute/galleries/images/versions``) or a
    word (``user``, ``url``, ``audit``); ``id``: the ARM resource id where there is one.
    """

    kind: str
    id: str = ""
    name: str = ""


def record(
    *,
    action: str,
    actor: Any = None,
    target: Any = None,
    outcome: str = Outcome.SUCCEEDED,
    parameters: Mapping[str, Any] | None = None,
    result: Mapping[str, Any] | None = None,
    detail: str = "",
    error: Any = None,
    error_code: str = "",
    error_message: str = "",
    request_id: str = "",
    correlation_id: str = "",
    duration: timedelta | float | None = None,
    operation: Any = None,
    related: tuple[str, Any] | None = None,
    request: HttpRequest | None = None,
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the audit record and return it.

    ``actor``: a user (None: the signed-in user of the request being served, else the
    system). ``target``: a :class:`Subject`, or an operations ``Target`` (anything with
    ``id``, ``name`` and ``type`` or ``kind``). ``error``: an ``AzureError`` (its code,
    message and ids are copied). ``duration``: a timedelta or seconds. ``operation``: an
    Operation or its id. ``related``: ``("catalog.review", decision.pk)``. ``request``: to
    take the source address from (default: the request being served). Raises ValueError on
    a malformed action or outcome, and any database error as is: call it inside your
    transaction so that nothing happens unrecorded.
    """
    values = build_values(
        action=action,
        actor=actor,
        target=target,
        outcome=outcome,
        parameters=parameters,
        result=result,
        detail=detail,
        error=error,
        error_code=error_code,
        error_message=error_message,
        request_id=request_id,
        correlation_id=correlation_id,
        duration=duration,
        operation=operation,
        related=related,
        request=request,
        occurred_at=occurred_at,
    )
    if outcome == Outcome.REFUSED:
        bound = context.current()
        if bound is not None:
            bound.refusal_recorded = True
    return append_many([values])[0]


def record_many(entries: Iterable[Mapping[str, Any]]) -> list[AuditEvent]:
    """Append many events in one transaction and one lock (each mapping holds the keyword
    arguments of :func:`record`): bulk imports and benchmarks."""
    return append_many([build_values(**dict(entry)) for entry in entries])


def append_many(rows: list[dict[str, Any]]) -> list[AuditEvent]:
    """Number, chain and insert prepared rows (see :func:`build_values`) under the chain lock.

    Plain SQL, not the ORM's query building: an append is two statements and costs well
    under a millisecond of Python, so recording never slows the action it records.
    """
    events: list[AuditEvent] = []
    # No savepoint inside the caller's transaction: a failure here dooms it, as it should.
    with transaction.atomic(savepoint=False):
        first, prev_hash = locked_head()
        sequence = first
        for values in rows:
            sequence += 1
            values = {**values, "sequence": sequence, "prev_hash": prev_hash}
            values["hash"] = prev_hash = chain.event_hash(values)
            event = AuditEvent(**values)
            event._chained = True
            events.append(event)
        _insert(events)
        _index_for_search(first, sequence, events)
        if _reaches_checkpoint_count(first, sequence, rows):
            transaction.on_commit(checkpoint_due_enqueue, robust=True)
    for event in events:
        event._state.adding = False
        event._state.db = connection.alias
    return events


def _index_for_search(first: int, last: int, events: list[AuditEvent]) -> None:
    """Keep the free-text index near the head (``search.py``): a bulk append indexes its own
    events (and any the index had not reached) in its transaction; an append crossing a
    multiple of ``search.INDEX_EVERY`` queues the catch-up once it commits. One event's own
    index entry would cost half again what the append costs; in a batch, a few percent."""
    if len(events) >= search.INDEX_EVERY:
        search.catch_up()
    elif last // search.INDEX_EVERY != first // search.INDEX_EVERY:
        transaction.on_commit(search_index_enqueue, robust=True)


def search_index_enqueue() -> None:
    """Queue the search index's catch-up (after the commit of the append that asked)."""
    from django_q.tasks import async_task

    async_task(SEARCH_INDEX_TASK, group="audit", task_name="audit-search-index")


def _reaches_checkpoint_count(first: int, last: int, rows: list[dict[str, Any]]) -> bool:
    """Whether these appends bring the chain to a multiple of AUDIT_CHECKPOINT_EVENTS (a
    checkpoint's own event does not: it would only ask for itself again)."""
    every = int(getattr(settings, "AUDIT_CHECKPOINT_EVENTS", 0) or 0)
    if every <= 0 or last // every == first // every:
        return False
    return any(row.get("action") != CHECKPOINT_ACTION for row in rows)


def checkpoint_due_enqueue() -> None:
    """Queue a checkpoint (after the commit that reached the count): verifying the whole
    chain takes longer than a request may wait."""
    from django_q.tasks import async_task

    async_task(CHECKPOINT_DUE_TASK, group="audit", task_name="audit-checkpoint-events")


def _insert(events: list[AuditEvent]) -> None:
    fields = AuditEvent._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO audit_auditevent ({columns}) VALUES ({placeholders})"  # noqa: S608 - model columns
    with connection.cursor() as cursor:
        for start in range(0, len(events), BULK_BATCH):
            cursor.executemany(
                sql,
                [
                    [f.get_db_prep_save(getattr(e, f.attname), connection) for f in fields]
                    for e in events[start : start + BULK_BATCH]
                ],
            )


def locked_head() -> tuple[int, str]:
    """(sequence, hash) of the newest event, (0, GENESIS) for an empty chain, with the chain
    lock held until the transaction ends (call it inside one)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        cursor.execute("SELECT sequence, hash FROM audit_auditevent ORDER BY sequence DESC LIMIT 1")
        row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row else (0, chain.GENESIS)


# --- Building the row -----------------------------------------------------------------------


def build_values(
    *,
    action: str,
    actor: Any = None,
    target: Any = None,
    outcome: str = Outcome.SUCCEEDED,
    parameters: Mapping[str, Any] | None = None,
    result: Mapping[str, Any] | None = None,
    detail: str = "",
    error: Any = None,
    error_code: str = "",
    error_message: str = "",
    request_id: str = "",
    correlation_id: str = "",
    duration: timedelta | float | None = None,
    operation: Any = None,
    related: tuple[str, Any] | None = None,
    request: HttpRequest | None = None,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """The columns of an event (all but sequence, prev_hash and hash), checked and trimmed."""
    if not isinstance(action, str) or len(action) > 120 or not ACTION_PATTERN.match(action):
        raise ValueError(f"An audit action is a lower-case dotted name, not {action!r}.")
    if outcome not in Outcome.values:
        raise ValueError(f"An audit outcome is one of {Outcome.values}, not {outcome!r}.")
    if request is None:
        request = context.current_request()
    if actor is None:
        actor = context.request_user(request)
    user_id, username, display = _actor(actor)
    kind, target_id, name = _target(target)
    if error is not None:
        error_code = error_code or str(getattr(error, "code", "") or "")
        error_message = error_message or str(getattr(error, "message", "") or error)
        request_id = request_id or str(getattr(error, "request_id", "") or "")
        correlation_id = correlation_id or str(getattr(error, "correlation_id", "") or "")
    if related is not None:
        related_kind, related_id = str(related[0]), str(related[1])
    else:
        related_kind = related_id = ""
    operation_id = getattr(operation, "pk", operation)
    return {
        "version": chain.FORMAT_VERSION,
        "occurred_at": occurred_at or timezone.now(),
        "action": action,
        "outcome": str(outcome),
        "actor_user_id": user_id,
        "actor_username": _text(username, 150),
        "actor_display": _text(display, 300),
        "source_ip": context.client_ip(request) if request is not None else "",
        "user_agent": _text(context.user_agent(request), 300) if request is not None else "",
        "target_kind": _text(kind, 120),
        "target_id": _text(target_id, 400),
        "target_key": _text(target_id, 400).lower(),
        "target_name": _text(name, 300),
        "parameters": _json(parameters),
        "result": _json(result),
        "detail": _text(detail),
        "error_code": _text(error_code, 100),
        "error_message": _text(error_message),
        "request_id": _text(request_id, 100),
        "correlation_id": _text(correlation_id, 100),
        "duration_ms": _milliseconds(duration),
        "operation_id": int(operation_id) if operation_id is not None else None,
        "related_kind": _text(related_kind, 60),
        "related_id": _text(related_id, 100),
    }


def _actor(actor: Any) -> tuple[int | None, str, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "", ""
    username = actor.get_username()
    full_name = actor.get_full_name() if hasattr(actor, "get_full_name") else ""
    return actor.pk, username, (full_name or "").strip() or username


def _target(target: Any) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    kind = getattr(target, "kind", None) or getattr(target, "type", "") or ""
    return str(kind), str(getattr(target, "id", "") or ""), str(getattr(target, "name", "") or "")


def _text(value: Any, limit: int | None = None) -> str:
    text = str(value or "").replace("\x00", "")
    return text[:limit] if limit else text


def _json(value: Mapping[str, Any] | None) -> str:
    """Canonical JSON text; values JSON cannot hold (dates, ids) become their text."""
    if not value:
        return "{}"
    plain = json.loads(json.dumps(dict(value), default=str, allow_nan=False))
    return chain.canonical_json(plain)


def _milliseconds(duration: timedelta | float | None) -> int | None:
    if duration is None:
        return None
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
    return max(0, round(seconds * 1000))


def operation_result(state: Mapping[str, Any] | None) -> dict[str, Any]:
    """What an operation learned (ids it created), without the engine's bookkeeping."""
    return {k: v for k, v in (state or {}).items() if k not in ENGINE_STATE_KEYS}
