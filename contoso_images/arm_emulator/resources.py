"""What every stored resource kind answers the same way: read, list, create, update, delete.

VMs, managed images, galleries, image definitions and image versions differ in their
PUT rules and bodies, not in how ARM reads, pages, accepts a creation or deletes them, so
those mechanics are written once here and the ``handlers_*`` modules keep only their
rules. The effects that settle a creation or a deletion live here too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from . import errors, lro, validate
from .lookup import require, require_rg, require_sub
from .paging import paged
from .state import (
    Resource,
    delete_resource,
    get_resource,
    get_resource_by_seq,
    insert_resource,
    page_resources,
    save_resource,
)
from .wire import ArmRequest, Ctx, Response, json_response

Render = Callable[[Resource], dict[str, Any]]
Guard = Callable[[sqlite3.Connection], None]  # raises ArmError to refuse


def render(res: Resource) -> dict[str, Any]:
    """The stored body, showing ``Deleting`` while a delete is pending."""
    body = dict(res.body)
    if res.emu.get("deleting"):
        body["properties"] = {**body["properties"], "provisioningState": "Deleting"}
    return body


# --- reads ----------------------------------------------------------------------------


def get(
    ctx: Ctx, kind: str, sub: str, rg: str, name: str, parent: str = "", show: Render = render
) -> Response:
    return json_response(200, show(require(ctx.store.conn(), kind, sub, rg, name, parent)))


def list_in_subscription(
    ctx: Ctx, req: ArmRequest, kind: str, sub: str, show: Render = render
) -> Response:
    """One page of the subscription's resources of ``kind`` (404 for an unknown one)."""
    conn = ctx.store.conn()
    require_sub(conn, sub)
    return paged(
        ctx,
        req,
        lambda after, limit: page_resources(conn, kind, sub, after=after, limit=limit),
        show,
    )


def list_in_group(
    ctx: Ctx,
    req: ArmRequest,
    kind: str,
    sub: str,
    rg: str,
    *,
    parent: str = "",
    show: Render = render,
) -> Response:
    """One page of the resources of ``kind`` in a resource group (under ``parent``)."""
    conn = ctx.store.conn()
    require_rg(conn, sub, rg)
    return paged(
        ctx,
        req,
        lambda after, limit: page_resources(
            conn, kind, sub, rg=rg, parent=parent, after=after, limit=limit
        ),
        show,
    )


# --- writes ---------------------------------------------------------------------------


def created(
    ctx: Ctx,
    req: ArmRequest,
    conn: sqlite3.Connection,
    *,
    kind: str,
    sub: str,
    rg: str,
    name: str,
    body: dict[str, Any],
    duration: float,
    parent: str = "",
    emu: dict[str, Any] | None = None,
    poll: str = lro.CRP,
    settle: str = "resource_ready",
    show: Render = render,
) -> Response:
    """Store a new resource in ``Creating`` and answer 201 + Azure-AsyncOperation.

    The operation (``settle``, by default ``resource_ready``) makes it ``Succeeded``.
    There is no Location header, as in every recorded PUT: the client's final GET for a
    PUT is the resource URL itself."""
    insert_resource(conn, kind, sub, rg, name, body, emu or {"op": None}, parent)
    res = require(conn, kind, sub, rg, name, parent)
    op = lro.start(conn, ctx, req, res, kind=settle, op_key=f"{kind}_create", duration=duration)
    return json_response(201, show(res), lro.async_only(op, req.api_version or "", poll=poll))


def begin_update(
    conn: sqlite3.Connection,
    ctx: Ctx,
    req: ArmRequest,
    res: Resource,
    *,
    duration: float,
    poll: str = lro.CRP,
    params: dict[str, Any] | None = None,
    show: Render = render,
    settle: str = "resource_updated",
) -> Response:
    """A PUT or PATCH on an existing resource, whose changes the caller has applied to
    ``res.body``: 200 + Azure-AsyncOperation with ``provisioningState: Updating`` and the
    new values already in the body, then ``Succeeded`` once the update settles (recorded
    for gallery and image-version updates). Refused with 409 Conflict while another
    operation is pending on the resource."""
    if res.emu.get("op"):
        raise errors.concurrent_conflict()
    res.body.setdefault("properties", {})["provisioningState"] = "Updating"
    op = lro.start(
        conn,
        ctx,
        req,
        res,
        kind=settle,
        op_key=f"{res.kind}_update",
        duration=duration,
        params=params,
    )
    return json_response(200, show(res), lro.async_only(op, req.api_version or "", poll=poll))


def tags_of(payload: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"tags": ...}`` to merge into a body: Azure echoes ``tags`` only when the request
    sent them (a gallery created without tags has no ``tags`` key at all)."""
    if "tags" in payload:
        return {"tags": validate.tags(payload)}
    return {} if current is None or "tags" not in current else {"tags": current["tags"]}


def begin_delete(
    conn: sqlite3.Connection, ctx: Ctx, req: ArmRequest, res: Resource
) -> lro.Operation:
    """Mark ``res`` as deleting; the row disappears when the operation settles."""
    res.emu["deleting"] = True
    return lro.start(
        conn,
        ctx,
        req,
        res,
        kind="resource_delete",
        op_key="delete",
        duration=ctx.durations["delete"],
    )


def delete(
    ctx: Ctx,
    req: ArmRequest,
    kind: str,
    sub: str,
    rg: str,
    name: str,
    parent: str = "",
    *,
    guard: Guard | None = None,
    preempt: bool = False,
    poll: str = lro.CRP,
    retry_after: int | None = None,
) -> Response:
    """DELETE → 202 + Azure-AsyncOperation (+ ``Retry-After`` where Azure sends one);
    deleting what does not exist answers 204, as ARM does (a missing resource group is
    still 404).

    ``guard`` runs inside the write transaction that records the deletion, so what it
    checks (say, "no nested resources") cannot change between the check and the delete.
    A pending operation on the resource refuses the delete (409 Conflict), unless
    ``preempt``: then it ends ``Canceled``/``OperationPreempted`` and the delete goes on."""
    with lro.writing(ctx) as conn:
        require_rg(conn, sub, rg)
        if guard is not None:
            guard(conn)
        res = get_resource(conn, kind, sub, rg, name, parent)
        if res is None:
            return Response(204, {}, b"")
        pending = res.emu.get("op")
        if pending and not res.emu.get("deleting"):
            if not preempt:
                raise errors.concurrent_conflict()
            lro.preempt(conn, pending["id"], ctx.now)
        op = begin_delete(conn, ctx, req, res)
    return lro.accepted(op, req.api_version or "", poll=poll, retry_after=retry_after)


# --- settlement -----------------------------------------------------------------------


def release(
    conn: sqlite3.Connection,
    op: lro.Operation,
    *,
    provisioning_state: str | None = None,
    **changes: Any,
) -> None:
    """The resource of ``op`` is no longer busy with it (settled or failed): apply
    ``changes`` to its private state, and show ``provisioning_state`` when given."""
    res = get_resource_by_seq(conn, op.resource_seq or 0)
    if res is None:
        return
    if provisioning_state is not None:
        res.body.setdefault("properties", {})["provisioningState"] = provisioning_state
    res.emu.update(changes, op=None)
    save_resource(conn, res)


@lro.effect("resource_delete")
def _settle_delete(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    if op.resource_seq:
        delete_resource(conn, op.resource_seq)


@lro.rollback("resource_delete")
def _deletion_failed(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """A failed deletion leaves the resource as it was, free for the next operation."""
    release(conn, op, deleting=False)


@lro.effect("resource_ready")
def _settle_ready(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    release(conn, op, provisioning_state="Succeeded")


@lro.rollback("resource_ready")
def _creation_failed(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """A failed creation leaves the resource behind in ``Failed``, as ARM does."""
    release(conn, op, provisioning_state="Failed")


@lro.effect("resource_updated")
def _settle_update(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    release(conn, op, provisioning_state="Succeeded")


@lro.rollback("resource_updated")
def _update_failed(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """A failed update keeps the values it wrote (the 200 already showed them) and leaves
    the resource ``Failed`` (docs/emulator-fidelity.md: not observed)."""
    release(conn, op, provisioning_state="Failed")
