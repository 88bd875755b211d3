"""Reads of the audit record for the pages and the export, each in a fixed number of queries.

The pages read only the audit record: the capture history is built from the capture
operations' events (requested, steps, end) and the review events that name the image a
capture produced, so what it shows is what the chain vouches for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, overload

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from contoso_images.audit import chain, search, signing
from contoso_images.audit.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditVerification,
    Outcome,
)
from contoso_images.core.converters import MAX_ID

#: Operation kinds are captures when they are this kind or start with it and an underscore
#: (``vm.capture_gallery``, ``vm.capture_managed_image``, ``vm.capture_specialized``).
CAPTURE_KIND = "vm.capture"
REVIEW_PREFIX = "catalog.review."


def _day_start(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _text_query(text: str) -> Q:
    """Events with the text in a text field, through the free-text index (``search.py``)."""
    return search.text_query(text)


def _prefixed(prefix: str) -> Q:
    """Actions starting with ``prefix``, as an index range where the database compares bytes.

    SQLite's LIKE (``startswith``) ignores ASCII case and so cannot use the action indexes;
    actions are lower-case dotted names (``recording.ACTION_PATTERN``), so the byte range
    ``prefix <= action < prefix-with-its-last-character-raised`` holds the same events.
    PostgreSQL's LIKE uses the ``varchar_pattern_ops`` index Django adds, and its ranges
    follow the collation, so there it stays ``startswith``.
    """
    if connection.vendor == "sqlite" and prefix:
        following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return Q(action__gte=prefix, action__lt=following)
    return Q(action__startswith=prefix)


def _common(events: QuerySet[AuditEvent], filters: Mapping[str, Any]) -> QuerySet[AuditEvent]:
    if filters.get("actor"):
        events = events.filter(actor_username__istartswith=filters["actor"])
    if filters.get("target"):
        target = str(filters["target"])
        events = events.filter(
            Q(target_name__icontains=target) | Q(target_key__contains=target.lower())
        )
    if filters.get("date_from"):
        events = events.filter(occurred_at__gte=_day_start(filters["date_from"]))
    if filters.get("date_to"):
        events = events.filter(occurred_at__lt=_day_start(filters["date_to"] + timedelta(days=1)))
    return events


def event_list(filters: Mapping[str, Any]) -> QuerySet[AuditEvent]:
    """The log under the filters, newest first."""
    events = _common(AuditEvent.objects.all(), filters)
    if filters.get("action"):
        action = str(filters["action"]).strip(". ")
        events = events.filter(Q(action=action) | _prefixed(f"{action}."))
    if filters.get("outcome"):
        events = events.filter(outcome=filters["outcome"])
    if filters.get("q"):
        events = events.filter(_text_query(str(filters["q"])))
    return events.order_by("-sequence")


#: A free-text search counts its matches up to this many; its pages then hold the newest
#: of them, and the export (which is not capped) all of them.
SEARCH_COUNT_CAP = 10_000
#: A search's first read of the index: more than a page, so a rare text is read once.
FIRST_READ = 200


def event_results(filters: Mapping[str, Any]) -> QuerySet[AuditEvent] | SearchResults:
    """What the log's pages list: :func:`event_list`, or for a free-text search a capped,
    index-driven :class:`SearchResults` (the paginator takes either)."""
    if filters.get("q"):
        return SearchResults(filters)
    return event_list(filters)


class SearchResults:
    """The events a free-text search matches, newest first, as the paginator reads them: a
    ``count()`` capped at :data:`SEARCH_COUNT_CAP` (``capped`` says when it was) and slices.

    Counting every match of a common word cost as much as the rest of the page (154 ms for
    50,000 matches at 1,000,000 events, then 81 ms more to find the newest fifty). Where the
    text is the only filter and the index can read its matches itself (``search.
    indexed_reader``), the events newer than the index's head come first, read by the scan
    (normally fewer than ``search.INDEX_EVERY``), then the index's matches in its own order,
    which it stops reading at the page. Otherwise the filters' query answers, the count capped.
    The same events in the same order either way (``tests/audit/test_search.py``).
    """

    def __init__(self, filters: Mapping[str, Any]) -> None:
        self.capped = False
        self._all = event_list(filters)
        text = str(filters["q"])
        only_text = not any(value for name, value in filters.items() if name != "q")
        self._indexed = search.indexed_reader(text) if only_text else None
        self._tail: QuerySet[AuditEvent] | None = None
        if self._indexed is not None:
            self._tail = AuditEvent.objects.filter(
                search.scan_query(text), sequence__gt=self._indexed.head
            ).order_by("-sequence")
        self._tail_count: int | None = None
        #: The index's first read, and every indexed match when it found fewer than asked.
        self._first: list[int] = []
        self._every: list[int] | None = None

    def _tail_size(self) -> int:
        if self._tail_count is None:
            assert self._tail is not None
            self._tail_count = self._tail[: SEARCH_COUNT_CAP + 1].count()
        return self._tail_count

    def count(self) -> int:
        limit = SEARCH_COUNT_CAP + 1
        if self._indexed is None:
            found = self._all[:limit].count()
        else:
            # A first page's worth of the index: fewer means that was every match (a rare
            # text, one read); a full page means a common one, counted by the index alone.
            tail = self._tail_size()
            first = self._first = self._indexed.sequences(0, FIRST_READ)
            if len(first) < FIRST_READ:
                self._every = first
                found = tail + len(first)
            else:
                found = tail + self._indexed.count(cap=max(0, limit - tail))
        self.capped = found > SEARCH_COUNT_CAP
        return min(found, SEARCH_COUNT_CAP)

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[AuditEvent]:
        return iter(self[0:SEARCH_COUNT_CAP])

    @overload
    def __getitem__(self, key: int) -> AuditEvent: ...
    @overload
    def __getitem__(self, key: slice) -> list[AuditEvent]: ...
    def __getitem__(self, key: int | slice) -> AuditEvent | list[AuditEvent]:
        if isinstance(key, int):
            found = self[key : key + 1]
            if not found:
                raise IndexError(key)
            return found[0]
        if key.step is not None:
            raise TypeError("SearchResults are read by slices of consecutive events")
        if self._indexed is None or self._tail is None:
            return list(self._all[key])
        start, stop = key.start or 0, min(key.stop or SEARCH_COUNT_CAP, SEARCH_COUNT_CAP)
        tail = self._tail_size()
        events = list(self._tail[start:stop]) if start < tail else []
        if stop > tail:
            offset = max(0, start - tail)
            known = self._every if self._every is not None else self._first
            if self._every is not None or stop - tail <= len(known):
                sequences = known[offset : stop - tail]
            else:
                sequences = self._indexed.sequences(offset, stop - tail - offset)
            events += AuditEvent.objects.filter(sequence__in=sequences).order_by("-sequence")
        return events


def export_events(filters: Mapping[str, Any], *, through: int) -> QuerySet[AuditEvent]:
    """The same events, oldest first, up to a fixed sequence (an export is a snapshot)."""
    return event_list(filters).filter(sequence__lte=through).order_by("sequence")


def head() -> tuple[int, str]:
    """(sequence, hash) of the newest event, (0, "") for an empty log: the chain's head is
    read from the chain, so there is no separate row to rewrite."""
    row = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
    return (int(row[0]), str(row[1])) if row else (0, "")


def event_with_neighbours(sequence: int) -> tuple[AuditEvent, AuditEvent | None, AuditEvent | None]:
    """The event and the ones before and after it in the chain (one query); raises
    AuditEvent.DoesNotExist."""
    rows = {
        e.sequence: e
        for e in AuditEvent.objects.filter(
            # The neighbours of the largest id a URL takes would not fit a 64-bit integer.
            sequence__in=[n for n in (sequence - 1, sequence, sequence + 1) if 0 <= n <= MAX_ID]
        )
    }
    if sequence not in rows:
        raise AuditEvent.DoesNotExist
    return rows[sequence], rows.get(sequence - 1), rows.get(sequence + 1)


def event_checks(event: AuditEvent, previous: AuditEvent | None) -> tuple[bool, bool]:
    """(its hash matches its content, it links to the event before it)."""
    values = {name: getattr(event, name) for name in chain.HASHED_FIELDS}
    matches = chain.event_hash(values) == event.hash
    if event.sequence == 1:
        return matches, event.prev_hash == chain.GENESIS
    return matches, previous is not None and previous.hash == event.prev_hash


@dataclass(frozen=True)
class ChainStatus:
    head_sequence: int
    head_hash: str
    last_verification: AuditVerification | None
    last_checkpoint: AuditCheckpoint | None

    @property
    def events_since_checkpoint(self) -> int:
        if self.last_checkpoint is None:
            return self.head_sequence
        return max(0, self.head_sequence - self.last_checkpoint.sequence)


def chain_status() -> ChainStatus:
    """The chain status panel (three queries). The newest verification run is shown only if
    this application signed it; otherwise the panel says the chain is in doubt and why."""
    sequence, hash_ = head()
    return ChainStatus(
        head_sequence=sequence,
        head_hash=hash_,
        last_verification=_trusted(
            AuditVerification.objects.order_by("-finished_at", "-id").first()
        ),
        last_checkpoint=AuditCheckpoint.objects.order_by("-created_at", "-id").first(),
    )


def latest_verification_id() -> int:
    """The id of the newest verification run (0 for none): a run newer than it has finished."""
    return int(AuditVerification.objects.order_by("-id").values_list("id", flat=True).first() or 0)


def _trusted(run: AuditVerification | None) -> AuditVerification | None:
    """The run as stored, or, when its signature does not hold, an unsaved stand-in that
    reports it as broken, so a row added with the database credentials never shows as a
    verification."""
    if run is None:
        return None
    try:
        secret = signing.checkpoint_key()
    except OSError:  # the web process cannot read the key file: say so, do not fail the page
        secret = None
    problem = signing.run_signature_problem(run, secret)
    if not problem:
        return run
    return AuditVerification(
        pk=run.pk,
        started_at=run.started_at,
        finished_at=run.finished_at,
        ok=False,
        events=run.events,
        head_sequence=run.head_sequence,
        checkpoints=run.checkpoints,
        first_problem=signing.forged_run_message(run, problem),
        source=run.source,
    )


def checkpoint_list() -> QuerySet[AuditCheckpoint]:
    return AuditCheckpoint.objects.order_by("-created_at", "-id")


# --- Capture history ------------------------------------------------------------------------


def _capture_kind(action: str) -> bool:
    kind = action.split(".step.", 1)[0].rsplit(".", 1)[0]
    return kind == CAPTURE_KIND or kind.startswith(f"{CAPTURE_KIND}_")


def _capture_events() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        _prefixed(f"{CAPTURE_KIND}.") | _prefixed(f"{CAPTURE_KIND}_"),
        operation_id__isnull=False,
    )


def capture_actions() -> list[str]:
    """Every capture action the record holds (a few dozen: kinds × requested, steps, ends).

    SQLite: a loose index scan, one index seek per distinct action, however long the log;
    PostgreSQL: DISTINCT over the capture entries of the action pattern index.
    """
    if connection.vendor != "sqlite":
        return list(_capture_events().order_by().values_list("action", flat=True).distinct())
    actions: list[str] = []
    with connection.cursor() as cursor:
        for low, high in (
            (f"{CAPTURE_KIND}.", f"{CAPTURE_KIND}/"),
            (f"{CAPTURE_KIND}_", f"{CAPTURE_KIND}`"),
        ):
            cursor.execute(
                "WITH RECURSIVE found(action) AS ("
                " SELECT min(action) FROM audit_auditevent WHERE action >= %s AND action < %s"
                " UNION ALL"
                " SELECT (SELECT min(action) FROM audit_auditevent"
                "         WHERE action > found.action AND action < %s)"
                " FROM found WHERE found.action IS NOT NULL"
                ") SELECT action FROM found WHERE action IS NOT NULL",
                [low, high, high],
            )
            actions += [row[0] for row in cursor.fetchall()]
    return actions


def capture_list(filters: Mapping[str, Any]) -> QuerySet[AuditEvent]:
    """One row per capture: its ``requested`` event, newest first, under the filters.

    The requested actions are listed first (:func:`capture_actions`), so the page and its
    count read only their entries of the action index, not every capture event."""
    actions = [action for action in capture_actions() if ".step." not in action]
    requested = [action for action in actions if action.endswith(".requested")]
    captures = _common(
        AuditEvent.objects.filter(action__in=requested, operation_id__isnull=False), filters
    )
    ended = AuditEvent.objects.filter(action__in=actions, operation_id__isnull=False)
    outcome = filters.get("outcome")
    if outcome in (Outcome.SUCCEEDED, Outcome.FAILED, Outcome.CANCELED):
        captures = captures.filter(
            operation_id__in=ended.filter(outcome=outcome).values("operation_id")
        )
    elif outcome == "unfinished":
        finished = ended.filter(outcome__in=[Outcome.SUCCEEDED, Outcome.FAILED, Outcome.CANCELED])
        captures = captures.exclude(operation_id__in=finished.values("operation_id"))
    if filters.get("q"):
        matching = AuditEvent.objects.filter(
            _text_query(str(filters["q"])), operation_id__isnull=False
        )
        captures = captures.filter(operation_id__in=matching.values("operation_id"))
    return captures.order_by("-sequence")


@dataclass
class CaptureRecord:
    """A capture as the record tells it: asked, each step, how it ended, what followed."""

    requested: AuditEvent
    ended: AuditEvent | None = None
    steps: list[AuditEvent] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)
    reviews: list[AuditEvent] = field(default_factory=list)

    @property
    def operation_id(self) -> int:
        return int(self.requested.operation_id or 0)

    @property
    def options(self) -> dict[str, Any]:
        data = self.requested.parameters_data
        return data if isinstance(data, dict) else {}

    @property
    def result(self) -> dict[str, Any]:
        data = self.ended.result_data if self.ended else {}
        return data if isinstance(data, dict) else {}

    @property
    def status(self) -> str:
        return self.ended.outcome if self.ended else "unfinished"

    @property
    def status_label(self) -> str:
        labels = {"succeeded": "Succeeded", "failed": "Failed", "canceled": "Canceled"}
        return labels.get(self.status, "In progress")

    @property
    def image_ids(self) -> list[str]:
        """ARM ids the capture produces (id-like values of its options and its result)."""
        ids: list[str] = []
        for data in (self.options, self.result):
            for value in data.values():
                if (
                    isinstance(value, str)
                    and value.lower().startswith("/subscriptions/")
                    and value.lower() != self.requested.target_key
                    and value not in ids
                ):
                    ids.append(value)
        return ids

    @property
    def image_id(self) -> str:
        for data in (self.result, self.options):
            preferred = data.get("image_id")
            if isinstance(preferred, str) and preferred:
                return preferred
        ids = self.image_ids
        return ids[0] if ids else ""

    @property
    def produced(self) -> bool:
        """The image exists: the capture succeeded (before that it is only the name asked)."""
        return self.status == Outcome.SUCCEEDED

    @property
    def image_name(self) -> str:
        name = self.result.get("image_name")
        if isinstance(name, str) and name:
            return name
        return self.image_id.rstrip("/").rsplit("/", 1)[-1] if self.image_id else ""

    def step_named(self, name: str) -> AuditEvent | None:
        for step in self.steps:
            if _step_name(step) == name:
                return step
        return None

    @property
    def source_fate(self) -> str:
        """What became of the source VM, from what the capture's steps did."""
        told = self.result.get("source_vm")
        if isinstance(told, str) and told:
            return told
        if self.step_named("generalize") is not None:
            state = "generalized and deallocated: it can no longer be started"
        elif self.step_named("deallocate") is not None:
            state = "deallocated"
        else:
            state = ""
        delete = self.step_named("delete_source")
        if delete is not None:
            if delete.action.endswith(".succeeded"):
                return "Deleted after the capture"
            if self.options.get("delete_source"):
                return f"Deleted ({delete.detail})" if delete.detail else "Deleted"
            return f"Kept, {state}" if state else "Kept"
        if state:
            return state[0].upper() + state[1:]
        return "Unchanged" if self.ended else "—"


def _step_name(event: AuditEvent) -> str:
    parts = event.action.split(".step.", 1)
    return parts[1].rsplit(".", 1)[0] if len(parts) == 2 else ""


def capture_records(requested: Iterable[AuditEvent]) -> list[CaptureRecord]:
    """Complete the rows of a page of captures: two queries, whatever the page size."""
    records = [CaptureRecord(requested=event) for event in requested]
    by_operation = {record.operation_id: record for record in records}
    if not by_operation:
        return records
    for event in AuditEvent.objects.filter(operation_id__in=list(by_operation)).order_by(
        "sequence"
    ):
        _attach(by_operation[int(event.operation_id or 0)], event)
    _attach_reviews(records)
    return records


def _attach(record: CaptureRecord, event: AuditEvent) -> None:
    record.events.append(event)
    kind = record.requested.action.rsplit(".", 1)[0]
    if event.action.startswith(f"{kind}.step."):
        record.steps.append(event)
    elif event.action in (f"{kind}.succeeded", f"{kind}.failed", f"{kind}.canceled"):
        record.ended = event


def _attach_reviews(records: list[CaptureRecord]) -> None:
    keys = {image.lower(): record for record in records for image in record.image_ids}
    operations = {record.operation_id: record for record in records}
    if not keys:
        return
    reviews = AuditEvent.objects.filter(
        Q(target_key__in=list(keys)) | Q(operation_id__in=list(operations)),
        action__startswith=REVIEW_PREFIX,
    ).order_by("sequence")
    for review in reviews:
        record = keys.get(review.target_key) or operations.get(int(review.operation_id or 0))
        if record is not None:
            record.reviews.append(review)


def operation_record(operation_id: int) -> CaptureRecord | None:
    """Every event of one operation (capture or not), with its reviews (three queries)."""
    requested = (
        AuditEvent.objects.filter(operation_id=operation_id, action__endswith=".requested")
        .order_by("sequence")
        .first()
    )
    if requested is None:
        first = AuditEvent.objects.filter(operation_id=operation_id).order_by("sequence").first()
        if first is None:
            return None
        requested = first
    return capture_records([requested])[0]


def is_capture(record: CaptureRecord) -> bool:
    return _capture_kind(record.requested.action)
