"""audit_verify reports the first broken link of every kind of tampering, by raw SQL.

Each test plays an attacker who can write to the database and take the triggers off (the
tables' owner on PostgreSQL, anyone who can write the file on SQLite); only the checkpoint key
and the checkpoint trail are out of reach.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from contoso_images.audit import chain, guards
from contoso_images.audit.models import AuditVerification
from contoso_images.audit.services.checkpoints import checkpoint_create, checkpoint_document
from tests.audit.factories import raw, tamper
from tests.audit.factories import verify_command as verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkpoint_file(tmp_path):
    """Sign a checkpoint and keep it outside the database, as an auditor would."""

    def _make():
        path = tmp_path / "checkpoint.json"
        path.write_text(json.dumps(checkpoint_document(checkpoint_create())))
        return str(path)

    return _make


def test_an_intact_chain_verifies(events, checkpoint_file):
    events(5)
    path = checkpoint_file()
    events(2)
    status, output = verify("--checkpoint", path)
    assert status == 0, output
    assert "OK: the chain is intact" in output and "Checked 8 events" in output
    run = AuditVerification.objects.get()
    assert run.ok and run.events == 8 and run.source == "command"


def test_an_empty_log_verifies():
    status, output = verify()
    assert status == 0 and "no checkpoint yet" in output


def test_an_edited_event_is_reported(events):
    events(5)
    tamper("UPDATE audit_auditevent SET target_name = 'someone-else' WHERE sequence = 3")
    status, output = verify()
    assert status == 1
    assert "First broken link: event #3: its content does not match its hash" in output
    assert not AuditVerification.objects.get().ok


def test_an_edit_that_recomputes_the_hash_breaks_the_next_link(events):
    events(5)
    from contoso_images.audit.models import AuditEvent

    values = AuditEvent.objects.values(*chain.HASHED_FIELDS).get(sequence=3)
    values["detail"] = "nothing to see"
    forged = chain.event_hash(values)
    tamper(
        "UPDATE audit_auditevent SET detail = 'nothing to see', hash = %s WHERE sequence = 3",
        params=(forged,),
    )
    status, output = verify()
    assert status == 1
    assert "event #4: it does not link to event #3" in output


def test_a_deleted_event_is_reported(events):
    events(5)
    tamper("DELETE FROM audit_auditevent WHERE sequence = 2")
    status, output = verify()
    assert status == 1 and "event #2: event #2 is missing" in output


def test_an_inserted_event_is_reported(events):
    events(4)
    from contoso_images.audit.models import AuditEvent

    # Make room at #3 by renumbering what follows, then slip a well-formed event in.
    values = AuditEvent.objects.values(*chain.HASHED_FIELDS).get(sequence=3)
    tamper("UPDATE audit_auditevent SET sequence = sequence + 10 WHERE sequence >= 3")
    tamper("UPDATE audit_auditevent SET sequence = sequence - 9 WHERE sequence >= 13")
    prev = AuditEvent.objects.get(sequence=2).hash
    values.update(sequence=3, prev_hash=prev, detail="I was never here")
    columns = [*chain.HASHED_FIELDS, "hash"]
    row = [values[name] for name in chain.HASHED_FIELDS] + [chain.event_hash(values)]
    row[chain.HASHED_FIELDS.index("occurred_at")] = values["occurred_at"].isoformat()
    tamper(
        f"INSERT INTO audit_auditevent ({', '.join(columns)}) "  # noqa: S608 - test SQL
        f"VALUES ({', '.join(['%s'] * len(columns))})",
        params=row,
    )
    status, output = verify()
    assert status == 1
    assert "First broken link: event #4: its content does not match its hash" in output


def test_an_event_appended_behind_the_services_back_that_does_not_link_is_reported(events):
    events(3)
    from contoso_images.audit.models import AuditEvent

    values = AuditEvent.objects.values(*chain.HASHED_FIELDS, "hash").get(sequence=2)
    values.update(sequence=4, prev_hash=values.pop("hash"), detail="added by hand")
    values["hash"] = chain.event_hash(values)
    columns = [*chain.HASHED_FIELDS, "hash"]
    row = [values[name] for name in columns]
    row[columns.index("occurred_at")] = values["occurred_at"].isoformat()
    raw(  # INSERT is the one change the application's database user may make
        f"INSERT INTO audit_auditevent ({', '.join(columns)}) "  # noqa: S608 - test SQL
        f"VALUES ({', '.join(['%s'] * len(columns))})",
        params=row,
    )
    status, output = verify()
    assert status == 1 and "event #4: it does not link to event #3" in output


def test_reordered_events_are_reported(events):
    events(4)
    tamper(
        "UPDATE audit_auditevent SET sequence = 99 WHERE sequence = 2",
        "UPDATE audit_auditevent SET sequence = 2 WHERE sequence = 3",
        "UPDATE audit_auditevent SET sequence = 3 WHERE sequence = 99",
    )
    status, output = verify()
    assert status == 1 and "First broken link: event #2: its content does not match" in output


def test_a_cut_tail_is_reported_by_the_last_checkpoint(events):
    events(6)
    checkpoint_create()
    tamper("DELETE FROM audit_auditevent WHERE sequence > 4")
    status, output = verify()
    assert status == 1
    assert "event #5: the log ends at event #4, but the checkpoint of" in output
    assert "vouches for #6" in output


def test_the_chain_head_is_the_newest_event_and_there_is_no_head_row_to_rewrite(
    events, auditor_client
):
    """The head row the panel showed (and verification trusted) was writable by anyone with
    the database credentials; the head is now read from the chain itself."""
    from django.db import DatabaseError

    events(3)
    with pytest.raises(DatabaseError):
        tamper("UPDATE audit_auditchainhead SET sequence = 99")
    html = auditor_client.get("/audit/").content.decode()
    assert 'href="/audit/events/3/"' in html and "#99" not in html


def test_a_cut_tail_hidden_from_the_database_is_reported_by_a_kept_checkpoint(
    events, checkpoint_file, settings
):
    """The attacker also removes the stored checkpoints: only the copies kept elsewhere (a
    downloaded file, the trail) still know how long the chain was."""
    events(6)
    path = checkpoint_file()  # vouches for #6; its own audit.checkpoint event is #7
    tamper(
        "DELETE FROM audit_auditevent WHERE sequence > 4",
        "DELETE FROM audit_auditcheckpoint",
    )
    trail, settings.AUDIT_CHECKPOINT_TRAIL = settings.AUDIT_CHECKPOINT_TRAIL, "off"
    assert verify()[0] == 0  # the database alone cannot tell
    status, output = verify("--checkpoint", path)
    assert status == 1
    assert "the log ends at event #4, but the checkpoint of" in output
    assert "vouches for #6" in output
    settings.AUDIT_CHECKPOINT_TRAIL = trail
    status, output = verify()
    assert status == 1 and "(trail)" in output and "vouches for #6" in output


def test_a_truncated_table_is_reported(events, checkpoint_file):
    events(3)
    path = checkpoint_file()
    tamper("DELETE FROM audit_auditevent")  # TRUNCATE on PostgreSQL: the same to the verifier
    status, output = verify("--checkpoint", path)
    assert status == 1 and "the log ends at event #0" in output


def test_a_rewritten_history_is_reported_by_a_kept_checkpoint(events, checkpoint_file, settings):
    events(4)
    path = checkpoint_file()
    from contoso_images.audit.models import AuditEvent

    # Rewrite #2 and re-chain everything after it, hashes and head included.
    rows = list(AuditEvent.objects.order_by("sequence").values(*chain.HASHED_FIELDS))
    prev = chain.GENESIS
    for row in rows:
        if row["sequence"] == 2:
            row["detail"] = "rewritten"
        row["prev_hash"] = prev
        prev = chain.event_hash(row)
        tamper(
            "UPDATE audit_auditevent SET detail = %s, prev_hash = %s, hash = %s "
            "WHERE sequence = %s",
            params=(row["detail"], row["prev_hash"], prev, row["sequence"]),
        )
    tamper("DELETE FROM audit_auditcheckpoint")
    settings.AUDIT_CHECKPOINT_TRAIL = "off"
    assert verify()[0] == 0  # a perfect forgery, as far as the database can tell
    status, output = verify("--checkpoint", path)
    assert status == 1
    assert "event #4: it differs from what the checkpoint of" in output


def test_a_forged_checkpoint_is_reported(events, checkpoint_file, tmp_path):
    events(2)
    document = json.loads(Path(checkpoint_file()).read_text())
    document["sequence"] = 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    status, output = verify("--checkpoint", str(forged))
    assert status == 1 and "its signature does not match its content" in output


def test_a_checkpoint_signed_with_another_key_is_reported(events, checkpoint_file, settings):
    events(2)
    path = checkpoint_file()
    settings.AUDIT_CHECKPOINT_KEY = "another key"
    status, output = verify("--checkpoint", path)
    assert status == 1 and "signed with another key" in output


def test_a_missing_trigger_is_reported(events):
    events(1)
    with connection.cursor() as cursor:
        name = guards.trigger_names("audit_auditevent", connection.vendor)[0]
        suffix = " ON audit_auditevent" if connection.vendor == "postgresql" else ""
        cursor.execute(f"DROP TRIGGER {name}{suffix}")
    status, output = verify()
    assert status == 1 and f"the database trigger {name} is missing" in output


def _forge_a_verification_run():
    """INSERT a run claiming the chain intact, as the application's database user may."""
    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(
                cursor, "audit_auditverification"
            )
        }
    values = {
        "started_at": "2031-01-01 00:00:00",
        "finished_at": "2031-01-01 00:00:01",
        "ok": True,
        "events": 2,
        "head_sequence": 2,
        "checkpoints": 0,
        "first_problem": "",
        "source": "schedule",
    }
    if "signature" in columns:
        values.update(key_id="0" * 12, signature="0" * 64)
    raw(
        f"INSERT INTO audit_auditverification ({', '.join(values)}) "  # noqa: S608 - test SQL
        f"VALUES ({', '.join(['%s'] * len(values))})",
        params=list(values.values()),
    )


def test_a_verification_that_never_ran_is_not_shown_as_one(events, auditor_client):
    events(2)
    tamper("UPDATE audit_auditevent SET detail = 'x' WHERE sequence = 1")
    verify()  # a genuine run: broken
    _forge_a_verification_run()  # then a forged "intact" one, newer
    html = auditor_client.get("/audit/").content.decode()
    assert "Intact" not in html and "Broken" in html
    assert "was not signed by this application" in html
    status, output = verify()
    assert status == 1
    assert "the verification run of 2031-01-01" in output
    assert "was not signed by this application" in output


def test_a_missing_checkpoint_file_is_a_clear_error():
    with pytest.raises(CommandError, match="No checkpoint file"):
        call_command("audit_verify", "--checkpoint", "/nonexistent.json")


# --- audit_checkpoint -----------------------------------------------------------------------


def test_audit_checkpoint_signs_and_writes_a_file(events, tmp_path, settings):
    events(3)
    out = io.StringIO()
    path = tmp_path / "cp.json"
    call_command("audit_checkpoint", "--output", str(path), stdout=out, stderr=io.StringIO())
    document = json.loads(path.read_text())
    assert document["sequence"] == 3 and document["format"] == chain.CHECKPOINT_FORMAT
    assert json.loads(out.getvalue()) == document
    key_file = tmp_path / "audit_checkpoint_key"
    assert key_file.stat().st_mode & 0o777 == 0o600  # created on first use, owner only
    from contoso_images.audit.models import AuditEvent

    event = AuditEvent.objects.get(sequence=4)
    assert event.action == "audit.checkpoint" and event.result_data["sequence"] == 3


def test_audit_checkpoint_refuses_to_vouch_for_a_broken_chain(events):
    events(3)
    tamper("UPDATE audit_auditevent SET detail = 'x' WHERE sequence = 1")
    with pytest.raises(CommandError, match="No checkpoint written") as refused:
        call_command("audit_checkpoint", stdout=io.StringIO())
    assert refused.value.returncode == 1


def test_the_key_comes_from_the_environment_before_the_file(events, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_KEY = "from-the-environment"
    checkpoint = checkpoint_create()
    assert checkpoint.key_id == chain.key_id(b"from-the-environment")
    assert not (tmp_path / "audit_checkpoint_key").exists()


def test_the_scheduled_task_verifies_then_signs(events):
    from contoso_images.audit.tasks import audit_checkpoint_scheduled

    events(2)
    assert audit_checkpoint_scheduled() == {"ok": True, "events": 2, "checkpoint": 2}
    assert AuditVerification.objects.get().source == "schedule"


def test_the_checkpoint_schedule_is_registered(settings):
    from contoso_images.core import schedules

    task = next(t for t in schedules.registered() if t.name == "audit-checkpoint")
    assert task.func == "contoso_images.audit.tasks.audit_checkpoint_scheduled"
    assert schedules.interval_minutes(task, settings) == 24 * 60
