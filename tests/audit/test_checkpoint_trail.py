"""A shorter window: a checkpoint every AUDIT_CHECKPOINT_EVENTS events as well as daily, each one
also kept where the database user cannot rewrite it (an append-only trail file, and syslog),
so that a history re-chained after it is caught by ``audit_verify --checkpoint`` (issue 20).
"""

from __future__ import annotations

import json
import socket
import stat

import pytest

from contoso_images.audit import chain
from contoso_images.audit.models import AuditCheckpoint, AuditEvent, AuditVerification
from contoso_images.audit.services.checkpoints import checkpoint_create, checkpoint_document
from tests.audit.factories import append_events, tamper, verify_command

pytestmark = pytest.mark.django_db


# --- Every N events -------------------------------------------------------------------------


def test_a_checkpoint_is_queued_every_n_events(settings, django_capture_on_commit_callbacks):
    settings.AUDIT_CHECKPOINT_EVENTS = 5
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        append_events(4)
    assert not callbacks and not AuditCheckpoint.objects.exists()
    # Queued when the transaction that reaches the count commits, not in it.
    with django_capture_on_commit_callbacks() as callbacks:
        append_events(1)
    assert len(callbacks) == 1 and not AuditCheckpoint.objects.exists()
    callbacks[0]()  # tests run tasks inline: this is the worker taking the task
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.sequence == 5
    assert AuditVerification.objects.get().source == "events"
    # #6 is the checkpoint's own event; four more reach #10 and the next checkpoint.
    with django_capture_on_commit_callbacks(execute=True):
        append_events(4)
    sequences = AuditCheckpoint.objects.order_by("sequence").values_list("sequence", flat=True)
    assert list(sequences) == [5, 10]


def test_queued_checkpoints_that_come_too_late_do_nothing(settings):
    """A backlog of queued tasks (a worker down for a while) makes one checkpoint, not many."""
    from contoso_images.audit.tasks import audit_checkpoint_due

    settings.AUDIT_CHECKPOINT_EVENTS = 5
    append_events(5)
    assert audit_checkpoint_due()["checkpoint"] == 5
    assert audit_checkpoint_due() == {"skipped": "only 1 event since the last checkpoint"}
    assert AuditCheckpoint.objects.count() == 1


def test_no_count_checkpoints_when_turned_off(settings, django_capture_on_commit_callbacks):
    settings.AUDIT_CHECKPOINT_EVENTS = 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        append_events(3000)
    assert not callbacks and not AuditCheckpoint.objects.exists()


# --- The trail file and syslog --------------------------------------------------------------


def test_each_checkpoint_is_appended_to_the_trail(_checkpoint_trail):
    append_events(2)
    first = checkpoint_create()
    # Created for its owner to write and its group to read, in a directory of its own.
    assert stat.S_IMODE(_checkpoint_trail.stat().st_mode) & 0o077 == 0o040
    assert stat.S_IMODE(_checkpoint_trail.parent.stat().st_mode) & 0o007 == 0
    with _checkpoint_trail.open("a") as trail:
        trail.write('{"kept": "whatever was written in between"}\n')
    append_events(1)
    second = checkpoint_create()
    lines = [json.loads(line) for line in _checkpoint_trail.read_text().splitlines()]
    assert lines == [
        checkpoint_document(first),
        {"kept": "whatever was written in between"},
        checkpoint_document(second),
    ]
    event = AuditEvent.objects.get(action="audit.checkpoint", related_id=str(second.pk))
    assert event.result_data["trail"] == str(_checkpoint_trail)
    assert event.result_data["syslog"] == "off"


def test_a_checkpoint_that_cannot_be_kept_outside_the_database_is_not_written(settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.AUDIT_CHECKPOINT_TRAIL = str(blocker / "checkpoints.jsonl")
    append_events(1)
    from contoso_images.audit.services.trail import CheckpointTrailError

    with pytest.raises(CheckpointTrailError, match="could not be appended to"):
        checkpoint_create()
    assert not AuditCheckpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="audit.checkpoint").exists()


def test_each_checkpoint_goes_to_syslog(settings, tmp_path):
    address = tmp_path / "log"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(address))
    server.settimeout(5)  # the message is already there when recv is called
    settings.AUDIT_CHECKPOINT_SYSLOG = str(address)
    try:
        append_events(2)
        checkpoint = checkpoint_create()
        message = server.recv(65536).decode()
    finally:
        server.close()
    assert "contoso-images audit checkpoint" in message
    assert chain.canonical_json(checkpoint_document(checkpoint)) in message
    event = AuditEvent.objects.get(action="audit.checkpoint")
    assert event.result_data["syslog"] == f"sent to {address}"


def test_a_missing_syslog_never_stops_a_checkpoint_and_the_record_says_so(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_SYSLOG = str(tmp_path / "no-syslog-here")
    append_events(1)
    checkpoint = checkpoint_create()
    assert AuditCheckpoint.objects.get() == checkpoint
    event = AuditEvent.objects.get(action="audit.checkpoint")
    assert event.result_data["syslog"].startswith(f"not sent: {tmp_path / 'no-syslog-here'}")


# --- A re-chain after a checkpoint is caught by the trail -----------------------------------


def _rechain(rows):
    """Renumber and re-hash rows so that every link holds (what a careful forger does)."""
    prev = chain.GENESIS
    for sequence, row in enumerate(rows, start=1):
        row.update(sequence=sequence, prev_hash=prev)
        row["hash"] = prev = chain.event_hash(row)
    return rows


def _replace_log(rows):
    """Replace the whole log and remove the stored checkpoints, as the tables' owner."""
    columns = [*chain.HASHED_FIELDS, "hash"]
    insert = (
        f"INSERT INTO audit_auditevent ({', '.join(columns)}) "  # noqa: S608 - test SQL
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    tamper("DELETE FROM audit_auditevent", "DELETE FROM audit_auditcheckpoint")
    for row in rows:
        values = [row[name] for name in columns]
        values[columns.index("occurred_at")] = row["occurred_at"].isoformat()
        tamper(insert, params=values)


@pytest.mark.parametrize(
    "case, says",
    [
        ("edit", "event #6: it differs from what the checkpoint of"),
        ("insert", "event #6: it differs from what the checkpoint of"),
        ("cut", "the log ends at event #4, but the checkpoint of"),
    ],
)
def test_a_history_rechained_after_a_checkpoint_is_caught_by_the_trail(settings, case, says):
    append_events(6)
    checkpoint_create()  # vouches for #6 in the database and in the trail; its event is #7
    rows = list(AuditEvent.objects.order_by("sequence").values(*chain.HASHED_FIELDS, "hash"))
    if case == "edit":
        rows[2]["detail"] = "nothing happened"
    elif case == "insert":
        rows.insert(3, {**rows[3], "detail": "I was here all along"})
    else:
        rows = rows[:4]
    _replace_log(_rechain(rows))

    trail = settings.AUDIT_CHECKPOINT_TRAIL
    settings.AUDIT_CHECKPOINT_TRAIL = "off"
    status, output = verify_command()
    assert status == 0, output  # the database alone cannot tell
    settings.AUDIT_CHECKPOINT_TRAIL = trail
    status, output = verify_command("--checkpoint")
    assert status == 1, output
    assert says in output and "(trail)" in output


def test_the_schedule_refuses_to_sign_a_rechained_history(settings):
    from contoso_images.audit.tasks import audit_checkpoint_scheduled

    append_events(4)
    checkpoint_create()
    rows = list(AuditEvent.objects.order_by("sequence").values(*chain.HASHED_FIELDS, "hash"))
    rows[0]["detail"] = "rewritten"
    _replace_log(_rechain(rows))
    result = audit_checkpoint_scheduled()
    assert result["ok"] is False and result["checkpoint"] is None
    assert not AuditCheckpoint.objects.exists()


def test_checkpoint_without_a_file_needs_the_trail(settings):
    settings.AUDIT_CHECKPOINT_TRAIL = "off"
    status, output = verify_command("--checkpoint")
    assert status == 1 and "AUDIT_CHECKPOINT_TRAIL is off" in output
    settings.AUDIT_CHECKPOINT_TRAIL = "/nonexistent/checkpoints.jsonl"
    status, output = verify_command("--checkpoint")
    assert status == 1 and "No checkpoint trail at /nonexistent/checkpoints.jsonl" in output


def test_a_damaged_trail_line_is_reported(_checkpoint_trail):
    append_events(2)
    checkpoint_create()
    with _checkpoint_trail.open("a") as trail:
        trail.write('{"format": "contoso-images-audit-checkpoint/1", "sequence": 2\n')
    status, output = verify_command("--checkpoint")
    assert status == 1 and f"line 2 of {_checkpoint_trail.name}" in output


def test_an_archive_is_checked_against_the_trail(tmp_path, settings):
    append_events(3)
    checkpoint_create()
    archive = tmp_path / "audit.jsonl"
    rows = AuditEvent.objects.order_by("sequence").values(*chain.HASHED_FIELDS, "hash")
    archive.write_text(
        "".join(
            json.dumps({**row, "occurred_at": chain.canonical_time(row["occurred_at"])}) + "\n"
            for row in list(rows)[:2]
        )
    )
    status, output = verify_command("--archive", str(archive), "--checkpoint")
    assert status == 1 and "the log ends at event #2" in output
