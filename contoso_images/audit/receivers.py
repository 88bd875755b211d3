"""What the audit record writes on its own, from other code's signals and events.

**Operations.** Everything that goes through the operations engine is recorded from its
events: each OperationEvent becomes one audit event, ``<kind>.requested`` / ``.refused`` /
``.succeeded`` / ``.failed`` / ``.cancel_requested`` / ``.canceled``, and
``<kind>.step.<step>.succeeded`` / ``.skipped`` for steps; an event name this module does
not know yet is still recorded as ``<kind>.<name>``. The receiver runs inside the
transaction that records the change and lets any error through, so an operation whose
record cannot be written does not change either. ``on_operation_event.many`` takes a batch
(a bulk request's events) and appends it in one statement, so asking for a thousand
operations costs a fixed number of queries.

**Accounts.** Sign-in, sign-out, failed sign-ins and lockouts, from Django's and
django-axes' signals. A sign-in that has more to say (the Entra ID sign-in: ``oid``, ``tid``,
the roles claimed and granted; a local password refused by policy) puts it on the request
under ``LOGIN_DETAILS_ATTRIBUTE`` before Django sends the signal. Changes of who may do
what (users, groups, permissions, unlocks) are recorded by ``access_changes``.

``AuditConfig.ready`` connects both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contoso_images.audit.models import Outcome
from contoso_images.audit.services.recording import (
    Subject,
    append_many,
    build_values,
    operation_result,
    record,
)
from contoso_images.core.users import Person
from contoso_images.operations.models import OperationStep
from contoso_images.operations.registry import OperationEvent

# --- Operations ------------------------------------------------------------------------------


def on_operation_event(event: OperationEvent) -> None:
    append_many([_values(event)])


def on_operation_events(events: Sequence[OperationEvent]) -> None:
    if events:
        append_many([_values(event) for event in events])


on_operation_event.many = on_operation_events  # type: ignore[attr-defined]


def _values(event: OperationEvent) -> dict[str, Any]:
    operation = event.operation
    kind = event.kind
    if event.name == "requested":
        return build_values(
            action=f"{kind}.requested",
            actor=event.user,
            target=event.target,
            outcome=Outcome.ACCEPTED,
            parameters=operation.parameters if operation is not None else None,
            operation=operation,
        )
    if event.name == "refused":
        return _refusal(event)
    if operation is None:
        return _other(event, operation)
    if event.name in ("step_succeeded", "step_skipped"):
        return _step(event, operation)
    if event.name in ("succeeded", "failed", "canceled"):
        return _end(event, operation)
    if event.name == "cancel_requested":
        return build_values(
            action=f"{kind}.cancel_requested",
            actor=event.user,
            target=event.target,
            outcome=Outcome.ACCEPTED,
            detail=event.reason or "Asked to stop at the next step boundary.",
            operation=operation,
        )
    return _other(event, operation)


def _refusal(event: OperationEvent) -> dict[str, Any]:
    from contoso_images.audit import context

    bound = context.current()
    if bound is not None:
        bound.refusal_recorded = True
    return build_values(
        action=f"{event.kind}.refused",
        actor=event.user,
        target=event.target,
        outcome=Outcome.REFUSED,
        detail=event.reason,
    )


def _other(event: OperationEvent, operation: Any) -> dict[str, Any]:
    """An event name this module does not know yet: recorded anyway, never dropped."""
    return build_values(
        action=f"{event.kind}.{event.name}",
        actor=event.user or _requester(operation),
        target=event.target,
        outcome=Outcome.SUCCEEDED,
        detail=event.reason,
        operation=operation,
    )


def _requester(operation: Any) -> Any:
    return operation.requested_by if operation is not None else None


def _step(event: OperationEvent, operation: Any) -> dict[str, Any]:
    skipped = event.name == "step_skipped"
    row = (
        OperationStep.objects.filter(operation_id=operation.pk, name=event.step)
        .values("started_at", "finished_at", "request_id", "correlation_id", "label")
        .first()
    )
    step: dict[str, Any] = dict(row) if row else {}
    started, finished = step.get("started_at"), step.get("finished_at")
    return build_values(
        action=f"{event.kind}.step.{event.step}.{'skipped' if skipped else 'succeeded'}",
        actor=_requester(operation),
        target=event.target,
        outcome=Outcome.SUCCEEDED,
        detail=event.reason,
        parameters={"step": event.step, "label": step.get("label", "")},
        request_id=step.get("request_id") or "",
        correlation_id=step.get("correlation_id") or "",
        duration=(finished - started) if started and finished else None,
        operation=operation,
    )


OUTCOMES = {"succeeded": Outcome.SUCCEEDED, "failed": Outcome.FAILED, "canceled": Outcome.CANCELED}


def _end(event: OperationEvent, operation: Any) -> dict[str, Any]:
    failed = event.name == "failed"
    result = operation_result(operation.state)
    if failed and operation.step:
        result["failed_step"] = operation.step
    actor = _requester(operation)
    if event.name == "canceled":
        actor = getattr(operation, "cancel_requested_by", None) or actor
    started, finished = operation.started_at, operation.finished_at
    return build_values(
        action=f"{event.kind}.{event.name}",
        actor=actor,
        target=event.target,
        outcome=OUTCOMES[event.name],
        parameters=operation.parameters,
        result=result,
        detail=(operation.error_summary if failed else "")
        or event.reason
        or (operation.progress_message if event.name == "canceled" else ""),
        error_code=operation.error_code if failed else "",
        error_message=operation.error_message if failed else "",
        request_id=operation.request_id,
        correlation_id=operation.correlation_id,
        duration=(finished - started) if started and finished else None,
        operation=operation,
    )


# --- Accounts --------------------------------------------------------------------------------

#: A request attribute: ``{"parameters": {...}, "detail": "...", "outcome": "..."}`` for the
#: sign-in (or failed sign-in) event of this request, set by the code that signs people in.
LOGIN_DETAILS_ATTRIBUTE = "_audit_login_details"


def _login_details(request: Any) -> dict[str, Any]:
    details = getattr(request, LOGIN_DETAILS_ATTRIBUTE, None) if request is not None else None
    return details if isinstance(details, dict) else {}


def _account(user: Person | None = None, username: str = "") -> Subject:
    if user is not None:
        return Subject(kind="user", id=f"user:{user.pk}", name=user.get_username())
    return Subject(kind="user", id="", name=username)


def on_logged_in(sender: Any, request: Any, user: Person, **kwargs: Any) -> None:
    details = _login_details(request)
    record(
        action="auth.login",
        actor=user,
        target=_account(user),
        parameters=details.get("parameters"),
        detail=details.get("detail", ""),
        request=request,
    )


def on_logged_out(sender: Any, request: Any, user: Person, **kwargs: Any) -> None:
    record(
        action="auth.logout",
        actor=user,
        target=_account(user) if user is not None else None,
        request=request,
    )


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    """Only the username tried is kept (Django has already masked the password)."""
    username = str(credentials.get("username", "") or "")[:150]
    details = _login_details(request)
    record(
        action="auth.login_failed",
        target=_account(username=username),
        outcome=details.get("outcome", Outcome.FAILED),
        parameters=details.get("parameters"),
        detail=details.get("detail") or "Wrong username or password, or sign-in refused.",
        request=request,
    )


def on_locked_out(
    sender: Any, request: Any = None, username: str = "", ip_address: str = "", **kw: Any
) -> None:
    record(
        action="auth.locked_out",
        target=_account(username=str(username or "")[:150]),
        outcome=Outcome.REFUSED,
        detail="Too many failed sign-ins: sign-in is locked for this username and address.",
        parameters={"axes_ip_address": ip_address} if ip_address else None,
        request=request,
    )
