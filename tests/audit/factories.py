"""Audit events for tests, appended through the real service (never built by hand)."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from contoso_images.audit.services import Subject, record_many

VM_TYPE = "Microsoft.Compute/virtualMachines"


def vm_subject(name: str = "web-01", rg: str = "rg-web") -> Subject:
    return Subject(
        kind=VM_TYPE,
        id=f"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/{rg}/providers/"
        f"Microsoft.Compute/virtualMachines/{name}",
        name=name,
    )


def append_events(n: int = 1, **kwargs: Any) -> list:
    """Append n events (default: vm.deallocate.succeeded on web-01 by the system)."""
    entry = {"action": "vm.deallocate.succeeded", "target": vm_subject(), **kwargs}
    return record_many(
        {**entry, "parameters": {"i": i, **kwargs.get("parameters", {})}} for i in range(n)
    )


#: The audit tables the database guards.
GUARDED = ("audit_auditevent", "audit_auditcheckpoint", "audit_auditverification")


def raw(*statements: str, params: Any = ()) -> None:
    """Run SQL as the test's connection does, one statement at a time, in a savepoint."""
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params or None)


def tamper(*statements: str, params: Any = ()) -> None:
    """Play someone who may change the schema (the tables' owner on PostgreSQL; anyone who can
    write the file on SQLite): take the guarding triggers off, run the statements, and put the
    triggers back exactly as they were. Uses no application code, so the attacker cannot lean
    on a door the application left open."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal "
                "AND c.relname = ANY(%s)",
                [list(GUARDED)],
            )
            triggers = cursor.fetchall()
            for table, name, _ in triggers:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "  # noqa: S608 - placeholders
                f"AND tbl_name IN ({', '.join(['%s'] * len(GUARDED))})",
                list(GUARDED),
            )
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f"DROP TRIGGER {name}")
        for sql in statements:
            cursor.execute(sql, params or None)
        if connection.vendor == "postgresql":
            mode = {"A": "ENABLE ALWAYS", "O": "ENABLE", "R": "ENABLE REPLICA", "D": "DISABLE"}
            for table, name, enabled in triggers:
                cursor.execute(f"ALTER TABLE {table} {mode[enabled]} TRIGGER {name}")
        else:
            for _, sql in triggers:
                cursor.execute(sql)


def verify_command(*args: str) -> tuple[int, str]:
    """(exit status, output) of ``manage.py audit_verify``."""
    out = io.StringIO()
    try:
        call_command("audit_verify", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


#: The steps of a capture into a gallery (vmops.capture.specs); the history does not
#: depend on them.
CAPTURE_STEPS = (
    "preflight",
    "guest_prepare",
    "deallocate",
    "generalize",
    "create_definition",
    "create_version",
    "replicate",
    "verify",
    "catalog",
    "delete_source",
)


def simulate_capture(
    *,
    vm: Any = None,
    user: Any = None,
    options: dict | None = None,
    image_id: str = "",
    steps: tuple[str, ...] = CAPTURE_STEPS,
    skipped: tuple[str, ...] = (),
    fail_at: str = "",
    finish: bool = True,
    kind: str = "vm.capture_gallery",
) -> Any:
    """Play a capture operation through the engine's events, quickly and with any outcome.

    Drives the same OperationEvents the engine sends for any kind (requested, one per
    step, then succeeded or failed), with the operation row the listener reads; the
    parameters are shaped like vmops.capture's (``image_id``, ``delete_source``, ...).
    ``test_operation_events`` also runs a real capture through the emulator.
    """
    from django.utils import timezone

    from contoso_images.operations import registry
    from contoso_images.operations.registry import OperationEvent
    from tests.factories import OperationFactory, OperationStepFactory

    kwargs = {"vm": vm} if vm is not None else {}
    parameters = {"capture_kind": "gallery_generalized", "delete_source": False, **(options or {})}
    if image_id:
        parameters["image_id"] = image_id
    operation = OperationFactory(
        kind=kind,
        requested_by=user,
        parameters=parameters,
        status="queued",
        **kwargs,
    )
    for position, name in enumerate(steps):
        OperationStepFactory(
            operation=operation,
            position=position,
            name=name,
            label=name.replace("_", " ").capitalize(),
        )

    def notify(name: str, **extra: Any) -> None:
        registry.notify(
            OperationEvent(
                name=name,
                kind=operation.kind,
                target=operation.target,
                operation=operation,
                **extra,
            )
        )

    notify("requested", user=user)
    operation.status, operation.started_at = "running", timezone.now()
    operation.save()
    for name in steps:
        now = timezone.now()
        operation.step = name
        operation.save()
        if name == fail_at:
            operation.status, operation.finished_at = "failed", now
            operation.error_code = "OperationNotAllowed"
            operation.error_message = "The VM could not be generalized."
            operation.error_summary = f"Azure refused the {name.replace('_', ' ')} step."
            operation.request_id = "req-capture-1"
            operation.save()
            notify("failed", step=name, reason=operation.error_summary)
            return operation
        operation.steps.filter(name=name).update(
            status="succeeded", started_at=now, finished_at=now
        )
        notify(
            "step_skipped" if name in skipped else "step_succeeded",
            step=name,
            reason="Azure already showed it done." if name in skipped else "",
        )
        if not finish and name == steps[len(steps) // 2]:
            return operation
    operation.status, operation.finished_at = "succeeded", timezone.now()
    operation.state = {"sent": {"create_version": {"at": "x"}}}
    operation.save()
    notify("succeeded")
    return operation
