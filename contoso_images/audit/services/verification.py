"""Verifying the chain: the live table, or an exported archive; the runs are kept (signed) for
the chain status panel. Streams the events, so memory stays flat however long the log is.

A verification of the live table checks, besides every link: every checkpoint stored in the
database, in the checkpoint trail outside it (whenever the trail file exists) and in any file
given; that the guards are as the migrations made them (``guards.inspect``: problems); that
no verification run was added behind the application's back (problems); and, on PostgreSQL,
that the role the application runs as may only INSERT and SELECT the audit tables
(``roles.privileges_beyond_append``: warnings, which do not stop a checkpoint).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

from contoso_images.audit import chain, guards, roles, signing
from contoso_images.audit.models import AuditCheckpoint, AuditEvent, AuditVerification
from contoso_images.audit.services.checkpoints import (
    checkpoint_create,
    checkpoint_document,
    checkpoint_due,
    claims_from_file,
    stored_claims,
)
from contoso_images.audit.services.trail import trail_claims, trail_path

CHUNK = 2000


class TrailMissing(Exception):
    """``--checkpoint`` without a file asked for the trail, and there is none to read."""


def _stored_events() -> Iterator[dict[str, Any]]:
    rows = AuditEvent.objects.order_by("sequence").values(*chain.HASHED_FIELDS, "hash")
    yield from rows.iterator(chunk_size=CHUNK)


def _trail(
    secret: bytes | None, *, required: bool
) -> tuple[list[chain.Claim], list[str], list[str]]:
    """(claims, problems, notes) from the checkpoint trail; ``required``: raise TrailMissing
    when there is no trail file to read."""
    path = trail_path()
    if path is None or not path.is_file():
        if required:
            raise TrailMissing(
                "AUDIT_CHECKPOINT_TRAIL is off, so there is no checkpoint trail to check."
                if path is None
                else f"No checkpoint trail at {path} (AUDIT_CHECKPOINT_TRAIL)."
            )
        where = "is off" if path is None else f"({path}) does not exist yet"
        return (
            [],
            [],
            [
                f"The checkpoint trail {where}: only the database's checkpoints and "
                "the files given were checked."
            ],
        )
    claims, damaged = trail_claims(secret, path)
    return claims, damaged, []


def _cross_check(stored: list[chain.Claim], trail: list[chain.Claim]) -> list[str]:
    """Notes on checkpoints kept in one place and not the other (each is verified anyway)."""

    def key(claim: chain.Claim) -> tuple[int, str, str]:
        return claim.sequence, claim.head_hash, claim.created_at

    notes = []
    trail_keys = {key(c) for c in trail}
    stored_keys = {key(c) for c in stored}
    only_stored = sum(1 for c in stored if key(c) not in trail_keys)
    only_trail = sum(1 for c in trail if key(c) not in stored_keys)
    if only_stored:
        notes.append(
            f"{only_stored} checkpoint(s) in the database are not in the trail (signed before "
            "the trail was set up, or the trail was replaced)."
        )
    if only_trail:
        notes.append(
            f"{only_trail} checkpoint(s) in the trail are no longer in the database (removed "
            "from it, or the trail belongs to another database); each was checked."
        )
    return notes


def _forged_runs(secret: bytes | None) -> list[str]:
    return [
        signing.forged_run_message(run, problem)
        for run in AuditVerification.objects.order_by("finished_at", "id")
        if (problem := signing.run_signature_problem(run, secret))
    ]


def chain_verify(
    *,
    checkpoint_files: list[Path] | None = None,
    trail_required: bool = False,
    source: str = "command",
) -> chain.Report:
    """Verify the stored chain against every checkpoint (database, trail, the given files),
    check the guards and the runtime role's privileges, and keep the result, signed.
    Raises TrailMissing when ``trail_required`` and there is no trail file."""
    started = timezone.now()
    secret = signing.checkpoint_key(create=True)
    stored = stored_claims(secret)
    trail, damaged, notes = _trail(secret, required=trail_required)
    claims = stored + trail
    for path in checkpoint_files or []:
        claims += claims_from_file(path, secret)
    report = chain.verify(_stored_events(), claims=claims)
    report.notes += notes or _cross_check(stored, trail)
    for sentence in damaged:
        report.add(None, "trail", sentence)
    for problem in guards.inspect(connection):
        report.add(None, "guard", str(problem))
    for sentence in _forged_runs(secret):
        report.add(None, "verification", sentence)
    report.warnings += roles.privileges_beyond_append(connection)
    report.problems.sort(key=lambda p: (p.sequence is None, p.sequence or 0))
    _keep(report, started=started, source=source, secret=secret)
    return report


def _keep(report: chain.Report, *, started: Any, source: str, secret: bytes | None) -> None:
    """Store the run, signed with the checkpoint key, for the status panel."""
    first = report.first_problem
    run = AuditVerification(
        started_at=started,
        finished_at=timezone.now(),
        ok=report.ok,
        events=report.events,
        head_sequence=report.last_sequence,
        checkpoints=report.checkpoints,
        first_problem=str(first) if first else "",
        source=source,
        key_id=chain.key_id(secret) if secret else "",
    )
    if secret:
        run.signature = chain.sign(secret, signing.run_payload(run))
    run._chained = True
    run.save()


def archive_verify(
    path: Path, *, checkpoint_files: list[Path] | None = None, trail: bool = False
) -> chain.Report:
    """Verify an exported JSON Lines archive on its own (no database row is read), against
    the given checkpoint files and, with ``trail``, the checkpoint trail."""
    secret = signing.checkpoint_key()
    claims: list[chain.Claim] = []
    damaged: list[str] = []
    if trail:
        claims, damaged, _ = _trail(secret, required=True)
    for checkpoint in checkpoint_files or []:
        claims += claims_from_file(checkpoint, secret)

    def rows() -> Iterator[dict[str, Any]]:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)

    report = chain.verify(rows(), claims=claims, archive=True)
    for sentence in damaged:
        report.add(None, "trail", sentence)
    return report


def chain_verify_and_checkpoint(*, actor: Any = None, source: str) -> tuple[chain.Report, Any]:
    """Verify, and sign a checkpoint only if the chain and its guards are intact (a
    checkpoint must never vouch for a broken chain; warnings do not stop it). Returns
    (report, checkpoint or None)."""
    report = chain_verify(source=source)
    if not report.ok:
        return report, None
    return report, checkpoint_create(actor=actor)


def checkpoint_if_due() -> tuple[chain.Report | None, AuditCheckpoint | None, int]:
    """The count-based checkpoint: (report, checkpoint, events since the newest one), or
    (None, None, count) when fewer than AUDIT_CHECKPOINT_EVENTS came since (a queued task
    that a checkpoint overtook)."""
    due, since = checkpoint_due()
    if not due:
        return None, None, since
    report, checkpoint = chain_verify_and_checkpoint(source="events")
    return report, checkpoint, since


VERIFY_TASK = "contoso_images.audit.tasks.audit_verify_requested"


def chain_verify_enqueue(*, actor: Any) -> None:
    """Verify (and checkpoint) in a worker: a long log takes longer than a page may wait."""
    from django_q.tasks import async_task

    async_task(VERIFY_TASK, getattr(actor, "pk", None), group="audit", task_name="audit-verify")


__all__ = [
    "TrailMissing",
    "archive_verify",
    "chain_verify",
    "chain_verify_and_checkpoint",
    "chain_verify_enqueue",
    "checkpoint_document",
    "checkpoint_if_due",
]
