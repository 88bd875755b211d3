"""Export of the current filter, streamed as CSV or JSON Lines; the export is itself recorded."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contoso_images.audit import chain
from contoso_images.audit.models import AuditEvent
from contoso_images.audit.services import Outcome, Subject, record
from tests.audit.factories import vm_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(operator_user):
    record(
        action="vm.start.requested",
        actor=operator_user,
        target=vm_subject("web-01"),
        outcome=Outcome.ACCEPTED,
    )
    record(
        action="vm.start.failed",
        actor=operator_user,
        target=vm_subject("web-01"),
        outcome=Outcome.FAILED,
        error_code="OperationNotAllowed",
        detail='=HYPERLINK("x")',
    )
    record(
        action="auth.login_failed",
        target=Subject(kind="user", name="mallory"),
        outcome=Outcome.FAILED,
    )


def _export(client, **data):
    response = client.post("/audit/export/", data)
    assert response.status_code == 200, response.content
    assert response.streaming
    return response, b"".join(response.streaming_content).decode("utf-8")


def test_csv_export_matches_the_filter(auditor_client, history):
    response, body = _export(auditor_client, format="csv", actor="olivia")
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="audit-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert [row["action"] for row in rows] == ["vm.start.requested", "vm.start.failed"]
    assert rows[1]["error_code"] == "OperationNotAllowed"
    assert rows[1]["hash"] == AuditEvent.objects.get(sequence=2).hash
    # A cell a spreadsheet would run as a formula is defused.
    assert rows[1]["detail"] == '\'=HYPERLINK("x")'


def test_jsonl_export_matches_the_filter_and_holds_the_hashed_values(auditor_client, history):
    response, body = _export(auditor_client, format="jsonl", outcome="failed")
    lines = [json.loads(line) for line in body.splitlines()]
    assert [line["action"] for line in lines] == ["vm.start.failed", "auth.login_failed"]
    for line in lines:
        assert chain.event_hash(line) == line["hash"]
    assert response["X-Audit-Events"] == "2"


def test_the_export_is_recorded_with_its_filter(auditor_client, auditor_user, history):
    _export(auditor_client, format="jsonl", action="vm.start", date_from="2020-01-01")
    event = AuditEvent.objects.order_by("-sequence").first()
    assert (event.action, event.actor_username) == ("audit.export", auditor_user.username)
    assert event.parameters_data == {
        "format": "jsonl",
        "filters": {"action": "vm.start", "date_from": "2020-01-01"},
    }
    assert event.result_data == {"events": 2, "through_sequence": 3}


def test_an_export_is_a_snapshot_that_leaves_out_its_own_event(auditor_client, history):
    _, body = _export(auditor_client, format="jsonl")
    assert [json.loads(line)["sequence"] for line in body.splitlines()] == [1, 2, 3]


def test_an_unfiltered_export_is_an_archive_that_verifies(auditor_client, history, tmp_path):
    _, body = _export(auditor_client, format="jsonl")
    archive = tmp_path / "audit.jsonl"
    archive.write_text(body, encoding="utf-8")
    out = io.StringIO()
    call_command("audit_verify", "--archive", str(archive), stdout=out)
    assert "OK: the chain is intact" in out.getvalue()
    lines = body.splitlines()
    edited = json.loads(lines[1])
    edited["target_name"] = "web-02"
    lines[1] = json.dumps(edited)
    archive.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CommandError, match="event #2: its content does not match its hash"):
        call_command("audit_verify", "--archive", str(archive), stdout=io.StringIO())


def test_an_archive_is_checked_against_a_kept_checkpoint(auditor_client, history, tmp_path):
    from contoso_images.audit.services.checkpoints import checkpoint_create, checkpoint_document

    cp = tmp_path / "cp.json"
    cp.write_text(json.dumps(checkpoint_document(checkpoint_create())))
    _, body = _export(auditor_client, format="jsonl", action="vm")  # a partial export
    archive = tmp_path / "partial.jsonl"
    archive.write_text(body, encoding="utf-8")
    with pytest.raises(CommandError, match="the log ends at event #2, but the checkpoint"):
        call_command(
            "audit_verify", "--archive", str(archive), "--checkpoint", str(cp), stdout=io.StringIO()
        )


def test_export_needs_the_export_permission(client, quiet_login, history):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(username="vera-viewer")
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_audit", content_type__app_label="audit")
    )
    quiet_login(client, viewer)
    assert client.get("/audit/").status_code == 200
    assert client.post("/audit/export/", {"format": "csv"}).status_code == 403
    html = client.get("/audit/").content.decode()
    assert "JSON Lines" not in html


def test_export_is_a_post_and_a_known_format(auditor_client, history):
    assert auditor_client.get("/audit/export/?format=csv").status_code == 405
    response = auditor_client.post("/audit/export/", {"format": "xlsx"})
    assert response.status_code == 400
    assert response.content.decode() == "Choose CSV or JSON Lines for the export."
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_the_archive_procedure_checkpoint_then_export_then_verify(
    auditor_client, history, tmp_path
):
    """README's procedure: sign a checkpoint, export everything as JSON Lines, keep both;
    years later, audit_verify --archive proves the file is the record the checkpoint signed."""
    auditor_client.post("/audit/chain/verify/")  # signs a checkpoint of #3 (tasks run inline)
    from contoso_images.audit.models import AuditCheckpoint

    checkpoint = AuditCheckpoint.objects.get()
    kept = tmp_path / "checkpoint.json"
    kept.write_bytes(auditor_client.get(f"/audit/checkpoints/{checkpoint.pk}.json").content)
    _, body = _export(auditor_client, format="jsonl")
    archive = tmp_path / "audit.jsonl"
    archive.write_text(body, encoding="utf-8")
    out = io.StringIO()
    call_command("audit_verify", "--archive", str(archive), "--checkpoint", str(kept), stdout=out)
    assert "OK: the chain is intact" in out.getvalue() and "1 checkpoint" in out.getvalue()
