"""A real capture (vmops.capture through the emulator) is recorded step by step, and the
capture history tells it from the record alone."""

from __future__ import annotations

import pytest

from contoso_images.audit.models import AuditEvent
from contoso_images.operations import engine
from tests.capture.conftest import run_to_end
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.capture.services import CaptureOptions, capture_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _inline_engine(settings, monkeypatch):
    settings.OPERATION_POLL_SECONDS = 0.01
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)


def test_a_capture_into_a_gallery_is_recorded_and_shown(
    inventory, emulator, operator_user, auditor_client
):
    vm = inventory["web-prod-01"]
    options = CaptureOptions(
        kind=CaptureKind.GALLERY_GENERALIZED,
        guest_preparation=GuestPreparation.RUN_COMMAND,
        image_resource_group="rg-images",
        gallery="gal_contoso",
        definition="win2022-base",
        image_name="1.2.0",
        target_regions=[{"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"}],
    )
    capture, _ = capture_request(vm=vm, options=options, user=operator_user)
    done = run_to_end(capture.operation)
    assert done.status == "succeeded", done.error_summary

    recorded = list(
        AuditEvent.objects.filter(operation_id=done.pk)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    steps = list(done.steps.order_by("position").values_list("name", "status"))
    assert recorded == [
        "vm.capture_gallery.requested",
        *(
            f"vm.capture_gallery.step.{name}.{'skipped' if status == 'skipped' else 'succeeded'}"
            for name, status in steps
        ),
        "vm.capture_gallery.succeeded",
    ]
    requested = AuditEvent.objects.get(action="vm.capture_gallery.requested")
    assert requested.parameters_data["image_id"] == capture.image_id
    assert requested.actor_username == operator_user.username

    record = auditor_client.get("/audit/captures/?target=web-prod").context["records"][0]
    assert record.requested.target_name == "web-prod-01"
    assert record.image_id == capture.image_id and record.produced
    assert record.status_label == "Succeeded"
    assert record.source_fate == "Kept, generalized and deallocated: it can no longer be started"
    assert [s.parameters_data["step"] for s in record.steps] == [name for name, _ in steps]
    assert record.ended.duration_ms is not None
