"""Exporting the log: fix the snapshot, record the export itself, then stream it as CSV or
JSON Lines, a chunk of rows at a time (memory stays flat however long the log is).

JSON Lines is the archive format: each line holds every hashed column exactly as hashed,
plus the hash, so ``manage.py audit_verify --archive`` can verify a file years later without
the database. CSV is for spreadsheets: a text cell that a spreadsheet would run as a
formula (starting with = + - @, a tab or a carriage return) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from contoso_images.audit import chain, selectors
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
    fmt: str

    def lines(self) -> Iterator[bytes]:
        """The file, streamed in the export's format."""
        return csv_lines(self.events) if self.fmt == "csv" else jsonl_lines(self.events)


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
        fmt=fmt,
    )


# --- Streaming -------------------------------------------------------------------------------

#: Rows read from the database at a time, and lines sent at a time.
CHUNK = 2000
BATCH = 500
COLUMNS = (*chain.HASHED_FIELDS, "hash")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _rows(events: QuerySet[AuditEvent]) -> Iterator[dict[str, Any]]:
    yield from events.values(*COLUMNS).iterator(chunk_size=CHUNK)


def jsonl_lines(events: QuerySet[AuditEvent]) -> Iterator[bytes]:
    batch: list[str] = []
    for row in _rows(events):
        row["occurred_at"] = chain.canonical_time(row["occurred_at"])
        for name in chain.JSON_FIELDS:
            row[name] = json.loads(row[name] or "{}")
        batch.append(chain.canonical_json(row))
        if len(batch) >= BATCH:
            yield ("\n".join(batch) + "\n").encode("utf-8")
            batch = []
    if batch:
        yield ("\n".join(batch) + "\n").encode("utf-8")


class _Echo:
    """A file-like object whose write returns what it was given (Django's streaming CSV)."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_lines(events: QuerySet[AuditEvent]) -> Iterator[bytes]:
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow(COLUMNS)).encode("utf-8")
    batch: list[str] = []
    for row in _rows(events):
        row["occurred_at"] = chain.canonical_time(row["occurred_at"])
        batch.append(writer.writerow([_cell(row[name]) for name in COLUMNS]))
        if len(batch) >= BATCH:
            yield "".join(batch).encode("utf-8")
            batch = []
    if batch:
        yield "".join(batch).encode("utf-8")
