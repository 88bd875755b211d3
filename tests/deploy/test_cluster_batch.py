"""A batch of five VMs through a real qcluster with two workers, one of which is SIGKILLed
just after Azure accepted a create (the crash plan plug-in, tests/crash_plan.py): every VM
is created, each with exactly one PUT, and all five are in the inventory linked to their
image."""

from __future__ import annotations

import time

import pytest

from contoso_images.operations import engine
from contoso_images.operations.models import Operation
from tests.crash_plan import crash_plan_environment
from tests.deploy.conftest import ask_for
from vmops.deploy.services import deploy_request
from vmops.models import DeploymentSecret, VirtualMachine

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _inline_engine():
    """tests/deploy/conftest.py runs the engine inline; this test uses the real cluster."""


def test_a_batch_of_five_on_two_workers_survives_a_killed_worker(
    emulator, images, operator_user, start_qcluster, tmp_path, settings, monkeypatch
):
    real_enqueue = engine.enqueue
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)
    sub = VirtualMachine.objects.first().subscription.subscription_id
    emulator.set_quota(sub, "westeurope", "standardDSv5Family", 100)
    emulator.set_durations(vm_create=2)
    image = images["img-win2022-base-20241001"]  # Windows: each create carries a password
    deployment = deploy_request(
        ask=ask_for(image, sub, name="batch", count=5),
        subscription_id=sub,
        user=operator_user,
        tags={},
    )
    ids = [item["operation"] for item in deployment.items]
    plan = tmp_path / "crash-plan"
    plan.write_text(f"{ids[2]} after_accept create\n")
    emulator.clear_request_log()
    start_qcluster(
        **crash_plan_environment(plan),
        OPERATION_LEASE_SECONDS="5",
        OPERATION_POLL_SECONDS="0.5",
        Q_WORKERS="2",
    )
    monkeypatch.setattr(engine, "enqueue", real_enqueue)
    settings.OPERATION_REQUEUE_AFTER_SECONDS = 2
    engine.enqueue_many(ids)

    deadline = time.monotonic() + 150
    while Operation.objects.filter(pk__in=ids, finished_at__isnull=True).exists():
        assert time.monotonic() < deadline, list(
            Operation.objects.filter(pk__in=ids).values("status", "progress_message")
        )
        engine.reconcile()
        time.sleep(1)

    ops = Operation.objects.filter(pk__in=ids)
    assert {op.status for op in ops} == {"succeeded"}, [
        (op.target_name, op.error_code, op.error_summary) for op in ops
    ]
    assert plan.with_name(f"crash-plan.{ids[2]}.after_accept").exists(), "no one died"
    for n in range(1, 6):
        puts = [
            e
            for e in emulator.request_log()
            if e.method == "PUT" and e.path.split("?")[0].endswith(f"/virtualMachines/batch-0{n}")
        ]
        assert len(puts) == 1, n
    assert (
        VirtualMachine.objects.filter(name__startswith="batch-0", catalog_image=image).count() == 5
    )
    assert not DeploymentSecret.objects.exists()
