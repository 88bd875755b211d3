"""Signed checkpoints: writing one (in the database, the trail file and syslog), and reading
them back as verification claims.

The signing key (``signing.checkpoint_key``) never goes into the database: whoever can rewrite
the tables still cannot sign a checkpoint for the rewritten chain. Each checkpoint is also
appended to the checkpoint trail outside the database and sent to syslog (``trail.py``), so
removing the stored checkpoints does not remove what they vouched for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contoso_images.audit import chain
from contoso_images.audit.models import AuditCheckpoint, AuditEvent, Outcome
from contoso_images.audit.services.recording import (
    CHECKPOINT_ACTION,
    Subject,
    locked_head,
    record,
)
from contoso_images.audit.services.trail import syslog_send, trail_append
from contoso_images.audit.signing import checkpoint_key

__all__ = [
    "checkpoint_create",
    "checkpoint_document",
    "checkpoint_due",
    "checkpoint_key",
    "claims_from_file",
    "stored_claims",
]


def checkpoint_document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """A checkpoint as downloaded, as kept in the trail, and as ``audit_verify`` reads it."""
    payload = chain.checkpoint_payload(
        sequence=checkpoint.sequence,
        head_hash=checkpoint.head_hash,
        created_at=checkpoint.created_at,
        key=checkpoint.key_id,
    )
    return {**payload, "signature": checkpoint.signature}


def checkpoint_create(*, actor: Any = None) -> AuditCheckpoint:
    """Sign the chain's current head and keep the checkpoint (callers verify first): in the
    database, appended to the trail file (a checkpoint that cannot be is not written: raises
    ``CheckpointTrailError``), and sent to syslog (which may be absent).

    The checkpoint itself is recorded as ``audit.checkpoint`` right after the head it signs,
    saying where it was kept.
    """
    secret = checkpoint_key(create=True)
    assert secret is not None
    with transaction.atomic():
        sequence, head_hash = locked_head()
        now = timezone.now()
        payload = chain.checkpoint_payload(
            sequence=sequence, head_hash=head_hash, created_at=now, key=chain.key_id(secret)
        )
        checkpoint = AuditCheckpoint(
            created_at=now,
            sequence=sequence,
            head_hash=head_hash,
            key_id=payload["key_id"],
            signature=chain.sign(secret, payload),
        )
        checkpoint._chained = True
        checkpoint.save()
        document = checkpoint_document(checkpoint)
        # Outside the database before the commit: a copy without a row vouches for a chain
        # that existed; a row without its copy would be a checkpoint the trail never saw.
        trail = trail_append(document)
        syslog = syslog_send(document)
        record(
            action=CHECKPOINT_ACTION,
            actor=actor,
            target=Subject(kind="audit", id=f"checkpoint:{checkpoint.pk}", name="Audit chain"),
            outcome=Outcome.SUCCEEDED,
            result={
                "sequence": sequence,
                "head_hash": head_hash,
                "key_id": payload["key_id"],
                "trail": trail,
                "syslog": syslog,
            },
            related=("audit.checkpoint", checkpoint.pk),
        )
    return checkpoint


def checkpoint_due() -> tuple[bool, int]:
    """(whether AUDIT_CHECKPOINT_EVENTS events have been recorded since the newest
    checkpoint, how many have)."""
    every = int(getattr(settings, "AUDIT_CHECKPOINT_EVENTS", 0) or 0)
    head = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    last = AuditCheckpoint.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    since = (head or 0) - (last or 0)
    return every > 0 and since >= every, since


def stored_claims(secret: bytes | None) -> list[chain.Claim]:
    return [
        chain.claim_from(checkpoint_document(cp), secret=secret, source="stored")
        for cp in AuditCheckpoint.objects.order_by("sequence", "id")
    ]


def claims_from_file(path: Path, secret: bytes | None) -> list[chain.Claim]:
    """Checkpoints from a downloaded file: one JSON document, a JSON list, or JSON Lines."""
    text = path.read_text(encoding="utf-8").strip()
    documents: Iterable[Any]
    try:
        parsed = json.loads(text)
        documents = parsed if isinstance(parsed, list) else [parsed]
    except json.JSONDecodeError:
        documents = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [
        chain.claim_from(doc if isinstance(doc, dict) else {}, secret=secret, source=path.name)
        for doc in documents
    ]
