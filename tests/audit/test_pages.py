"""The audit pages: auditors only, filters, a constant number of queries, detail and records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contoso_images.audit.models import AuditEvent
from contoso_images.audit.services import Outcome, Subject, record
from contoso_images.audit.services.checkpoints import checkpoint_create
from tests.audit.factories import vm_subject

pytestmark = pytest.mark.django_db

PAGES = [
    "/audit/",
    "/audit/events/1/",
    "/audit/captures/",
    "/audit/operations/7/",
    "/audit/checkpoints/",
    "/audit/checkpoints/{checkpoint}.json",
    "/audit/checkpoints/all.jsonl",
]


@pytest.fixture
def some_history(events):
    """Returns the pages to visit (the checkpoint's id differs between databases)."""
    events(3, operation=7, action="vm.deallocate.requested", outcome=Outcome.ACCEPTED)
    checkpoint = checkpoint_create()
    return [url.format(checkpoint=checkpoint.pk) for url in PAGES]


@pytest.mark.parametrize("fixture", ["operator_client", "reviewer_client", "roleless_user"])
def test_only_auditors_see_the_audit_pages(request, client, some_history, fixture):
    other = request.getfixturevalue(fixture)
    if fixture == "roleless_user":
        client.force_login(other)
        other = client
    for url in some_history:
        assert other.get(url).status_code == 403, url
    assert other.post("/audit/export/", {"format": "csv"}).status_code == 403
    assert other.post("/audit/chain/verify/").status_code == 403


def test_auditors_see_every_audit_page(auditor_client, some_history):
    for url in some_history:
        assert auditor_client.get(url).status_code == 200, url


def test_the_log_shows_who_did_what_to_which_target_and_how_it_ended(auditor_client, operator_user):
    record(
        action="vm.start.failed",
        actor=operator_user,
        target=vm_subject("build-win-01"),
        outcome=Outcome.FAILED,
        error_code="OperationNotAllowed",
        error_message="The VM is generalized.",
        detail="Azure refused to start the VM.",
        duration=4.2,
        operation=12,
    )
    html = auditor_client.get("/audit/").content.decode()
    for text in (
        "olivia-operator",
        "vm.start.failed",
        "build-win-01",
        "Failed",
        "OperationNotAllowed",
        "Azure refused to start the VM.",
        "took 4.2 s",
        'href="/audit/operations/12/"',
        'href="/audit/events/1/"',
    ):
        assert text in html, text
    assert "/vms/resource/" not in html  # auditors cannot open VM pages
    assert "Chain status" in html


def test_operators_who_audit_can_follow_a_record_to_the_vm(client, operator_user, inventory):
    from django.contrib.auth.models import Group

    operator_user.groups.add(Group.objects.get(name="auditors"))
    client.force_login(operator_user)
    vm = next(iter(inventory.values()))
    record(action="vm.start.requested", target=vm.target, outcome=Outcome.ACCEPTED)
    html = client.get("/audit/").content.decode()
    assert f"/vms/resource/?id={vm.azure_id}" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=olivia", {"vm.start.requested", "vm.start.succeeded"}),
        ("action=vm.start", {"vm.start.requested", "vm.start.succeeded"}),
        ("action=vm.start.requested", {"vm.start.requested"}),
        ("action=auth", {"auth.login_failed"}),
        ("target=db-01", {"auth.login_failed", "vm.start.succeeded"}),
        ("outcome=failed", {"auth.login_failed"}),
        ("q=quota", {"vm.start.succeeded"}),
        ("q=REQ-42", {"vm.start.succeeded"}),
        ("date_from=2026-03-02&date_to=2026-03-02", {"vm.start.succeeded"}),
        ("date_to=2026-03-01", {"vm.start.requested"}),
        ("outcome=nonsense", {"vm.start.requested", "vm.start.succeeded", "auth.login_failed"}),
    ],
)
def test_the_log_filters(auditor_client, operator_user, query, expected, settings):
    settings.TIME_ZONE = "UTC"
    day = datetime(2026, 3, 1, 12, tzinfo=UTC)
    record(
        action="vm.start.requested",
        actor=operator_user,
        target=vm_subject("web-01"),
        outcome=Outcome.ACCEPTED,
        occurred_at=day,
    )
    record(
        action="vm.start.succeeded",
        actor=operator_user,
        target=vm_subject("db-01"),
        detail="Within quota.",
        request_id="req-42",
        occurred_at=day + timedelta(days=1),
    )
    record(
        action="auth.login_failed",
        target=Subject(kind="user", name="db-01-admin"),
        outcome=Outcome.FAILED,
        occurred_at=day + timedelta(days=2),
    )
    page = auditor_client.get(f"/audit/?{query}").context["page"]
    assert {event.action for event in page} == expected


def test_an_impossible_date_range_says_why(auditor_client, events):
    events(1)
    html = auditor_client.get("/audit/?date_from=2026-03-02&date_to=2026-03-01").content.decode()
    assert "The end date is before the start date." in html


def test_the_log_pages_in_a_constant_number_of_queries(auditor_client, events):
    events(3)
    with CaptureQueriesContext(connection) as few:
        auditor_client.get("/audit/")
    events(120)
    with CaptureQueriesContext(connection) as many:
        html = auditor_client.get("/audit/?page=2&action=vm").content.decode()
    assert len(few.captured_queries) == len(many.captured_queries)
    assert "123 events match the filters" in html and "Page 2 of 3" in html


def test_htmx_filtering_swaps_only_the_log(auditor_client, events):
    events(2)
    response = auditor_client.get(
        "/audit/?action=vm", headers={"HX-Request": "true", "HX-Target": "audit-log"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="audit-log">') and "Chain status" not in html


def test_an_event_page_shows_its_hash_and_neighbours(auditor_client, events):
    first, second, third = events(3)
    html = auditor_client.get("/audit/events/2/").content.decode()
    assert second.hash in html and second.prev_hash == first.hash and first.hash in html
    assert 'href="/audit/events/1/"' in html and 'href="/audit/events/3/"' in html
    assert "Matches its hash" in html and "Links to #1" in html
    assert auditor_client.get("/audit/events/99/").status_code == 404


def test_an_event_page_shows_tampering(auditor_client, events):
    from tests.audit.factories import tamper

    events(3)
    tamper("UPDATE audit_auditevent SET detail = 'x' WHERE sequence = 2")
    html = auditor_client.get("/audit/events/2/").content.decode()
    assert "Does not match its hash" in html


def test_the_chain_status_panel_shows_the_last_verification_and_checkpoint(auditor_client, events):
    events(2)
    html = auditor_client.get("/audit/").content.decode()
    assert "Never yet" in html and "None yet" in html
    response = auditor_client.post("/audit/chain/verify/", follow=True)  # tasks run inline here
    assert "Verification started." in response.content.decode()
    html = auditor_client.get("/audit/").content.decode()
    assert "Intact" in html and "Event #2" in html and "1 event since" in html
    checkpoint = AuditEvent.objects.get(action="audit.checkpoint")
    assert checkpoint.actor_username == "ada-auditor"


def test_verify_now_is_a_post(auditor_client):
    assert auditor_client.get("/audit/chain/verify/").status_code == 405


def test_checkpoints_can_be_downloaded(auditor_client, events):
    import json

    events(2)
    checkpoint = checkpoint_create()
    response = auditor_client.get(f"/audit/checkpoints/{checkpoint.pk}.json")
    assert "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    assert (document["sequence"], document["signature"]) == (2, checkpoint.signature)
    lines = b"".join(auditor_client.get("/audit/checkpoints/all.jsonl").streaming_content)
    assert json.loads(lines.splitlines()[0]) == document
    assert auditor_client.get("/audit/checkpoints/99.json").status_code == 404
