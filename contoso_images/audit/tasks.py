"""Scheduled work of the audit record (django-q2 runs these by dotted path)."""

from __future__ import annotations

import logging

from contoso_images.audit.services.verification import chain_verify_and_checkpoint

logger = logging.getLogger(__name__)


def audit_checkpoint_scheduled() -> dict[str, object]:
    """Verify the whole chain, then sign a checkpoint of its head if it is intact."""
    report, checkpoint = chain_verify_and_checkpoint(source="schedule")
    if not report.ok:
        logger.error("Audit chain verification failed: %s", report.first_problem)
    return {
        "ok": report.ok,
        "events": report.events,
        "checkpoint": checkpoint.sequence if checkpoint is not None else None,
    }
