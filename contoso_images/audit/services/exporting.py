"""Starting an export: fix the snapshot, record the export itself, hand back what to stream."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from contoso_images.audit import selectors
from contoso_images.audit.models import AuditEvent, Outcome
from contoso_images.audit.services.recording import Subject, record

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


@dataclass(frozen=True)
class Export:
    events: QuerySet[AuditEvent]
    filename: str
    content_type: str
    count: int
    through: int


def export_start(
    *, filters: Mapping[str, Any], fmt: str, actor: Any, request: HttpRequest | None = None
) -> Export:
    """The events to export (up to the head as it is now, so the file is a consistent
    snapshot), after recording ``audit.export`` with the filter, format and count."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}.")
    with transaction.atomic():
        through, _ = selectors.head()
        events = selectors.export_events(filters, through=through)
        count = events.count()
        plain = {k: v.isoformat() if isinstance(v, date) else v for k, v in filters.items()}
        record(
            action="audit.export",
            actor=actor,
            target=Subject(kind="audit", id="audit:log", name="Audit log"),
            outcome=Outcome.SUCCEEDED,
            parameters={"format": fmt, "filters": plain},
            result={"events": count, "through_sequence": through},
            request=request,
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Export(
        events=events,
        filename=f"audit-{stamp}-to-{through}.{fmt}",
        content_type=FORMATS[fmt],
        count=count,
        through=through,
    )
