"""A capture through a real qcluster whose worker is SIGKILLed while Azure creates the image:
the reconciler hands it to another worker, which watches the same creation; Azure receives
one image-version PUT and one generalize POST."""

from __future__ import annotations

import time

import pytest

from contoso_images.operations import engine
from contoso_images.operations.models import Operation
from tests.crash_plan import crash_plan_environment
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.capture.services import CaptureOptions, capture_request

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _inline_engine():
    """tests/capture/conftest.py runs captures inline; this one uses the real cluster."""


def _requests(emulator, method: str, suffix: str) -> list:
    return [
        e
        for e in emulator.request_log()
        if e.method == method and e.path.split("?")[0].lower().endswith(suffix.lower())
    ]


def test_a_worker_killed_during_image_creation_does_not_create_it_twice(
    emulator, inventory, operator_user, start_qcluster, tmp_path, settings, monkeypatch
):
    real_enqueue = engine.enqueue
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)
    emulator.set_durations(gallery_image_version_create=4)
    vm = inventory["web-prod-01"]
    capture, _ = capture_request(
        vm=vm,
        options=CaptureOptions(
            kind=CaptureKind.GALLERY_GENERALIZED,
            guest_preparation=GuestPreparation.RUN_COMMAND,
            image_resource_group="rg-images",
            gallery="gal_contoso",
            definition="win2022-base",
            image_name="1.3.0",
            target_regions=[{"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"}],
        ),
        user=operator_user,
    )
    operation = capture.operation
    plan = tmp_path / "crash-plan"
    plan.write_text(f"{operation.pk} while_watching create_version\n")
    emulator.clear_request_log()
    start_qcluster(
        **crash_plan_environment(plan),
        OPERATION_LEASE_SECONDS="5",
        OPERATION_POLL_SECONDS="0.5",
        Q_WORKERS="2",
    )
    monkeypatch.setattr(engine, "enqueue", real_enqueue)
    settings.OPERATION_REQUEUE_AFTER_SECONDS = 2
    engine.enqueue(operation.pk)

    deadline = time.monotonic() + 120
    while not Operation.objects.filter(pk=operation.pk, finished_at__isnull=False).exists():
        assert time.monotonic() < deadline, Operation.objects.filter(pk=operation.pk).values(
            "status", "step", "progress_message"
        )[0]
        engine.reconcile()  # the scheduled reconciler
        time.sleep(1)

    operation.refresh_from_db()
    assert operation.status == "succeeded", (operation.step, operation.error_summary)
    assert plan.with_name(f"crash-plan.{operation.pk}.while_watching").exists(), "no one died"
    assert operation.attempts >= 2
    assert len(_requests(emulator, "PUT", "/versions/1.3.0")) == 1
    assert len(_requests(emulator, "POST", "/generalize")) == 1
    assert len(_requests(emulator, "POST", "/runCommand")) == 1
