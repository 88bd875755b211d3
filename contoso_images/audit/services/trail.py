"""Every checkpoint also kept outside the database: an append-only trail file, and syslog.

Whoever can rewrite the audit tables (the tables' owner on PostgreSQL, anyone who can write
the file on SQLite) can re-chain the whole log and remove the stored checkpoints; the copies
kept here are out of their reach, so ``audit_verify`` (which reads the trail whenever it
exists, and insists on it with ``--checkpoint``) still catches a history rewritten up to any
checkpoint. Events after the newest checkpoint are not covered: checkpoints come daily and
every ``AUDIT_CHECKPOINT_EVENTS`` events to keep that window short.

The trail (``AUDIT_CHECKPOINT_TRAIL``) is JSON Lines, one checkpoint document a line, opened
with O_APPEND only, so the application never needs, or holds, the right to rewrite it: in
production put it where the database's users cannot write, on a file only this application
may append to (``chattr +a`` on Linux; README). A checkpoint that cannot be appended there is
not written at all. Syslog (``AUDIT_CHECKPOINT_SYSLOG``: a socket path, or ``host:port`` over
UDP) gets the same line; syslog being absent never stops a checkpoint, and the checkpoint's
audit event says whether it was sent.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from logging.handlers import SysLogHandler
from pathlib import Path
from typing import Any

from django.conf import settings

from contoso_images.audit import chain

SYSLOG_PREFIX = "contoso-images audit checkpoint "
SYSLOG_TIMEOUT_SECONDS = 2.0


class CheckpointTrailError(Exception):
    """The checkpoint could not be appended to the trail file."""


OFF = ("", "off")


def trail_path() -> Path | None:
    """The trail file, or None when ``AUDIT_CHECKPOINT_TRAIL`` is off."""
    configured = str(getattr(settings, "AUDIT_CHECKPOINT_TRAIL", "") or "")
    return None if configured.lower() in OFF else Path(configured)


def trail_append(document: Mapping[str, Any]) -> str:
    """Append one checkpoint to the trail (created 0640 in a 0750 directory on first use) and
    flush it to disk; returns the path, or "off". Raises CheckpointTrailError."""
    path = trail_path()
    if path is None:
        return "off"
    line = (chain.canonical_json(dict(document)) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            written = os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise CheckpointTrailError(
            f"The checkpoint could not be appended to {path} (AUDIT_CHECKPOINT_TRAIL): "
            f"{exc.strerror or exc}. No checkpoint was written."
        ) from exc
    if written != len(line):
        raise CheckpointTrailError(f"Only part of the checkpoint reached {path}; none written.")
    return str(path)


class _Handler(SysLogHandler):
    """SysLogHandler that keeps what went wrong instead of printing it."""

    failure: BaseException | None = None

    def handleError(self, record: logging.LogRecord) -> None:
        self.failure = sys.exc_info()[1]


def _address(configured: str) -> str | tuple[str, int]:
    if not configured.startswith("/") and ":" in configured:
        host, _, port = configured.rpartition(":")
        return (host.strip("[]"), int(port))
    return configured


def syslog_send(document: Mapping[str, Any]) -> str:
    """Send the checkpoint to syslog (facility authpriv); a sentence saying whether it went.
    Never raises: a missing syslog must not stop the checkpoint."""
    configured = str(getattr(settings, "AUDIT_CHECKPOINT_SYSLOG", "") or "")
    if configured.lower() in OFF:
        return "off"
    try:
        address = _address(configured)
        if isinstance(address, str) and not Path(address).exists():
            return f"not sent: {address} does not exist (no syslog on this host)"
        handler = _Handler(address=address, facility=SysLogHandler.LOG_AUTHPRIV)
    except (OSError, ValueError) as exc:
        return f"not sent: {configured}: {exc}"
    try:
        connected = getattr(handler, "socket", None)
        if connected is not None:
            connected.settimeout(SYSLOG_TIMEOUT_SECONDS)
        message = SYSLOG_PREFIX + chain.canonical_json(dict(document))
        record = logging.LogRecord(
            "contoso_images.audit", logging.INFO, __file__, 0, message, None, None
        )
        handler.emit(record)
    finally:
        handler.close()
    if handler.failure is not None:
        return f"not sent: {configured}: {handler.failure}"
    return f"sent to {configured}"


def trail_claims(
    secret: bytes | None, path: Path | None = None
) -> tuple[list[chain.Claim], list[str]]:
    """The checkpoints in the trail as verification claims, and a sentence for every line
    that is not one (a torn write, an edit)."""
    path = path or trail_path()
    claims: list[chain.Claim] = []
    damaged: list[str] = []
    if path is None or not path.is_file():
        return claims, damaged
    source = "trail"
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                document = json.loads(line)
            except json.JSONDecodeError:
                document = None
            if not isinstance(document, dict) or document.get("format") != chain.CHECKPOINT_FORMAT:
                damaged.append(
                    f"line {number} of {path.name} (the checkpoint trail) is not a checkpoint: "
                    "the trail was damaged or edited."
                )
                continue
            claims.append(chain.claim_from(document, secret=secret, source=source))
    return claims, damaged
