"""The checkpoint key, and the signatures it puts on what the database alone cannot vouch for.

The key comes from ``AUDIT_CHECKPOINT_KEY``, else from the file ``AUDIT_CHECKPOINT_KEY_FILE``
(default ``var/audit_checkpoint_key``), which is created on first use, readable by its owner
only, like the secret key. It never goes into the database: whoever can write the tables
still cannot sign a checkpoint for a rewritten chain, nor a verification run that never ran
(the status panel shows only runs this application signed).

Here rather than in ``services`` because the selectors check run signatures too.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from contoso_images.audit import chain

VERIFICATION_FORMAT = "contoso-images-audit-verification/1"
FORGED_RUN = (
    "the verification run of {time} (#{pk}) was not signed by this application ({why}): "
    "someone with access to the database added it. Run `manage.py audit_verify`."
)


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


def verification_payload(
    *,
    started_at: datetime | str,
    finished_at: datetime | str,
    ok: bool,
    events: int,
    head_sequence: int,
    checkpoints: int,
    first_problem: str,
    source: str,
    key: str,
) -> dict[str, Any]:
    """What a verification run's signature covers: every column but its id."""
    return {
        "format": VERIFICATION_FORMAT,
        "started_at": chain.canonical_time(started_at),
        "finished_at": chain.canonical_time(finished_at),
        "ok": bool(ok),
        "events": int(events),
        "head_sequence": int(head_sequence),
        "checkpoints": int(checkpoints),
        "first_problem": first_problem,
        "source": source,
        "key_id": key,
    }


def run_payload(run: Any) -> dict[str, Any]:
    return verification_payload(
        started_at=run.started_at,
        finished_at=run.finished_at,
        ok=run.ok,
        events=run.events,
        head_sequence=run.head_sequence,
        checkpoints=run.checkpoints,
        first_problem=run.first_problem,
        source=run.source,
        key=run.key_id,
    )


def run_signature_problem(run: Any, secret: bytes | None) -> str:
    """Why a stored verification run is not one this application signed ("" when it is)."""
    if secret is None:
        return "no checkpoint key is configured to check it"
    if run.key_id != chain.key_id(secret):
        return "it names another key" if run.key_id else "it carries no signature"
    if not chain.signature_valid(secret, run_payload(run), run.signature):
        return "its signature does not match its content"
    return ""


def forged_run_message(run: Any, why: str) -> str:
    return FORGED_RUN.format(time=chain.canonical_time(run.finished_at), pk=run.pk, why=why)
