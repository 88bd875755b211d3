"""Verifying the chain: the live table, or an exported archive; the runs are kept for the
chain status panel. Streams the events, so memory stays flat however long the log is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

from contoso_images.audit import chain, guards
from contoso_images.audit.models import AuditChainHead, AuditEvent, AuditVerification
from contoso_images.audit.services.checkpoints import (
    checkpoint_create,
    checkpoint_key,
    claims_from_file,
    stored_claims,
)

CHUNK = 2000


def _stored_events() -> Iterator[dict[str, Any]]:
    rows = AuditEvent.objects.order_by("sequence").values(*chain.HASHED_FIELDS, "hash")
    yield from rows.iterator(chunk_size=CHUNK)


def chain_verify(
    *, checkpoint_files: list[Path] | None = None, source: str = "command"
) -> chain.Report:
    """Verify the stored chain against its head, every stored checkpoint and the given files,
    check that the database guards are in place, and keep the result."""
    started = timezone.now()
    secret = checkpoint_key()
    claims = stored_claims(secret)
    for path in checkpoint_files or []:
        claims += claims_from_file(path, secret)
    head_row = AuditChainHead.objects.filter(pk=1).values_list("sequence", "hash").first()
    report = chain.verify(_stored_events(), claims=claims, head=head_row)
    for name in guards.missing(connection):
        report.add(
            None,
            "guard",
            f"the database trigger {name} is missing: the database no "
            "longer refuses changes to audit rows (run `manage.py migrate`).",
        )
    first = report.first_problem
    AuditVerification.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        ok=report.ok,
        events=report.events,
        head_sequence=report.last_sequence,
        checkpoints=report.checkpoints,
        first_problem=str(first) if first else "",
        source=source,
    )
    return report


def archive_verify(path: Path, *, checkpoint_files: list[Path] | None = None) -> chain.Report:
    """Verify an exported JSON Lines archive on its own (no database row is read)."""
    secret = checkpoint_key()
    claims: list[chain.Claim] = []
    for checkpoint in checkpoint_files or []:
        claims += claims_from_file(checkpoint, secret)

    def rows() -> Iterator[dict[str, Any]]:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)

    return chain.verify(rows(), claims=claims, archive=True)


def chain_verify_and_checkpoint(*, actor: Any = None, source: str) -> tuple[chain.Report, Any]:
    """Verify, and sign a checkpoint only if the chain is intact (a checkpoint must never
    vouch for a broken chain). Returns (report, checkpoint or None)."""
    report = chain_verify(source=source)
    if not report.ok:
        return report, None
    return report, checkpoint_create(actor=actor)


VERIFY_TASK = "contoso_images.audit.tasks.audit_verify_requested"


def chain_verify_enqueue(*, actor: Any) -> None:
    """Verify (and checkpoint) in a worker: a long log takes longer than a page may wait."""
    from django_q.tasks import async_task

    async_task(VERIFY_TASK, getattr(actor, "pk", None), group="audit", task_name="audit-verify")
