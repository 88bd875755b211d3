"""A deployment on the shared engine, against the emulator: each kind of image, a batch,
Azure's refusals after queueing, and the VM entering the inventory tagged and linked."""

from __future__ import annotations

import pytest

from contoso_images import azure
from contoso_images.operations.models import Operation
from tests.deploy.conftest import ask_for, run_to_end
from vmops.deploy.services import deploy_request
from vmops.models import DeploymentSecret, VirtualMachine

pytestmark = pytest.mark.django_db


def _deploy(image, sub, user, **changes):
    ask = ask_for(image, sub, **changes)
    deployment = deploy_request(ask=ask, subscription_id=sub, user=user, tags={"env": "dev"})
    ops = [Operation.objects.get(pk=item["operation"]) for item in deployment.items]
    return deployment, [run_to_end(op) for op in ops]


@pytest.mark.parametrize(
    ("image_name", "size", "name"),
    [
        ("ubuntu-marketplace", "Standard_D2s_v5", "dep-mkt"),
        ("img-ubuntu2204-20240915", "Standard_D2s_v5", "dep-managed"),
        ("ubuntu2204-base 1.0.0", "Standard_D2s_v5", "dep-gallery"),
        ("img-win2022-base-20241001", "Standard_D2s_v5", "dep-win"),
        ("mysql-plan", "Standard_E2s_v5", "dep-mysql"),
    ],
)
def test_each_kind_of_image_deploys_and_lands_in_the_inventory_linked(
    images, emulator, operator_user, image_name, size, name
):
    image = images[image_name]
    sub = VirtualMachine.objects.first().subscription.subscription_id
    emulator.clear_request_log()
    _, (op,) = _deploy(image, sub, operator_user, name=name, size=size)
    assert op.status == "succeeded", (op.error_code, op.error_summary)
    vm = VirtualMachine.objects.get(name=name)
    assert vm.catalog_image_id == image.pk
    assert vm.power_state == "running"
    assert vm.tags["owner"] == operator_user.email or vm.tags["owner"] == operator_user.username
    assert vm.tags["catalog-image"] == str(image)
    assert vm.tags["created-by"] == f"contoso-images/operation/{op.pk}"
    assert vm.tags["env"] == "dev"
    assert not DeploymentSecret.objects.exists()
    puts = [e for e in emulator.request_log() if e.method == "PUT"]
    assert len(puts) == 1


def test_a_batch_of_five_gets_numbered_names_and_one_operation_each(
    images, operator_user, emulator
):
    sub = VirtualMachine.objects.first().subscription.subscription_id
    emulator.set_quota(sub, "westeurope", "standardDSv5Family", 100)
    deployment, ops = _deploy(images["ubuntu-marketplace"], sub, operator_user, name="web", count=5)
    assert [item["name"] for item in deployment.items] == [f"web-0{i}" for i in range(1, 6)]
    assert {op.status for op in ops} == {"succeeded"}, [
        (o.error_code, o.error_summary) for o in ops
    ]
    assert VirtualMachine.objects.filter(name__startswith="web-0").count() == 5


def test_a_plan_whose_terms_are_not_accepted_is_refused_by_azure_after_queueing(
    images, operator_user
):
    sub = VirtualMachine.objects.first().subscription.subscription_id
    _, (op,) = _deploy(images["rabbitmq-plan"], sub, operator_user, name="dep-x")
    assert op.status == "failed"
    assert op.error_code == "ResourcePurchaseValidationFailed"
    assert "accepted the legal terms" in op.error_message
    assert not DeploymentSecret.objects.exists()
    assert not VirtualMachine.objects.filter(name="dep-x").exists()


def test_a_name_taken_between_preflight_and_send_is_not_overwritten(
    images, operator_user, emulator
):
    sub = VirtualMachine.objects.first().subscription.subscription_id
    emulator.clear_request_log()
    _, (op,) = _deploy(images["ubuntu-marketplace"], sub, operator_user, name="web-prod-01")
    assert op.status == "failed"
    assert "already exists" in op.error_summary
    assert not [e for e in emulator.request_log() if e.method == "PUT"]


def test_quota_refusal_after_queueing_keeps_arm_code(images, operator_user, emulator):
    sub = VirtualMachine.objects.first().subscription.subscription_id
    emulator.set_quota(sub, "westeurope", "standardDSv5Family", 0)
    _, (op,) = _deploy(images["ubuntu-marketplace"], sub, operator_user, name="dep-q")
    assert op.status == "failed"
    assert op.error_code == "OperationNotAllowed"
    assert "quota" in op.error_message


LOSSES = {"503": {"status": 503}, "timeout": {"timeout": True}, "reset": {"drop": True}}


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_a_lost_answer_to_the_put_is_not_resent_the_vm_is_adopted(
    images, operator_user, emulator, loss
):
    sub = VirtualMachine.objects.first().subscription.subscription_id
    emulator.clear_request_log()
    emulator.queue_fault(
        method="PUT", path_contains="/virtualMachines/dep-lost", applied=True, **LOSSES[loss]
    )
    _, (op,) = _deploy(images["ubuntu-marketplace"], sub, operator_user, name="dep-lost")
    assert op.status == "succeeded", op.error_summary
    puts = [e for e in emulator.request_log() if e.method == "PUT"]
    assert len(puts) == 1 and puts[0].lost
    assert VirtualMachine.objects.get(name="dep-lost").catalog_image_id
    assert not DeploymentSecret.objects.exists()
    detail = azure.vm_get(sub, "rg-web-prod", "dep-lost")
    assert detail.vm.provisioning_state == "Succeeded"


def test_a_gallery_version_or_the_latest_of_its_definition(images, operator_user, emulator):
    """Pinned: the version's id. Latest: the definition's id, Azure picks the version."""
    sub = VirtualMachine.objects.first().subscription.subscription_id
    image = images["ubuntu2204-base 1.0.0"]
    _, (pinned,) = _deploy(image, sub, operator_user, name="dep-pinned")
    _, (latest,) = _deploy(image, sub, operator_user, name="dep-latest", latest=True)
    assert pinned.status == latest.status == "succeeded"
    assert pinned.parameters["image"] == {"id": image.resource_id}
    assert latest.parameters["image"] == {"id": image.definition.resource_id}
    vm = VirtualMachine.objects.get(name="dep-latest")
    assert vm.image_reference["id"].lower() == image.definition.resource_id.lower()
    assert vm.catalog_image_id == image.pk


def test_a_create_that_fails_in_azure_leaves_the_half_made_vm_listed(
    images, operator_user, emulator
):
    """Azure accepted the PUT, then the creation failed: the VM stays behind Failed, and the
    inventory lists it (nothing half-created is left unlisted), linked to its image."""
    sub = VirtualMachine.objects.first().subscription.subscription_id
    emulator.queue_operation_failure(path_contains="/virtualMachines/dep-half")
    _, (op,) = _deploy(images["ubuntu-marketplace"], sub, operator_user, name="dep-half")
    assert op.status == "failed"
    assert op.error_code
    vm = VirtualMachine.objects.get(name="dep-half")
    assert vm.provisioning_state.lower() == "failed"
    assert vm.catalog_image_id == images["ubuntu-marketplace"].pk
    assert not DeploymentSecret.objects.exists()
