"""The "Create VM" form and the delete page: who may, the pre-flight's refusals next to
their fields before anything is queued, the equivalent commands, CSRF."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from catalog.choices import ReviewStatus
from contoso_images.operations.models import Operation
from tests.deploy.conftest import KEY, PASSWORD, run_to_end, subnet_in
from vmops.deploy.services import deploy_request, vm_delete_request
from vmops.models import Deployment, VirtualMachine

pytestmark = pytest.mark.django_db


def _url(image) -> str:
    return reverse("vmops:vm_deploy") + f"?image={image.pk}"


def _post(client, image, **changes):
    sub = VirtualMachine.objects.first().subscription.subscription_id
    linux = image.os_type != "Windows"
    data = {
        "image": image.pk,
        "name": "form-vm",
        "count": 1,
        "resource_group": "rg-web-prod",
        "location": "westeurope",
        "size": "Standard_D2s_v5",
        "subnet": subnet_in(sub),
        "admin_username": "azureuser",
        "ssh_public_key": KEY if linux else "",
        "admin_password": "" if linux else PASSWORD,
        "tags": "",
    }
    data.update(changes)
    return client.post(_url(image), data)


def test_the_form_offers_only_regions_and_sizes_the_image_can_use(images, operator_client):
    image = images["ubuntu2204-base 1.0.0"]  # Gen2, replicated to West Europe and East US
    page = operator_client.get(_url(image)).content.decode()
    assert 'value="westeurope"' in page and 'value="eastus"' in page
    assert "Standard_D2s_v5 · 2 vCPUs, 8 GiB" in page
    assert "Standard_A2_v2" not in page  # Gen1 only: cannot boot a Gen2 image
    assert "Standard_D8s_v5" not in page  # NotAvailableForSubscription in West Europe
    assert "az vm create" in page and "New-AzVM" in page
    assert "--admin-password &lt;password&gt;" in page  # a placeholder, never a value


def test_the_htmx_redraw_follows_the_fields_and_never_carries_the_password(images, operator_client):
    image = images["ubuntu2204-base 1.0.0"]
    response = operator_client.get(
        _url(image) + "&name=web&count=3&location=eastus&resource_group=rg-x",
        headers={"HX-Request": "true", "HX-Target": "deploy-form"},
    )
    page = response.content.decode()
    assert "<html" not in page
    assert "for name in web-01 web-02 web-03" in page
    assert "--location eastus" in page
    assert "--resource-group rg-x" in page


@pytest.mark.parametrize(
    ("image_name", "changes", "field", "sentence"),
    [
        (
            "img-win2022-base-20241001",
            {"name": "contoso-web-frontend"},
            "name",
            "cannot be more than 15 characters long",
        ),
        ("img-win2022-base-20241001", {"name": "12345"}, "name", "be entirely numeric"),
        (
            "img-win2022-base-20241001",
            {"admin_password": "password"},
            "admin_password",
            "must satisfy at least 3 of password complexity requirements",
        ),
        (
            "ubuntu-marketplace",
            {"ssh_public_key": ""},
            "ssh_public_key",
            "Authentication using either SSH or by user name and password must be enabled",
        ),
        ("ubuntu-marketplace", {"name": "web-prod-01"}, "name", "already exists"),
        ("ubuntu-marketplace", {"admin_username": "admin"}, "admin_username", "not allowed"),
        (
            "ubuntu-marketplace",
            {"size": "Standard_D4s_v5", "count": 2},
            "size",
            "Needs 8 vCPUs of standardDSv5Family; 6 of 20 left in westeurope.",
        ),
    ],
)
def test_preflight_refusals_come_back_next_to_their_field_before_queueing(
    images, operator_client, image_name, changes, field, sentence
):
    response = _post(operator_client, images[image_name], **changes)
    assert response.status_code == 400
    form = response.context["form"]
    assert any(sentence in error for error in form.errors[field]), form.errors
    assert not Operation.objects.exists()


def test_a_restricted_or_gen1_size_is_refused_even_if_posted(images, operator_client):
    image = images["ubuntu2204-base 1.0.0"]
    for size in ("Standard_D8s_v5", "Standard_A2_v2"):
        response = _post(operator_client, image, size=size)
        assert response.status_code == 400
        assert response.context["form"].errors["size"]
    assert not Operation.objects.exists()


def test_a_valid_form_queues_and_shows_the_deployment(images, operator_client):
    response = _post(operator_client, images["ubuntu-marketplace"], name="ok-vm", count=2)
    assert response.status_code == 302
    deployment = Deployment.objects.get()
    assert [i["name"] for i in deployment.items] == ["ok-vm-01", "ok-vm-02"]
    for item in deployment.items:
        run_to_end(Operation.objects.get(pk=item["operation"]))
    page = operator_client.get(response.url).content.decode()
    assert "2</span> created" in page
    assert VirtualMachine.objects.filter(name__startswith="ok-vm").count() == 2


def test_unreviewed_images_are_refused_unless_the_setting_allows_them(
    images, operator_client, settings
):
    image = images["ubuntu2204-base 1.0.0"]
    image.review_status = ReviewStatus.NOT_REVIEWED
    image.save()
    response = operator_client.get(_url(image))
    assert response.status_code == 409
    assert "has not been reviewed" in response.content.decode()
    settings.DEPLOY_ALLOW_UNREVIEWED = True
    response = operator_client.get(_url(image))
    assert response.status_code == 200
    assert "This image has not been reviewed" in response.content.decode()
    image.review_status = ReviewStatus.REJECTED
    image.save()
    assert operator_client.get(_url(image)).status_code == 409


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_reviewers_and_auditors_get_403(images, reviewer_user, auditor_user):
    image = images["ubuntu-marketplace"]
    vm = VirtualMachine.objects.first()
    for client in (_client(reviewer_user), _client(auditor_user)):
        assert client.get(_url(image)).status_code == 403
        assert _post(client, image).status_code == 403
        assert client.get(reverse("vmops:vm_delete", args=[vm.pk])).status_code == 403
    assert not Operation.objects.exists()


def test_csrf_is_enforced(images, operator_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    assert _post(client, images["ubuntu-marketplace"]).status_code == 403
    vm = VirtualMachine.objects.first()
    response = client.post(reverse("vmops:vm_delete", args=[vm.pk]), {"confirm_name": vm.name})
    assert response.status_code == 403
    assert not Operation.objects.exists()


def test_the_catalog_offers_create_vm_to_operators_on_approved_images_only(
    images, operator_user, reviewer_user
):
    image = images["ubuntu2204-base 1.0.0"]
    operator_client, reviewer_client = _client(operator_user), _client(reviewer_user)
    page = operator_client.get(reverse("catalog:image_detail", args=[image.pk])).content.decode()
    assert _url(image).replace("&", "&amp;") in page or _url(image) in page
    listing = operator_client.get(reverse("catalog:catalog_index")).content.decode()
    assert "Create VM" in listing
    image.review_status = ReviewStatus.REJECTED
    image.save()
    page = operator_client.get(reverse("catalog:image_detail", args=[image.pk])).content.decode()
    assert _url(image) not in page
    assert (
        "Create VM"
        not in reviewer_client.get(
            reverse("catalog:image_detail", args=[image.pk])
        ).content.decode()
    )


def test_delete_names_what_goes_and_stays_asks_the_name_and_marks_the_vm_deleted(
    images, operator_client, operator_user
):
    sub = VirtualMachine.objects.first().subscription.subscription_id
    from tests.deploy.conftest import ask_for

    deployment = deploy_request(
        ask=ask_for(images["ubuntu-marketplace"], sub, name="del-vm"),
        subscription_id=sub,
        user=operator_user,
        tags={},
    )
    run_to_end(Operation.objects.get(pk=deployment.items[0]["operation"]))
    vm = VirtualMachine.objects.get(name="del-vm")
    url = reverse("vmops:vm_delete", args=[vm.pk])
    page = operator_client.get(url).content.decode()
    assert "OS disk del-vm_OsDisk" in page
    assert "Network interface" in page
    assert "az vm delete --resource-group rg-web-prod --name del-vm --yes" in page
    assert (
        "Remove-AzVM -ResourceGroupName &#x27;rg-web-prod&#x27; -Name &#x27;del-vm&#x27; -Force"
        in page
    )
    wrong = operator_client.post(url, {"confirm_name": "other"})
    assert wrong.status_code == 400 and not Operation.objects.filter(kind="vm.delete").exists()
    response = operator_client.post(url, {"confirm_name": "del-vm"})
    assert response.status_code == 302
    operation = Operation.objects.get(kind="vm.delete")
    assert operation.parameters == {"force": False}
    assert run_to_end(operation).status == "succeeded"
    vm.refresh_from_db()
    assert vm.deleted_at is not None and vm.gone_at is not None
    from contoso_images.audit.models import AuditEvent

    actions = set(
        AuditEvent.objects.filter(target_key=vm.azure_id).values_list("action", "outcome")
    )
    assert any("vm.create" in a for a, _ in actions), actions
    assert any("vm.delete" in a and o == "succeeded" for a, o in actions), actions


def test_delete_keeps_detached_disks_says_so_and_leaves_them(
    inventory, operator_client, operator_user
):
    """A VM whose disks are marked Detach: the page says they stay, and they do."""
    from contoso_images import azure
    from vmops.services import inventory_sync_all

    sub = inventory["web-prod-01"].subscription.subscription_id
    spec = azure.VmCreateSpec(
        location="westeurope",
        size="Standard_D2s_v5",
        image=azure.ImageReference(
            publisher="Canonical",
            offer="0001-com-ubuntu-server-jammy",
            sku="22_04-lts-gen2",
            version="latest",
        ),
        os_type="Linux",
        admin_username="azureuser",
        ssh_public_key=KEY,
        subnet_id=subnet_in(sub),
        security_type="TrustedLaunch",
        os_disk_delete_option="Detach",
        data_disks=(azure.DataDiskSpec(lun=0, size_gb=32, delete_option="Detach"),),
    )
    token = azure.vm_begin_create(sub, "rg-web-prod", "keep-disks", spec)
    assert azure.operation_status("vm_create", token, subscription_id=sub).state == "succeeded"
    inventory_sync_all()
    vm = VirtualMachine.objects.get(name="keep-disks")
    page = operator_client.get(reverse("vmops:vm_delete", args=[vm.pk])).content.decode()
    assert page.count("detached and kept, still billed") == 2
    operator_client.post(reverse("vmops:vm_delete", args=[vm.pk]), {"confirm_name": vm.name})
    assert run_to_end(Operation.objects.get(kind="vm.delete")).status == "succeeded"
    left = [d for d in azure.managed_disks(sub, "rg-web-prod") if d.name.startswith("keep-disks")]
    assert len(left) == 2 and all(d.managed_by == "" for d in left)


def test_delete_is_refused_while_a_capture_runs(inventory, operator_client, operator_user):
    from vmops.capture.choices import CaptureKind, GuestPreparation
    from vmops.capture.services import CaptureOptions, capture_request

    vm = inventory["api-prod-01"]
    capture_request(
        vm=vm,
        options=CaptureOptions(
            kind=CaptureKind.MANAGED_IMAGE,
            guest_preparation=GuestPreparation.CONFIRMED,
            image_resource_group="rg-images",
            image_name="img-api",
        ),
        user=operator_user,
    )
    response = operator_client.post(
        reverse("vmops:vm_delete", args=[vm.pk]), {"confirm_name": vm.name}
    )
    assert response.status_code == 409
    assert "Capture of api-prod-01 is already in progress" in response.content.decode()
    assert not Operation.objects.filter(kind="vm.delete").exists()


def test_force_deletion_only_when_asked(inventory, operator_user, emulator):
    vm = inventory["api-prod-01"]
    emulator.clear_request_log()
    run_to_end(vm_delete_request(vm=vm, user=operator_user, force=True))
    deletes = [e for e in emulator.request_log() if e.method == "DELETE"]
    assert "forceDeletion=true" in deletes[0].path


def test_multi_select_delete_names_each_vm_asks_for_the_count_and_skips_busy_ones(
    inventory, operator_client, operator_user
):
    from vmops.services import vm_action_request

    a, b = inventory["api-prod-01"], inventory["web-prod-02"]
    busy, _ = vm_action_request(vm=b, kind="restart", user=operator_user)
    url = reverse("vmops:vm_delete_many")
    page = operator_client.get(url, {"vm": [a.pk, b.pk]}).content.decode()
    assert "api-prod-01" in page and "web-prod-02" in page
    assert "Restart of web-prod-02 is in progress" in page
    assert "Type “delete 2” to confirm" in page
    operator_client.post(url, {"vm": [a.pk, b.pk], "confirm": "delete 1"})
    assert not Operation.objects.filter(kind="vm.delete").exists()
    operator_client.post(url, {"vm": [a.pk, b.pk], "confirm": "delete 2"})
    deletes = Operation.objects.filter(kind="vm.delete")
    assert [op.target_name for op in deletes] == ["api-prod-01"]
    assert operator_client.get(url, {"scope": "filter"}).status_code == 302
    assert not Operation.objects.filter(kind="vm.delete").exclude(pk=deletes[0].pk).exists()
    assert busy.status == "queued"
