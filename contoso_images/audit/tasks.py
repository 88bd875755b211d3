"""Scheduled work of the audit record (django-q2 runs these by dotted path)."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

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


def audit_verify_requested(user_id: int | None) -> dict[str, object]:
    """The same, asked for from the chain status panel (the checkpoint names who asked)."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    report, checkpoint = chain_verify_and_checkpoint(actor=user, source="page")
    if not report.ok:
        logger.error("Audit chain verification failed: %s", report.first_problem)
    return {"ok": report.ok, "events": report.events}
