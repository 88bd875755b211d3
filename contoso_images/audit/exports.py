"""Streaming the log as CSV or JSON Lines, a chunk of rows at a time (memory stays flat).

JSON Lines is the archive format: each line holds every hashed column exactly as hashed,
plus the hash, so ``manage.py audit_verify --archive`` can verify a file years later without
the database. CSV is for spreadsheets: a text cell that a spreadsheet would run as a
formula (starting with = + - @, a tab or a carriage return) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from contoso_images.audit import chain
from contoso_images.audit.models import AuditEvent

CHUNK = 2000
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
        if len(batch) >= 500:
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
        if len(batch) >= 500:
            yield "".join(batch).encode("utf-8")
            batch = []
    if batch:
        yield "".join(batch).encode("utf-8")
