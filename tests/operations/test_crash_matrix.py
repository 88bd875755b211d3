"""A worker dies at each labelled point of the engine in each step that writes to Azure, for
the captures, the review effects, the deletion of a partial image, and creating and deleting
a VM (in process; the power actions are tests/operations/test_crash_points.py).
tests/operations/crash_matrix.py lists the cells and prints the table.

The death is a BaseException no handler catches, which leaves the database exactly as a
SIGKILL would. Every run must end in Azure's true state, with each write of the operation
reaching the emulator exactly once (its request log), and the record saying it succeeded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from catalog.decisions import decision_spec
from catalog.models import CatalogImage
from catalog.services import catalog_sync_all, review_decide
from contoso_images import azure
from contoso_images.operations import engine
from contoso_images.operations.engine import CRASH_POINTS, crash
from contoso_images.operations.models import Operation
from tests.operations import crash_matrix
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.capture.services import CaptureOptions, capture_request, partial_image_delete
from vmops.models import VirtualMachine

pytestmark = pytest.mark.django_db

#: The emulator's duration of each step's request, made long to make a hand-off happen.
DURATIONS = {
    "guest_prepare": "run_command",
    "deallocate": "deallocate",
    "create_version": "gallery_image_version_create",
    "create_image": "image_create",
    "create_definition": "gallery_create",
    "delete_source": "delete",
    "update_publishing": "gallery_image_version_update",
    "update_replication": "gallery_image_version_update",
    "delete": "delete",
    "create": "vm_create",
}
LONG = 30
GALLERY = ("rg-images", "gal_contoso", "win2022-base", "1.2.0")


class Died(BaseException):
    """What a SIGKILL leaves behind: nothing runs after it, no handler sees it."""


@dataclass
class Case:
    """One operation of a kind, ready to run: the writes it makes and how it must end."""

    operation: Operation
    #: (method, path suffix) of every write the operation makes, each to reach Azure once.
    writes: list[tuple[str, str]]
    check: Callable[[], None]
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(autouse=True)
def _fast(settings, monkeypatch):
    settings.OPERATION_POLL_SECONDS = 0.01
    settings.OPERATION_REQUEUE_AFTER_SECONDS = 0
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)


def _expire(operation: Operation) -> None:
    Operation.objects.filter(pk=operation.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )


def _to_end(operation: Operation, *, rounds: int = 30) -> Operation:
    """Run it as workers and the reconciler would, until it ends."""
    for _ in range(rounds):
        _expire(operation)
        engine.run(operation_id=operation.pk)
        operation.refresh_from_db()
        if not operation.is_unfinished:
            return operation
    raise AssertionError(f"{operation.kind} did not end: {operation.progress_message}")


# --- The operations of each kind ----------------------------------------------------------


def _gallery_capture(inventory, emulator, user) -> Case:
    vm = inventory["web-prod-01"]
    sub = vm.subscription.subscription_id
    capture, _ = capture_request(
        vm=vm,
        options=CaptureOptions(
            kind=CaptureKind.GALLERY_GENERALIZED,
            guest_preparation=GuestPreparation.RUN_COMMAND,
            image_resource_group="rg-images",
            gallery="gal_contoso",
            definition="win2022-base",
            image_name="1.2.0",
            target_regions=[{"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"}],
            delete_source=True,
        ),
        user=user,
    )

    def check() -> None:
        version = azure.gallery_image_version_get(sub, *GALLERY)
        assert version.provisioning_state == "Succeeded"
        with pytest.raises(azure.AzureError) as gone:
            azure.vm_get(sub, vm.resource_group, vm.name)
        assert gone.value.is_not_found
        assert VirtualMachine.objects.get(pk=vm.pk).gone_at is not None
        assert CatalogImage.objects.filter(capture_operation=capture.operation).exists()

    return Case(
        capture.operation,
        writes=[
            ("POST", f"/virtualMachines/{vm.name}/runCommand"),
            ("POST", f"/virtualMachines/{vm.name}/deallocate"),
            ("POST", f"/virtualMachines/{vm.name}/generalize"),
            ("PUT", "/versions/1.2.0"),
            ("DELETE", f"/virtualMachines/{vm.name}"),
        ],
        check=check,
    )


def _managed_image_capture(inventory, emulator, user) -> Case:
    vm = inventory["api-prod-01"]
    sub = vm.subscription.subscription_id
    capture, _ = capture_request(
        vm=vm,
        options=CaptureOptions(
            kind=CaptureKind.MANAGED_IMAGE,
            guest_preparation=GuestPreparation.CONFIRMED,
            image_resource_group="rg-images",
            image_name="img-api-prod-01",
        ),
        user=user,
    )

    def check() -> None:
        image = azure.managed_image_get(sub, "rg-images", "img-api-prod-01")
        assert image.provisioning_state == "Succeeded"
        vm.refresh_from_db()
        assert vm.generalized and vm.power_state == "deallocated"

    return Case(
        capture.operation,
        writes=[
            ("POST", f"/virtualMachines/{vm.name}/deallocate"),
            ("POST", f"/virtualMachines/{vm.name}/generalize"),
            ("PUT", "/images/img-api-prod-01"),
        ],
        check=check,
    )


def _specialized_capture(inventory, emulator, user) -> Case:
    vm = inventory["web-prod-02"]
    sub = vm.subscription.subscription_id
    capture, _ = capture_request(
        vm=vm,
        options=CaptureOptions(
            kind=CaptureKind.GALLERY_SPECIALIZED,
            guest_preparation=GuestPreparation.NOT_NEEDED,
            image_resource_group="rg-images",
            gallery="gal_contoso",
            definition="web-specialized",
            image_name="1.0.0",
            target_regions=[{"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"}],
            new_definition={
                "location": "westeurope",
                "publisher": "contoso",
                "offer": "web",
                "sku": "specialized",
                "os_type": "Windows",
                "os_state": "Specialized",
                "hyper_v_generation": "V2",
            },
        ),
        user=user,
    )

    def check() -> None:
        definition = azure.gallery_image_definition_get(
            sub, "rg-images", "gal_contoso", "web-specialized"
        )
        assert definition.provisioning_state == "Succeeded"
        version = azure.gallery_image_version_get(
            sub, "rg-images", "gal_contoso", "web-specialized", "1.0.0"
        )
        assert version.provisioning_state == "Succeeded"
        vm.refresh_from_db()
        assert vm.power_state == "running" and not vm.generalized

    return Case(
        capture.operation,
        writes=[("PUT", "/images/web-specialized"), ("PUT", "/versions/1.0.0")],
        check=check,
    )


def _review(decision: str) -> Callable[..., Case]:
    def make(inventory, emulator, user) -> Case:
        catalog_sync_all()
        versions = CatalogImage.objects.filter(kind="gallery_version", gone_at__isnull=True)
        extra: dict[str, Any] = {}
        if decision == "approve":
            image = versions.filter(exclude_from_latest=True).order_by("name").first()
        elif decision == "reject":
            image = versions.filter(exclude_from_latest=False).order_by("name").first()
        else:
            image = versions.get(definition__name="legacy-app", name="1.0.0")
            extra["end_of_life_date"] = (timezone.now() + timedelta(days=20)).replace(microsecond=0)
        assert image is not None
        taken = review_decide(image=image, user=user, decision=decision, note="x", **extra)
        wanted_exclude = decision != "approve"
        definition = image.definition
        sub = image.subscription.subscription_id

        def check() -> None:
            version = azure.gallery_image_version_get(
                sub, image.resource_group, definition.gallery_name, definition.name, image.name
            )
            assert version.exclude_from_latest is wanted_exclude
            if "end_of_life_date" in extra:
                assert abs(version.end_of_life_date - extra["end_of_life_date"]) < timedelta(
                    seconds=1
                )
            image.refresh_from_db()
            assert image.review_status == decision_spec(decision).status_after

        return Case(
            taken.operation,
            writes=[("PATCH", f"/versions/{image.name}")],
            check=check,
        )

    return make


def _delete_partial(inventory, emulator, user) -> Case:
    vm = inventory["web-prod-01"]
    sub = vm.subscription.subscription_id
    emulator.queue_operation_failure(path_contains="/versions/1.2.0")
    capture, _ = capture_request(
        vm=vm,
        options=CaptureOptions(
            kind=CaptureKind.GALLERY_GENERALIZED,
            guest_preparation=GuestPreparation.RUN_COMMAND,
            image_resource_group="rg-images",
            gallery="gal_contoso",
            definition="win2022-base",
            image_name="1.2.0",
            target_regions=[{"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"}],
        ),
        user=user,
    )
    assert _to_end(capture.operation).status == "failed"
    deletion = partial_image_delete(capture=capture, user=user)

    def check() -> None:
        with pytest.raises(azure.AzureError) as gone:
            azure.gallery_image_version_get(sub, *GALLERY)
        assert gone.value.is_not_found

    return Case(deletion, writes=[("DELETE", "/versions/1.2.0")], check=check)


def _vm_create(inventory, emulator, user) -> Case:
    """A VM created from an approved managed image: its one PUT must reach Azure once, and
    the VM be adopted (by its created-by tag) after any crash, never created twice."""
    from catalog.choices import ReviewStatus
    from vmops.deploy.preflight import AzureFacts, DeployAsk
    from vmops.deploy.services import deploy_request
    from vmops.models import DeploymentSecret

    catalog_sync_all()
    image = CatalogImage.objects.get(name="img-ubuntu2204-20240915")
    CatalogImage.objects.filter(pk=image.pk).update(review_status=ReviewStatus.APPROVED)
    sub = inventory["web-prod-01"].subscription.subscription_id
    subnet = AzureFacts.read(sub).subnets("westeurope")[0][1].id
    ask = DeployAsk(
        image=image,
        name="crash-new-01",
        count=1,
        resource_group="rg-web-prod",
        location="westeurope",
        size="Standard_D2s_v5",
        subnet_id=subnet,
        admin_username="azureuser",
        admin_password="Kx7!pLq2#Vw9zR",  # a Linux VM with a password: the secret's path too
    )
    deployment = deploy_request(ask=ask, subscription_id=sub, user=user, tags={})
    operation = Operation.objects.get(pk=deployment.items[0]["operation"])

    def check() -> None:
        detail = azure.vm_get(sub, "rg-web-prod", "crash-new-01")
        assert detail.vm.provisioning_state == "Succeeded"
        vm = VirtualMachine.objects.get(name="crash-new-01")
        assert vm.catalog_image_id == image.pk
        assert not DeploymentSecret.objects.exists()

    return Case(operation, writes=[("PUT", "/virtualMachines/crash-new-01")], check=check)


def _vm_delete(inventory, emulator, user) -> Case:
    from vmops.deploy.services import vm_delete_request

    vm = inventory["api-prod-01"]
    sub = vm.subscription.subscription_id
    operation = vm_delete_request(vm=vm, user=user)

    def check() -> None:
        with pytest.raises(azure.AzureError) as gone:
            azure.vm_get(sub, vm.resource_group, vm.name)
        assert gone.value.is_not_found
        assert VirtualMachine.objects.get(pk=vm.pk).deleted_at is not None

    return Case(operation, writes=[("DELETE", f"/virtualMachines/{vm.name}")], check=check)


def _replicate(inventory, emulator, user) -> Case:
    """A version's replication changed: one more region, three replicas."""
    from catalog.services.replication import WantedRegion, replication_change

    catalog_sync_all()
    image = CatalogImage.objects.get(definition__name="legacy-app", name="1.0.0")
    wanted = [
        WantedRegion(r["region"], int(r["replica_count"]), r["storage_account_type"])
        for r in image.replication
    ] + [WantedRegion("swedencentral", 3, "Standard_LRS")]
    operation = replication_change(image=image, user=user, regions=wanted)
    definition = image.definition
    sub = image.subscription.subscription_id

    def check() -> None:
        version = azure.gallery_image_version_get(
            sub, image.resource_group, definition.gallery_name, definition.name, image.name
        )
        regions = {t.name.replace(" ", "").lower(): t for t in version.target_regions}
        assert regions["swedencentral"].regional_replica_count == 3

    return Case(operation, writes=[("PATCH", f"/versions/{image.name}")], check=check)


MAKERS: dict[str, Callable[..., Case]] = {
    "vm.capture_gallery": _gallery_capture,
    "vm.capture_managed_image": _managed_image_capture,
    "vm.capture_specialized": _specialized_capture,
    "catalog.approve": _review("approve"),
    "catalog.reject": _review("reject"),
    "catalog.deprecate": _review("deprecate"),
    "catalog.replicate": _replicate,
    "image.delete_partial": _delete_partial,
    "vm.create": _vm_create,
    "vm.delete": _vm_delete,
}


def _user(kind: str, operator_user, reviewer_user):
    return reviewer_user if kind.startswith("catalog.") else operator_user


def _writes(emulator, method: str, suffix: str) -> list:
    return [
        e
        for e in emulator.request_log()
        if e.method == method and e.path.split("?")[0].lower().endswith(suffix.lower())
    ]


def _assert_each_write_once(emulator, case: Case, where: str) -> None:
    for method, suffix in case.writes:
        sent = _writes(emulator, method, suffix)
        assert [e.applied for e in sent] == [True], (
            where,
            method,
            suffix,
            [(e.status, e.lost) for e in sent],
        )


# --- The matrix -----------------------------------------------------------------------------


def test_the_matrix_has_every_write_step_of_every_kind_and_every_point():
    """The table is built from the specs: a new step that writes to Azure needs its row."""
    from catalog.specs import CATALOG_SPECS
    from vmops.capture.specs import SPECS
    from vmops.deploy.specs import SPECS as DEPLOY_SPECS

    kinds = {spec.kind: spec for spec in (*SPECS, *CATALOG_SPECS, *DEPLOY_SPECS)}
    listed = {(kind, step) for kind, step in crash_matrix.WRITE_STEPS}
    for kind, step in listed:
        assert kinds[kind].step(step).sends
    assert set(MAKERS) == {kind for kind, _ in listed} == set(kinds)
    for kind, step in listed:
        cells = {c.point for c in crash_matrix.cells() if (c.kind, c.step) == (kind, step)}
        assert cells == set(CRASH_POINTS)
    print("\n" + crash_matrix.markdown())


@pytest.mark.parametrize(("kind", "step", "point"), crash_matrix.reachable())
def test_a_worker_dying_at_any_point_of_any_step_never_writes_twice(
    kind,
    step,
    point,
    inventory,
    emulator,
    operator_user,
    reviewer_user,
    settings,
    monkeypatch,
):
    case = MAKERS[kind](inventory, emulator, _user(kind, operator_user, reviewer_user))
    operation = case.operation
    if point == "during_handoff":
        # The step must still be under way at its first poll for a hand-off to happen.
        settings.OPERATION_WAIT_SLICE_SECONDS = 0
        emulator.set_durations(**{DURATIONS[step]: LONG})
    emulator.clear_request_log()
    died: list[str] = []

    def crash_point(name: str, dying: Operation) -> None:
        if dying.pk == operation.pk and (name, dying.step) == (point, step) and not died:
            died.append(name)
            raise Died(name)

    monkeypatch.setattr(crash, "hooks", [crash_point])

    for _ in range(40):  # earlier steps may hand off or pause before this one is reached
        try:
            engine.run(operation_id=operation.pk)
        except Died:
            break
        operation.refresh_from_db()
        assert operation.is_unfinished, (operation.status, operation.step, operation.error_summary)
        _expire(operation)
    assert died == [point], f"no worker died {point} in {step}"

    settings.OPERATION_WAIT_SLICE_SECONDS = 5
    emulator.advance(LONG + 1)
    done = _to_end(operation)

    where = f"{kind} killed {point} in {step}"
    assert done.status == "succeeded", (where, done.step, done.error_code, done.error_summary)
    assert done.attempts >= 2, where
    _assert_each_write_once(emulator, case, where)
    case.check()
    assert done.steps.get(name=step).status == "succeeded", where


@pytest.mark.parametrize(("kind", "step", "point"), crash_matrix.never_passed())
def test_a_step_azure_answers_at_once_never_passes_the_watching_points(
    kind, step, point, inventory, emulator, operator_user, reviewer_user, settings, monkeypatch
):
    """Generalize answers 200 at once: no status to watch, nothing to hand off. Shown, with
    every other step made slow enough to be handed off, rather than assumed."""
    case = MAKERS[kind](inventory, emulator, _user(kind, operator_user, reviewer_user))
    settings.OPERATION_WAIT_SLICE_SECONDS = 0
    emulator.set_durations(**{DURATIONS[s]: 2 for s in ("deallocate", "create_version")})
    passed: list[tuple[str, str]] = []
    monkeypatch.setattr(crash, "hooks", [lambda name, op: passed.append((op.step, name))])

    for _ in range(200):
        _expire(case.operation)
        engine.run(operation_id=case.operation.pk)
        case.operation.refresh_from_db()
        if not case.operation.is_unfinished:
            break
        emulator.advance(1)

    assert case.operation.status == "succeeded", case.operation.error_summary
    assert (step, "after_accept") in passed  # the step did run
    assert ("deallocate", point) in passed  # the point is passed by steps that can pass it
    assert (step, point) not in passed
