"""The crash-point matrix through a real qcluster: a worker process is SIGKILLed at each
labelled point of the engine, for each power action, and the reconciler finishes the work.

One cluster runs all twenty cases side by side (each on its own VM). The crash tests'
plug-in (tests/crash_plan.py) reads the plan file (``<operation id> <point>`` lines) and the
first worker that reaches a listed point kills itself, once. Every operation must end in
Azure's true state, with one accepted action per VM in the emulator's request log and a
record that says what happened.
Run on the ORM broker and, with REDIS_URL set, on Redis.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings

from contoso_images.operations import engine
from contoso_images.operations.models import Operation
from tests.crash_plan import crash_plan_environment
from vmops.models import VirtualMachine
from vmops.services import vm_action_request

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

#: kind -> (the state its VM starts in, the state Azure shows at the end, the REST verb)
KINDS = {
    "start": ("deallocated", "running", "start"),
    "power_off": ("running", "stopped", "powerOff"),
    "deallocate": ("running", "deallocated", "deallocate"),
    "restart": ("running", "running", "restart"),
}
LEASE_SECONDS = 5
ACTION_SECONDS = 3


def _accepted(emulator, vm: VirtualMachine, verb: str) -> list:
    return [
        e
        for e in emulator.request_log()
        if e.method == "POST"
        and e.status == 202
        and e.path.split("?")[0].lower().endswith(f"/virtualmachines/{vm.name}/{verb}".lower())
    ]


def test_every_kind_survives_a_worker_killed_at_every_point(
    emulator, operator_user, start_qcluster, tmp_path, monkeypatch
):
    from vmops.services import inventory_sync_all

    emulator.seed_contoso_pilot(extra_vms=30)
    emulator.set_durations(**dict.fromkeys(KINDS, ACTION_SECONDS))
    inventory_sync_all()
    settings.OPERATION_REQUEUE_AFTER_SECONDS = 2
    free = {
        state: list(
            VirtualMachine.objects.filter(power_state=state, generalized=False).order_by("name")
        )
        for state in ("running", "deallocated")
    }
    plan = tmp_path / "crash-plan"
    cases = []
    real_enqueue = engine.enqueue
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)  # queued below, after the plan
    for kind, (start_state, end_state, verb) in KINDS.items():
        for point in engine.CRASH_POINTS:
            vm = free[start_state].pop()
            operation, _ = vm_action_request(vm=vm, kind=kind, user=operator_user)
            cases.append((operation, vm, end_state, verb, point))
    plan.write_text("".join(f"{op.pk} {point}\n" for op, _, _, _, point in cases))
    emulator.clear_request_log()
    start_qcluster(
        **crash_plan_environment(plan),
        OPERATION_LEASE_SECONDS=str(LEASE_SECONDS),
        OPERATION_POLL_SECONDS="0.5",
        # Short slices: operations still under way are handed off, so a hand-off can die.
        OPERATION_WAIT_SLICE_SECONDS="1",
        Q_WORKERS="2",
    )
    monkeypatch.setattr(engine, "enqueue", real_enqueue)
    for operation, *_ in cases:
        engine.enqueue(operation.pk)

    deadline = time.monotonic() + 240
    ids = [op.pk for op, *_ in cases]
    while Operation.objects.filter(pk__in=ids, finished_at__isnull=True).exists():
        assert time.monotonic() < deadline, list(
            Operation.objects.filter(pk__in=ids, finished_at__isnull=True).values_list(
                "pk", "kind", "status", "progress_message"
            )
        )
        engine.reconcile()  # what the scheduled reconciler does every minute
        time.sleep(1)

    for operation, vm, end_state, verb, point in cases:
        operation.refresh_from_db()
        vm.refresh_from_db()
        case = f"{operation.kind} killed {point}"
        assert Path(f"{plan}.{operation.pk}.{point}").exists(), f"{case}: no worker died"
        assert operation.status == "succeeded", (case, operation.error_summary)
        assert vm.power_state == end_state, case
        assert len(_accepted(emulator, vm, verb)) == 1, case
        assert operation.attempts >= 2, case
        if point == "after_accept":
            assert operation.steps.get().message == engine.EARLIER_ATTEMPT, case


def _writes(emulator, method: str, suffix: str) -> list:
    return [
        e
        for e in emulator.request_log()
        if e.method == method and e.path.split("?")[0].lower().endswith(suffix.lower())
    ]


def test_a_capture_a_review_effect_and_a_partial_deletion_survive_a_killed_worker(
    emulator,
    inventory,
    operator_user,
    reviewer_user,
    start_qcluster,
    tmp_path,
    settings,
    monkeypatch,
):
    """One of each other kind through a real qcluster (issue #20, item 3); every cell of the
    matrix runs in process (tests/operations/test_crash_matrix.py). Sysprep's Run Command is
    accepted and the worker killed before it kept the token; a deprecation's PATCH likewise;
    a partial image's deletion while its status is read. None may reach Azure twice."""
    from datetime import timedelta

    from django.utils import timezone

    from catalog.models import CatalogImage
    from catalog.services import catalog_sync_all, review_decide
    from contoso_images import azure
    from vmops.capture.choices import CaptureKind, GuestPreparation
    from vmops.capture.services import CaptureOptions, capture_request, partial_image_delete

    real_enqueue = engine.enqueue
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)  # queued below, after the plan
    settings.OPERATION_POLL_SECONDS = 0.01
    web = inventory["web-prod-01"]
    sub = web.subscription.subscription_id
    capture, _ = capture_request(
        vm=web,
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
    catalog_sync_all()
    legacy = CatalogImage.objects.get(definition__name="legacy-app", name="1.0.0")
    eol = (timezone.now() + timedelta(days=20)).replace(microsecond=0)
    deprecation = review_decide(
        image=legacy, user=reviewer_user, decision="deprecate", note="x", end_of_life_date=eol
    ).operation
    # A managed image whose creation Azure failed, left behind in Failed state.
    api = inventory["api-prod-01"]
    emulator.queue_operation_failure(path_contains="/images/img-api-prod-01")
    failed, _ = capture_request(
        vm=api,
        options=CaptureOptions(
            kind=CaptureKind.MANAGED_IMAGE,
            guest_preparation=GuestPreparation.CONFIRMED,
            image_resource_group="rg-images",
            image_name="img-api-prod-01",
        ),
        user=operator_user,
    )
    for _ in range(20):
        engine.run(operation_id=failed.operation.pk)
        failed.operation.refresh_from_db()
        if not failed.operation.is_unfinished:
            break
    assert failed.operation.status == "failed", failed.operation.progress_message
    deletion = partial_image_delete(capture=failed, user=operator_user)

    cases = [
        (capture.operation, "after_accept", "guest_prepare"),
        (deprecation, "after_accept", "update_publishing"),
        (deletion, "while_watching", "delete"),
    ]
    plan = tmp_path / "crash-plan"
    plan.write_text("".join(f"{op.pk} {point} {step}\n" for op, point, step in cases))
    emulator.clear_request_log()
    start_qcluster(
        **crash_plan_environment(plan),
        OPERATION_LEASE_SECONDS=str(LEASE_SECONDS),
        OPERATION_POLL_SECONDS="0.5",
        Q_WORKERS="2",
    )
    monkeypatch.setattr(engine, "enqueue", real_enqueue)
    settings.OPERATION_REQUEUE_AFTER_SECONDS = 2
    for operation, _, _ in cases:
        engine.enqueue(operation.pk)

    ids = [op.pk for op, _, _ in cases]
    deadline = time.monotonic() + 240
    while Operation.objects.filter(pk__in=ids, finished_at__isnull=True).exists():
        assert time.monotonic() < deadline, list(
            Operation.objects.filter(pk__in=ids, finished_at__isnull=True).values_list(
                "pk", "kind", "status", "step", "progress_message"
            )
        )
        engine.reconcile()  # what the scheduled reconciler does every minute
        time.sleep(1)

    for operation, point, step in cases:
        operation.refresh_from_db()
        case = f"{operation.kind} killed {point} in {step}"
        assert Path(f"{plan}.{operation.pk}.{point}").exists(), f"{case}: no worker died"
        assert operation.status == "succeeded", (case, operation.step, operation.error_summary)
        assert operation.attempts >= 2, case
    for method, suffix in [
        ("POST", "/virtualMachines/web-prod-01/runCommand"),
        ("POST", "/virtualMachines/web-prod-01/deallocate"),
        ("POST", "/virtualMachines/web-prod-01/generalize"),
        ("PUT", "/versions/1.3.0"),
        ("PATCH", "/versions/1.0.0"),
        ("DELETE", "/images/img-api-prod-01"),
    ]:
        sent = _writes(emulator, method, suffix)
        assert [e.applied for e in sent] == [True], (method, suffix, [e.status for e in sent])
    version = azure.gallery_image_version_get(
        sub, "rg-images", "gal_contoso", "win2022-base", "1.3.0"
    )
    assert version.provisioning_state == "Succeeded"
    legacy.refresh_from_db()
    assert legacy.review_status == "deprecated" and legacy.exclude_from_latest
    with pytest.raises(azure.AzureError) as gone:
        azure.managed_image_get(api.subscription.subscription_id, "rg-images", "img-api-prod-01")
    assert gone.value.is_not_found
