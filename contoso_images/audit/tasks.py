"""Scheduled and queued work of the audit record (django-q2 runs these by dotted path)."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

from contoso_images.audit import search
from contoso_images.audit.services.verification import (
    chain_verify_and_checkpoint,
    checkpoint_if_due,
)

logger = logging.getLogger(__name__)


def audit_checkpoint_scheduled() -> dict[str, object]:
    """Verify the whole chain, then sign a checkpoint of its head if it is intact."""
    report, checkpoint = chain_verify_and_checkpoint(source="schedule")
    if not report.ok:
        logger.error("Audit chain verification failed: %s", report.first_problem)
    for warning in report.warnings:
        logger.warning("Audit record: %s", warning)
    return {
        "ok": report.ok,
        "events": report.events,
        "checkpoint": checkpoint.sequence if checkpoint is not None else None,
    }


def audit_search_index() -> dict[str, object]:
    """Index the events appended since the free-text index's head (queued every
    ``search.INDEX_EVERY`` appends; a task that another overtook finds nothing to do)."""
    return {"indexed_head": search.catch_up()}


def audit_checkpoint_due() -> dict[str, object]:
    """The same after AUDIT_CHECKPOINT_EVENTS events (queued by the append that reached the
    count); a task that another checkpoint overtook does nothing."""
    report, checkpoint, since = checkpoint_if_due()
    if report is None:
        events = f"{since} event{'s' if since != 1 else ''}"
        return {"skipped": f"only {events} since the last checkpoint"}
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
