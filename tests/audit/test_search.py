"""The free-text index finds exactly what the scan finds, and stays in step with the chain."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from contoso_images.audit import search, selectors
from contoso_images.audit.models import AuditEvent
from contoso_images.audit.services import Outcome, Subject, record
from tests.audit.factories import verify_command, vm_subject

pytestmark = pytest.mark.django_db

TEXTS = [
    "OperationNotAllowed",
    "operationnotallowed",
    "OPERATION",
    "web-01",
    "WEB-0",
    "req-42",
    "100%",
    "50_",
    "a_b",
    "back\\slash",
    'say "hi"',
    "Éclair",
    "éclair",
    "straße",
    "STRASSE",
    "\u212a",  # the Kelvin sign: Unicode folds it to k, SQLite's LIKE does not
    "k",
    "ok",  # two characters: the scan answers
    "zz",
    "ed\x1fop",
    "vm.start",
    "{",
    "running",
    "/subscriptions/",
    "nothing matches this",
]


@pytest.fixture
def varied(operator_user):
    record(
        action="vm.start.failed",
        actor=operator_user,
        target=vm_subject("web-01"),
        outcome=Outcome.FAILED,
        error_code="OperationNotAllowed",
        error_message="Operation 'Start VM' is not allowed: 100% of a_b used.",
        request_id="REQ-42",
        parameters={"power_state_when_requested": "running"},
    )
    record(action="auth.login", target=Subject(kind="user", name="Éclair straße"))
    record(action="vm.deallocate.requested", detail='He said "hi" and back\\slash, 50_ \u212aelvin')
    record(action="catalog.review.approve", detail="ok", target=vm_subject("db-02"))


@pytest.mark.parametrize("text", TEXTS)
def test_the_index_finds_what_the_scan_finds(varied, text):
    through_index = set(
        AuditEvent.objects.filter(search.text_query(text)).values_list("sequence", flat=True)
    )
    scanned = set(
        AuditEvent.objects.filter(search.scan_query(text)).values_list("sequence", flat=True)
    )
    assert through_index == scanned


def test_the_log_search_uses_the_index(varied):
    query = str(selectors.event_list({"q": "OperationNotAllowed"}).query)
    if connection.vendor == "sqlite":
        assert search.FTS_TABLE in query
    page = selectors.event_list({"q": "operationnotallowed"})
    assert [event.action for event in page] == ["vm.start.failed"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's index has no table")
def test_single_appends_are_indexed_in_batches_and_found_before(
    db, django_capture_on_commit_callbacks
):
    """An event the index has not reached yet is found by the scan of the tail; the append
    that crosses a multiple of INDEX_EVERY queues the catch-up (tasks run inline here)."""
    record(action="auth.login", target=Subject(kind="user", name="early-user"))
    assert search.indexed_head() == 0
    assert selectors.event_list({"q": "early-user"}).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(search.INDEX_EVERY):
            with transaction.atomic():
                record(action="auth.login", target=Subject(kind="user", name=f"user-{i}"))
    assert search.indexed_head() == search.INDEX_EVERY + 1  # the catch-up reaches the head
    assert selectors.event_list({"q": "early-user"}).count() == 1
    assert selectors.event_list({"q": f"user-{search.INDEX_EVERY - 1}"}).count() == 1
    assert search.index_problems() == []


def test_a_bulk_append_is_indexed_with_its_transaction(events):
    events(search.INDEX_EVERY)
    if connection.vendor == "sqlite":
        assert search.indexed_head() == search.INDEX_EVERY


def test_an_append_is_indexed_with_its_transaction(db):
    record(action="auth.login", target=Subject(kind="user", name="kept-user"))
    with pytest.raises(RuntimeError), transaction.atomic():
        record(action="auth.login", target=Subject(kind="user", name="rolled-back-user"))
        raise RuntimeError
    assert selectors.event_list({"q": "kept-user"}).count() == 1
    assert selectors.event_list({"q": "rolled-back-user"}).count() == 0
    assert search.index_problems() == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's index has no table")
def test_a_gap_in_the_index_is_a_note_of_audit_verify_not_a_broken_chain(events):
    events(3)
    search.catch_up()
    assert search.index_problems() == []
    with connection.cursor() as cursor:  # an entry for an event that does not exist
        cursor.execute(f"INSERT INTO {search.FTS_TABLE} (rowid, body) VALUES (50, 'forged')")  # noqa: S608
    assert "searches may miss events" in search.index_problems()[0]
    code, output = verify_command()
    assert (
        code == 0 and "searches may miss events" in output and "OK: the chain is intact" in output
    )
    search.rebuild()
    assert search.index_problems() == []
    assert selectors.event_list({"q": "vm.deallocate"}).count() == 3
    assert selectors.event_list({"q": "forged"}).count() == 0


def test_fold_lowers_ascii_letters_only():
    assert search.fold("AbC-Éẞ\u212a") == "abc-Éẞ\u212a"


def _pages(results, size: int) -> list[int]:
    from django.core.paginator import Paginator

    paginator = Paginator(results, size)
    return [event.sequence for number in paginator.page_range for event in paginator.page(number)]


@pytest.mark.parametrize("first_read", [3, 200])  # a common text, then a rare one
def test_search_pages_hold_the_scans_events_in_order_across_the_unindexed_tail(
    events, monkeypatch, first_read
):
    """The index's own reader (its matches newest first) after the events it has not reached
    yet (the tail, scanned): page after page, exactly the scan's events in the scan's order."""
    monkeypatch.setattr(selectors, "FIRST_READ", first_read)
    events(23, detail="common-word")
    search.catch_up()  # what the worker's task does every INDEX_EVERY appends
    for i in range(6):  # single appends: the index reaches them only with the next batch
        record(action="auth.login", target=Subject(kind="user", name=f"common-word-{i}"))
    events(4, detail="something else")
    record(action="auth.login", target=Subject(kind="user", name="Common-Word late"))
    if connection.vendor == "sqlite":
        assert 0 < search.indexed_head() < AuditEvent.objects.count()
    scanned = list(
        AuditEvent.objects.filter(search.scan_query("common-word"))
        .order_by("-sequence")
        .values_list("sequence", flat=True)
    )
    results = selectors.event_results({"q": "common-word"})
    assert results.count() == len(scanned) == 30 and not results.capped
    for size in (1, 4, 7, 50):
        assert _pages(selectors.event_results({"q": "common-word"}), size) == scanned


def test_a_search_counts_up_to_the_cap_and_says_so(events, monkeypatch, client, auditor_user):
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 12)
    monkeypatch.setattr(selectors, "FIRST_READ", 5)
    events(20, detail="common-word")
    search.catch_up()
    record(action="auth.login", target=Subject(kind="user", name="common-word-tail"))
    results = selectors.event_results({"q": "common-word"})
    assert results.count() == 12 and results.capped
    newest = list(
        AuditEvent.objects.filter(search.scan_query("common-word"))
        .order_by("-sequence")
        .values_list("sequence", flat=True)[:12]
    )
    assert _pages(selectors.event_results({"q": "common-word"}), 5) == newest
    # Other filters with the text: the filters' query answers, counted up to the cap too.
    both = selectors.event_results({"q": "common-word", "action": "vm.deallocate"})
    assert both.count() == 12 and both.capped
    client.force_login(auditor_user)
    page = client.get("/audit/", {"q": "common-word"}).content.decode()
    assert "More than 12 events match the filters" in page
    assert "Page 1 of the first 1" not in page  # 12 fit one page of 50: no pagination
    assert "Export all that match as" in page
    few = client.get("/audit/", {"q": "common-word-tail"}).content.decode()
    assert "1 event matches the filters." in few


def test_a_search_reads_the_index_once_for_a_rare_text(events, django_assert_max_num_queries):
    events(30, detail="common-word")
    record(action="auth.login", target=Subject(kind="user", name="rare-name"))
    search.catch_up()
    results = selectors.event_results({"q": "rare-name"})
    with django_assert_max_num_queries(4):  # head, tail count, one read, the rows
        assert results.count() == 1
        assert [e.target_name for e in results[0:50]] == ["rare-name"]
