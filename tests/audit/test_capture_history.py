"""The capture history, built from the record: who, options, steps, image, fate, reviews."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contoso_images.audit.models import AuditEvent
from contoso_images.audit.services import Subject, record
from tests.audit.factories import CAPTURE_STEPS, simulate_capture
from tests.factories import VirtualMachineFactory

pytestmark = pytest.mark.django_db

IMAGE = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-images/providers/"
    "Microsoft.Compute/galleries/contoso/images/web/versions/1.0.0"
)


@pytest.fixture
def captures(operator_user, reviewer_user):
    web = VirtualMachineFactory(name="web-golden")
    db = VirtualMachineFactory(name="db-golden")
    done = simulate_capture(
        vm=web,
        user=operator_user,
        options={"target": "gallery", "gallery": "contoso", "delete_source": True},
        image_id=IMAGE,
        skipped=("guest_prepare",),
    )
    failed = simulate_capture(vm=db, user=operator_user, fail_at="generalize")
    record(
        action="catalog.review.approve",
        actor=reviewer_user,
        target=Subject(kind="Microsoft.Compute/galleries/images/versions", id=IMAGE, name="1.0.0"),
        detail="Hardened baseline, approved for production.",
        related=("catalog.review", 1),
    )
    return done, failed


def test_a_capture_is_recorded_step_by_step(captures):
    done, _ = captures
    actions = list(
        AuditEvent.objects.filter(operation_id=done.pk)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "vm.capture_gallery.requested",
        "vm.capture_gallery.step.preflight.succeeded",
        "vm.capture_gallery.step.guest_prepare.skipped",
        *(f"vm.capture_gallery.step.{name}.succeeded" for name in CAPTURE_STEPS[2:]),
        "vm.capture_gallery.succeeded",
    ]
    end = AuditEvent.objects.get(action="vm.capture_gallery.succeeded")
    assert end.result_data == {}  # the engine's bookkeeping ("sent" markers) is left out
    assert end.parameters_data["image_id"] == IMAGE


def test_the_history_shows_each_capture_and_what_followed(auditor_client, captures):
    html = auditor_client.get("/audit/captures/").content.decode()
    for text in (
        "web-golden",
        "db-golden",
        "1.0.0",  # the image produced
        "Deleted after the capture",  # what became of the source VM
        "approve",  # the review decision that followed
        "rui-reviewer",
        "Succeeded",
        "Failed",
        "generalize failed",
        "(Azure already showed it done.)",
        "olivia-operator",
    ):
        assert text in html, text
    assert "2 captures." in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("target=web", ["web-golden"]),
        ("outcome=failed", ["db-golden"]),
        ("outcome=succeeded", ["web-golden"]),
        ("outcome=unfinished", []),
        ("actor=olivia", ["db-golden", "web-golden"]),
        ("actor=rui", []),
        ("q=contoso/images/web", ["web-golden"]),
        ("q=could not be generalized", ["db-golden"]),
    ],
)
def test_the_history_filters(auditor_client, captures, query, expected):
    records = auditor_client.get(f"/audit/captures/?{query}").context["records"]
    assert sorted(r.requested.target_name for r in records) == expected


def test_an_unfinished_capture_is_shown_in_progress(auditor_client, operator_user):
    simulate_capture(vm=VirtualMachineFactory(name="slow-01"), user=operator_user, finish=False)
    records = auditor_client.get("/audit/captures/?outcome=unfinished").context["records"]
    assert [r.status_label for r in records] == ["In progress"]


def test_the_history_pages_in_a_constant_number_of_queries(auditor_client, operator_user):
    simulate_capture(user=operator_user, image_id=IMAGE)
    with CaptureQueriesContext(connection) as few:
        auditor_client.get("/audit/captures/")
    for _ in range(5):
        simulate_capture(user=operator_user, image_id=IMAGE)
    simulate_capture(user=operator_user, fail_at="deallocate")
    with CaptureQueriesContext(connection) as many:
        auditor_client.get("/audit/captures/")
    assert len(few.captured_queries) == len(many.captured_queries)


def test_a_capture_record_shows_every_event_and_the_summary(auditor_client, captures):
    done, failed = captures
    html = auditor_client.get(f"/audit/operations/{done.pk}/").content.decode()
    assert "Capture of web-golden" in html
    assert "delete_source" in html and "gallery" in html  # the options
    assert IMAGE in html and "Hardened baseline" in html
    assert html.count('href="/audit/events/') >= len(CAPTURE_STEPS) + 2
    html = auditor_client.get(f"/audit/operations/{failed.pk}/").content.decode()
    assert "Azure refused the generalize step." in html and "OperationNotAllowed" in html
    assert "req-capture-1" in html
    assert auditor_client.get("/audit/operations/424242/").status_code == 404


def test_an_empty_history_says_so(auditor_client):
    html = auditor_client.get("/audit/captures/").content.decode()
    assert "No VM has been captured yet." in html
