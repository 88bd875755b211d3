"""Signed checkpoints: the key, writing one, and reading them back as verification claims.

The key comes from ``AUDIT_CHECKPOINT_KEY``, else from the file ``AUDIT_CHECKPOINT_KEY_FILE``
(default ``var/audit_checkpoint_key``), which is created on first use, readable by its owner
only, like the secret key. It never goes into the database: whoever can rewrite the tables
still cannot sign a checkpoint for the rewritten chain.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contoso_images.audit import chain
from contoso_images.audit.models import AuditChainHead, AuditCheckpoint, Outcome
from contoso_images.audit.services.recording import Subject, record


def _key_file() -> Path:
    default = Path(settings.BASE_DIR) / "var" / "audit_checkpoint_key"
    return Path(getattr(settings, "AUDIT_CHECKPOINT_KEY_FILE", "") or default)


def checkpoint_key(*, create: bool = False) -> bytes | None:
    """The signing key, or None when there is none (``create``: make the key file)."""
    configured = str(getattr(settings, "AUDIT_CHECKPOINT_KEY", "") or "")
    if configured:
        return configured.encode()
    path = _key_file()
    if path.is_file():
        text = path.read_text().strip()
        if text:
            return text.encode()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it a moment ago: use that one.
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip().encode()


def checkpoint_document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """A checkpoint as downloaded and as ``audit_verify --checkpoint`` reads it."""
    payload = chain.checkpoint_payload(
        sequence=checkpoint.sequence,
        head_hash=checkpoint.head_hash,
        created_at=checkpoint.created_at,
        key=checkpoint.key_id,
    )
    return {**payload, "signature": checkpoint.signature}


def checkpoint_create(*, actor: Any = None) -> AuditCheckpoint:
    """Sign the chain's current head and keep the checkpoint (callers verify first).

    The checkpoint itself is recorded as ``audit.checkpoint`` right after the head it signs.
    """
    secret = checkpoint_key(create=True)
    assert secret is not None
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        sequence, head_hash = (head.sequence, head.hash) if head else (0, chain.GENESIS)
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
        record(
            action="audit.checkpoint",
            actor=actor,
            target=Subject(kind="audit", id=f"checkpoint:{checkpoint.pk}", name="Audit chain"),
            outcome=Outcome.SUCCEEDED,
            result={"sequence": sequence, "head_hash": head_hash, "key_id": payload["key_id"]},
            related=("audit.checkpoint", checkpoint.pk),
        )
    return checkpoint


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
