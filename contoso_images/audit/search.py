"""The free-text index of the audit log: the same matches as a scan, without the scan.

The search box matches events whose text fields contain what was typed, ignoring case
(``icontains`` on each of :data:`TEXT_FIELDS`). Scanning every row took 0.9 s at 1,000,000
events, growing with the log, so an index narrows the rows first and the same ``icontains``
test then runs on those candidates only: the results are exactly the scan's.

- SQLite: a contentless FTS5 table (``audit_eventtext``, trigram tokenizer) whose rowid is
  the event's sequence. Contentless: it holds only the index, not a second copy of the text;
  the events table stays the only record. It is filled in batches, in order: a bulk append
  (``record_many``) indexes its events in its own transaction; single appends are indexed
  :data:`INDEX_EVERY` at a time, by a task queued when the chain crosses a multiple of it
  (:func:`catch_up`). Measured: indexing one event in its own transaction cost about 250 µs
  of CPU (FTS5 writes a segment per transaction), half again what the whole append costs;
  in a batch, about 60 µs. A search matches the indexed events through the index and the
  few newer ones (the tail) by the scan, so it never misses an event the index has not
  reached yet. The trigram index answers any
  substring of three characters or more, which is what ``icontains`` asks. SQLite's LIKE
  (Django's ``icontains`` there) ignores the case of ASCII letters only, so the indexed text
  and the searched text are both folded exactly so (:func:`fold`: A-Z to a-z, nothing else)
  and the index compares case-sensitively: a phrase match is then exactly a LIKE match,
  and no candidate needs testing again (which cost as much as the index at 1,000,000).
  The log's pages read the matches through the index itself (:func:`indexed_reader`,
  newest first, stopping at the page) and count them up to a cap (``selectors.
  SearchResults``): inside a larger query SQLite gathered every match before sorting, 154 ms
  for the count and 81 ms for the rows of a word in 50,000 of 1,000,000 events.
- PostgreSQL: a pg_trgm GIN index on the upper-cased text fields joined by a separator,
  which ``UPPER(...) LIKE UPPER('%text%')`` (what ``icontains`` does per field) uses.

The fields are joined with :data:`SEPARATOR` (a control character that a search box does not
send), so a match never spans two fields. Shorter texts (one or two characters), or text that
holds the separator, fall back to the scan: the same results, only slower.

The index is no part of the record: it is derived from the events, the chain does not cover
it, and :func:`index_problems` (run by ``audit_verify``) says when it no longer covers the
chain. A row changed behind the guards' back (which the chain shows) is found by its old
text until the index is rebuilt (``search.rebuild``).
"""

from __future__ import annotations

from typing import Any

from django.db import connection as default_connection
from django.db import transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

#: Fields the free-text search looks in.
TEXT_FIELDS = (
    "action",
    "actor_username",
    "actor_display",
    "target_name",
    "target_id",
    "detail",
    "error_code",
    "error_message",
    "request_id",
    "correlation_id",
    "parameters",
    "result",
    "source_ip",
)
FTS_TABLE = "audit_eventtext"
PG_INDEX = "audit_event_text_trgm"
#: Between the fields in the indexed text (the ASCII unit separator).
SEPARATOR = "\x1f"
#: The trigram index answers substrings of at least this many characters.
MIN_INDEXED = 3
_PRESENT = "contoso_audit_text_index_present"
#: Single appends are indexed this many at a time (a bulk append of at least this many at once).
INDEX_EVERY = 200
#: SQLite's LIKE folds ASCII letters and nothing else; so does the index.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
BACKFILL_BATCH = 5000


def fold(text: str) -> str:
    """Text as SQLite's LIKE compares it: ASCII letters lower-cased, every other character
    as it is (``str.lower`` would fold more, and match what LIKE does not)."""
    return text.translate(_ASCII_LOWER)


def _pg_expression() -> str:
    joined = " || chr(31) || ".join(f'"{name}"' for name in TEXT_FIELDS)
    return f"UPPER({joined})"


def _indexable(text: str) -> bool:
    """Whether the trigram index can answer ``text`` (three characters or more, no separator)."""
    return len(text) >= MIN_INDEXED and SEPARATOR not in text and "\x00" not in text


def _phrase(text: str) -> str:
    """``text`` as an FTS5 phrase of the folded text (a quote inside doubled)."""
    return '"' + fold(text).replace('"', '""') + '"'


def scan_query(text: str) -> Q:
    """Events with ``text`` in any text field, ignoring case: the definition of a match."""
    query = Q()
    for name in TEXT_FIELDS:
        query |= Q(**{f"{name}__icontains": text})
    return query


def text_query(text: str, connection: Any = None) -> Q:
    """:func:`scan_query`, narrowed first by the index where the index can answer."""
    connection = connection or default_connection
    if not _indexable(text):
        return scan_query(text)
    if connection.vendor == "sqlite" and _present(connection):
        phrase = _phrase(text)
        matching = RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [phrase])  # noqa: S608, S611 - constant SQL, bound text
        # The events the index has not reached yet (at most a batch, normally) are scanned.
        head = RawSQL(_HEAD_SQL, [])  # noqa: S611 - constant SQL
        return Q(sequence__in=matching) | (Q(sequence__gt=head) & scan_query(text))
    if connection.vendor == "postgresql":
        pattern = f"%{connection.ops.prep_for_like_query(text)}%"
        sql = f"SELECT sequence FROM audit_auditevent WHERE {_pg_expression()} LIKE UPPER(%s)"  # noqa: S608 - constant SQL
        matching = RawSQL(sql, [pattern])  # noqa: S611 - constant SQL, the text bound
        return Q(sequence__in=matching)
    return scan_query(text)


def indexed_reader(text: str, connection: Any = None) -> IndexedMatches | None:
    """The index's own reader of ``text``'s matches, newest first, where the index answers it
    (SQLite, three characters or more); ``None`` where only :func:`text_query` can.

    :func:`text_query` inside a larger query makes SQLite gather every match before it sorts
    (60 ms for 50,000 matches at 1,000,000 events, twice: for the count and for the rows);
    this walks the index in sequence order and stops at the page, as a phrase query with
    ``ORDER BY rowid DESC LIMIT`` does (about 1 ms for the first page).
    """
    connection = connection or default_connection
    if not _indexable(text) or connection.vendor != "sqlite" or not _present(connection):
        return None
    return IndexedMatches(text, connection)


class IndexedMatches:
    """Matches of one text in the SQLite index, read at a fixed indexed head, so that the
    count and the rows of one page see the same events."""

    def __init__(self, text: str, connection: Any) -> None:
        self.phrase = _phrase(text)
        self.connection = connection
        self.head = indexed_head(connection)

    def sequences(self, offset: int, limit: int) -> list[int]:
        """Sequences of matching events, newest first, ``limit`` of them after ``offset``."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid <= %s "  # noqa: S608 - constant
                "ORDER BY rowid DESC LIMIT %s OFFSET %s",
                [self.phrase, self.head, limit, offset],
            )
            return [int(row[0]) for row in cursor.fetchall()]

    def count(self, *, cap: int) -> int:
        """How many events match, counted up to ``cap``: past it the index would be read to
        its end for a number nobody pages through."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} "  # noqa: S608 - constant
                f"WHERE {FTS_TABLE} MATCH %s AND rowid <= %s LIMIT %s)",
                [self.phrase, self.head, cap],
            )
            return int(cursor.fetchone()[0])


#: The newest indexed sequence (0 for none): FTS5 reads its rowids in order, so this is a seek.
_HEAD_SQL = f"SELECT coalesce((SELECT rowid FROM {FTS_TABLE} ORDER BY rowid DESC LIMIT 1), 0)"  # noqa: S608 - constant


def _present(connection: Any) -> bool:
    """Whether the SQLite index exists (it does after migration 0007; before it, during the
    earlier migrations, appends and searches go without it). Asked once per connection."""
    present = getattr(connection, _PRESENT, None)
    if present is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE]
            )
            present = cursor.fetchone() is not None
        if present:  # only a present index is remembered: migrate may create it later
            setattr(connection, _PRESENT, True)
    return bool(present)


def install(connection: Any) -> None:
    """Create the index and fill it with the events it lacks (migration 0007; idempotent)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
                "body, content='', tokenize='trigram case_sensitive 1')"
            )
    if connection.vendor == "sqlite":
        _backfill(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON audit_auditevent "
                f"USING gin (({_pg_expression()}) gin_trgm_ops)"
            )
    if hasattr(connection, _PRESENT):
        delattr(connection, _PRESENT)


def indexed_head(connection: Any = None) -> int:
    """The newest sequence the SQLite index holds (0 for none)."""
    connection = connection or default_connection
    if connection.vendor != "sqlite" or not _present(connection):
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_HEAD_SQL)
        return int(cursor.fetchone()[0])


def catch_up(connection: Any = None) -> int:
    """Index the events recorded since the indexed head (a worker's task, queued every
    :data:`INDEX_EVERY` appends; idempotent: a second run finds nothing to do). Returns the
    new indexed head."""
    connection = connection or default_connection
    if connection.vendor != "sqlite" or not _present(connection):
        return 0
    with transaction.atomic(using=connection.alias, savepoint=False):
        _backfill(connection)
    return indexed_head(connection)


def _backfill(connection: Any) -> None:
    """Index the events the index lacks (those recorded before it existed), in batches, the
    text folded in Python as at append time (SQLite's lower() may fold more with ICU)."""
    columns = ", ".join(f'"{name}"' for name in TEXT_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(rowid), 0) FROM {FTS_TABLE}")  # noqa: S608 - constant
        after = int(cursor.fetchone()[0])
        while True:
            cursor.execute(
                f"SELECT sequence, {columns} FROM audit_auditevent "  # noqa: S608 - constants
                "WHERE sequence > %s ORDER BY sequence LIMIT %s",
                [after, BACKFILL_BATCH],
            )
            batch = cursor.fetchall()
            if not batch:
                return
            cursor.executemany(
                f"INSERT INTO {FTS_TABLE} (rowid, body) VALUES (%s, %s)",  # noqa: S608 - constant
                [(row[0], fold(SEPARATOR.join(v or "" for v in row[1:]))) for row in batch],
            )
            after = int(batch[-1][0])


def rebuild(connection: Any = None) -> None:
    """Index every event again (after a restore, or a change made behind the guards)."""
    connection = connection or default_connection
    clear(connection)
    install(connection)


def uninstall(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    if hasattr(connection, _PRESENT):
        delattr(connection, _PRESENT)


def clear(connection: Any) -> None:
    """Empty the SQLite index with the events (``flush``, tests and debug runs only)."""
    if connection.vendor == "sqlite" and _present(connection):
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')")  # noqa: S608 - constant


def index_problems(connection: Any = None) -> list[str]:
    """Sentences saying where the index no longer covers the chain (``audit_verify``): the
    search would then miss events, though the record itself is intact."""
    connection = connection or default_connection
    problems: list[str] = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            if not _present(connection):
                return [f"the free-text index ({FTS_TABLE}) is missing: run migrate."]
            cursor.execute(f"SELECT coalesce(max(rowid), 0), count(*) FROM {FTS_TABLE}")  # noqa: S608
            indexed_head, indexed = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM audit_auditevent WHERE sequence <= %s", [indexed_head]
            )
            events = cursor.fetchone()[0]
            if indexed != events:
                # Events newer than the indexed head are scanned by every search: a lag is
                # normal. A gap below it (or entries for events that do not exist) is not.
                problems.append(
                    f"the free-text index holds {indexed:,} entries up to #{indexed_head}, "
                    f"the chain {events:,} events up to there: searches may miss events or "
                    "find some twice (the record itself is not affected; "
                    "`search.rebuild()` indexes it again)."
                )
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [PG_INDEX])
            if cursor.fetchone() is None:
                problems.append(f"the free-text index ({PG_INDEX}) is missing: run migrate.")
    return problems
