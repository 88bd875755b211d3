"""The hash chain, as pure functions: canonical content, hashes, signatures, verification.

Nothing here touches Django, so the same code checks the live table, a data migration's
rows and an exported archive (``audit_verify --archive``) years later.

An event's hash is SHA-256 over a JSON array (UTF-8, no spaces) of every column but the hash
itself, in a fixed order; the previous event's hash is one of those columns, so changing,
removing, inserting or reordering any event breaks a link from there on. A checkpoint is
an HMAC-SHA-256 signature over (sequence, head hash, time): it vouches for the chain's
length, which the chain alone cannot.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

#: The ``prev_hash`` of the first event.
GENESIS = "0" * 64
#: The format of the hashed content; bump it (and keep the old one) if columns are added.
FORMAT_VERSION = 1
#: Every column of an event but ``hash``, in the order exports list them.
HASHED_FIELDS = (
    "sequence",
    "version",
    "occurred_at",
    "action",
    "outcome",
    "actor_user_id",
    "actor_username",
    "actor_display",
    "source_ip",
    "user_agent",
    "target_kind",
    "target_id",
    "target_key",
    "target_name",
    "parameters",
    "result",
    "detail",
    "error_code",
    "error_message",
    "request_id",
    "correlation_id",
    "duration_ms",
    "operation_id",
    "related_kind",
    "related_id",
    "prev_hash",
)
JSON_FIELDS = ("parameters", "result")
CHECKPOINT_FORMAT = "contoso-images-audit-checkpoint/1"
#: Problems listed beyond the first break before verification stops reporting.
MAX_PROBLEMS = 20


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value: sorted keys, no spaces, no NaN, UTF-8 as is."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_time(value: datetime | str) -> str:
    """UTC with microseconds and a Z; a string is taken as already canonical (archives)."""
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_TIME = HASHED_FIELDS.index("occurred_at")
_JSON = tuple(HASHED_FIELDS.index(name) for name in JSON_FIELDS)


def content(fields: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash is taken over: the JSON array of its values in
    ``HASHED_FIELDS`` order (UTF-8, no spaces), the time as ``canonical_time``, parameters
    and result as their canonical JSON text (an archive's objects are turned back into it)."""
    values = [fields[name] for name in HASHED_FIELDS]
    values[_TIME] = canonical_time(values[_TIME])
    for index in _JSON:
        if not isinstance(values[index], str):
            values[index] = canonical_json(values[index])
    return _ENCODER.encode(values).encode("utf-8")


def event_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(content(fields)).hexdigest()


# --- Checkpoints ----------------------------------------------------------------------------


def key_id(key: bytes) -> str:
    """Names a key without revealing it, so a checkpoint says which key signed it."""
    return hashlib.sha256(key).hexdigest()[:12]


def checkpoint_payload(
    *, sequence: int, head_hash: str, created_at: datetime | str, key: str
) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "sequence": sequence,
        "head_hash": head_hash,
        "created_at": canonical_time(created_at),
        "key_id": key,
    }


def sign(secret: bytes, payload: Mapping[str, Any]) -> str:
    return hmac.new(secret, canonical_json(dict(payload)).encode(), hashlib.sha256).hexdigest()


def signature_valid(secret: bytes, payload: Mapping[str, Any], signature: str) -> bool:
    return hmac.compare_digest(sign(secret, payload), signature or "")


@dataclass(frozen=True)
class Claim:
    """A checkpoint as verification uses it: where it says the chain was, and whether its
    signature holds (``signature_problem`` says why not)."""

    sequence: int
    head_hash: str
    created_at: str
    source: str
    signature_problem: str = ""

    @property
    def label(self) -> str:
        return f"the checkpoint of {self.created_at} ({self.source})"


def claim_from(document: Mapping[str, Any], *, secret: bytes | None, source: str) -> Claim:
    """Read a checkpoint (a stored row's values or a downloaded file) and check its signature."""
    try:
        payload = checkpoint_payload(
            sequence=int(document["sequence"]),
            head_hash=str(document["head_hash"]),
            created_at=document["created_at"],
            key=str(document["key_id"]),
        )
        signature = str(document["signature"])
    except (KeyError, TypeError, ValueError):
        return Claim(0, GENESIS, "?", source, "it is not a checkpoint of this format")
    problem = ""
    if secret is None:
        problem = "no checkpoint key is configured, so its signature cannot be checked"
    elif payload["key_id"] != key_id(secret):
        problem = f"it was signed with another key ({payload['key_id']})"
    elif not signature_valid(secret, payload, signature):
        problem = "its signature does not match its content (altered or forged)"
    return Claim(payload["sequence"], payload["head_hash"], payload["created_at"], source, problem)


# --- Verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One broken link or guard, in words, at the first sequence number it concerns."""

    sequence: int | None
    kind: str
    message: str

    def __str__(self) -> str:
        where = f"event #{self.sequence}: " if self.sequence is not None else ""
        return f"{where}{self.message}"


@dataclass
class Report:
    """What verification found. ``problems``: the chain is broken or its guards were tampered
    with (no checkpoint may vouch for it); ``warnings``: the chain is intact but its guards
    are weaker than they should be (the application's database role may change audit rows)."""

    events: int = 0
    first_sequence: int | None = None
    last_sequence: int = 0
    last_hash: str = GENESIS
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, sequence: int | None, kind: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(sequence, kind, message))


def merge_claims(claims: Iterable[Claim]) -> list[Claim]:
    """One claim per checkpoint: the same checkpoint read from several places (the database,
    the trail, a downloaded file) is checked once, its label naming every place."""
    merged: dict[tuple[int, str, str, str], Claim] = {}
    for claim in claims:
        key = (claim.sequence, claim.head_hash, claim.created_at, claim.signature_problem)
        if key in merged:
            sources = merged[key].source.split(", ")
            if claim.source not in sources:
                merged[key] = replace(merged[key], source=", ".join([*sources, claim.source]))
        else:
            merged[key] = claim
    return list(merged.values())


def verify(
    events: Iterable[Mapping[str, Any]],
    *,
    claims: Iterable[Claim] = (),
    archive: bool = False,
) -> Report:
    """Walk the events in sequence order and report every broken link, first one first.

    ``events`` yields each event's columns (``HASHED_FIELDS`` plus ``hash``); ``claims`` are
    checkpoints. The chain's end is vouched for only by checkpoints: events removed after
    the newest one cannot be told from events never recorded. In an ``archive`` the first
    event may come after sequence 1 (its link to the events before it cannot be checked).
    """
    report = Report()
    claims = merge_claims(claims)
    report.checkpoints = len(claims)
    by_sequence: dict[int, list[Claim]] = {}
    for claim in claims:
        if claim.signature_problem:
            report.add(
                None, "checkpoint", f"{claim.label} cannot be trusted: {claim.signature_problem}."
            )
            continue
        by_sequence.setdefault(claim.sequence, []).append(claim)
    expected = 1
    prev_hash = GENESIS
    for row in events:
        sequence = int(row["sequence"])
        if report.first_sequence is None:
            report.first_sequence = sequence
            if archive and sequence > 1:
                expected, prev_hash = sequence, str(row["prev_hash"])
                report.notes.append(
                    f"The archive starts at event #{sequence}; its link to the events before "
                    "it is taken as given."
                )
        report.events += 1
        gap = sequence != expected
        if sequence > expected:
            missing = f"#{expected}" if sequence == expected + 1 else f"#{expected}–#{sequence - 1}"
            report.add(
                expected,
                "missing",
                f"event {missing} is missing: removed from the log (the next event found "
                f"is #{sequence}).",
            )
        elif sequence < expected:
            report.add(
                sequence,
                "order",
                f"appears after event #{expected - 1}: the log is out of order or holds a "
                "duplicate.",
            )
        computed = event_hash(row)
        stored = str(row["hash"])
        if computed != stored:
            report.add(
                sequence,
                "edited",
                "its content does not match its hash: it was edited after it was recorded "
                "(or forged).",
            )
        elif not gap and str(row["prev_hash"]) != prev_hash:
            report.add(
                sequence,
                "link",
                f"it does not link to event #{sequence - 1}: an event was inserted, replaced "
                "or reordered here.",
            )
        for claim in by_sequence.get(sequence, []):
            if claim.head_hash != stored:
                report.add(
                    sequence,
                    "checkpoint",
                    f"it differs from what {claim.label} vouched for: the log was rewritten "
                    "up to here.",
                )
        expected = max(expected, sequence + 1)
        prev_hash = stored
        report.last_sequence = sequence
        report.last_hash = stored
    last = report.last_sequence
    for sequence, at in sorted(by_sequence.items()):
        if sequence > last:
            for claim in at:
                report.add(
                    last + 1,
                    "truncated",
                    f"the log ends at event #{last}, but {claim.label} vouches for "
                    f"#{sequence}: the events after #{last} were cut off.",
                )
    report.problems.sort(key=lambda p: (p.sequence is None, p.sequence or 0))
    return report
