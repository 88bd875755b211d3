"""The recording API: numbering, chaining, what an event keeps, and what it refuses."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import RequestFactory

from contoso_images.audit import chain, context, selectors
from contoso_images.audit.models import AuditEvent
from contoso_images.audit.services import Outcome, Subject, record
from tests.audit.factories import vm_subject

pytestmark = pytest.mark.django_db


def test_events_are_numbered_from_one_and_chained(events):
    first, second, third = events(3)
    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert first.prev_hash == chain.GENESIS
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    stored = AuditEvent.objects.values(*chain.HASHED_FIELDS, "hash").get(sequence=2)
    assert chain.event_hash(stored) == second.hash
    assert selectors.head() == (3, third.hash)


def test_an_event_keeps_who_what_and_how_it_ended(operator_user):
    operator_user.first_name, operator_user.last_name = "Olivia", "Operator"
    operator_user.save()
    error = SimpleNamespace(
        code="OperationNotAllowed",
        message="Operation 'start' is not allowed on VM 'web-01' since it is generalized.",
        request_id="req-1",
        correlation_id="corr-1",
    )
    event = record(
        action="catalog.review.approve",
        actor=operator_user,
        target=vm_subject(),
        outcome=Outcome.FAILED,
        parameters={"comment": "looks good", "when": timedelta(seconds=3)},
        result={"image_id": "/subscriptions/x/images/img-1"},
        detail="Azure refused.",
        error=error,
        duration=timedelta(seconds=2.5),
        operation=41,
        related=("catalog.review", 7),
    )
    event = AuditEvent.objects.get(sequence=event.sequence)
    assert (event.actor_user_id, event.actor_username, event.actor_display) == (
        operator_user.pk,
        "olivia-operator",
        "Olivia Operator",
    )
    assert event.target_name == "web-01" and event.target_kind == vm_subject().kind
    assert event.target_key == vm_subject().id.lower()
    assert event.parameters_data == {"comment": "looks good", "when": "0:00:03"}
    assert event.result_data == {"image_id": "/subscriptions/x/images/img-1"}
    assert (event.error_code, event.request_id, event.correlation_id) == (
        "OperationNotAllowed",
        "req-1",
        "corr-1",
    )
    assert "generalized" in event.error_message
    assert (event.duration_ms, event.operation_id) == (2500, 41)
    assert (event.related_kind, event.related_id) == ("catalog.review", "7")
    # The names stay as they were, whatever happens to the user afterwards.
    operator_user.username = "renamed"
    operator_user.save()
    assert AuditEvent.objects.get(sequence=event.sequence).actor_username == "olivia-operator"


def test_the_request_being_served_gives_the_actor_and_address(operator_user):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="Firefox")
    request.user = operator_user
    token = context.bind(request)
    try:
        event = record(action="test.thing", target=Subject(kind="test", name="x"))
    finally:
        context.unbind(token)
    assert (event.actor_username, event.source_ip, event.user_agent) == (
        "olivia-operator",
        "192.0.2.7",
        "Firefox",
    )
    assert record(action="test.thing").actor_username == ""  # outside a request: the system


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "VM Deallocate"}, "lower-case dotted"),
        ({"action": "vm..start"}, "lower-case dotted"),
        ({"action": "vm.start", "outcome": "maybe"}, "outcome"),
        ({"action": "vm.start", "parameters": {"x": float("nan")}}, "JSON"),
    ],
)
def test_malformed_events_are_refused_loudly(kwargs, message):
    with pytest.raises(ValueError, match=message):
        record(**kwargs)
    assert not AuditEvent.objects.exists()


def test_an_event_is_undone_with_the_change_it_records(events):
    events(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(action="test.thing")
        raise RuntimeError("the change failed")
    assert list(AuditEvent.objects.values_list("sequence", flat=True)) == [2, 1]
    assert record(action="test.thing").sequence == 3  # no gap


def test_text_is_trimmed_to_fit_and_nul_bytes_dropped():
    event = record(action="test.thing", target=Subject(kind="x", name="n\x00" + "a" * 400))
    assert event.target_name == "n" + "a" * 299
    stored = AuditEvent.objects.values(*chain.HASHED_FIELDS, "hash").get()
    assert chain.event_hash(stored) == event.hash


def test_the_head_is_read_from_the_log(events):
    assert selectors.head() == (0, "")
    events(2)
    assert record(action="test.thing").sequence == 3
    assert selectors.head() == (3, AuditEvent.objects.get(sequence=3).hash)
