"""What a capture must never do: take somebody else's image for its own, delete it, run
sysprep twice, or generalize on a retry without the typed name. Through the emulator."""

from __future__ import annotations

import pytest

from contoso_images import azure
from contoso_images.core.errors import ActionRefused
from tests.capture.conftest import run_to_end
from tests.helpers import arm_posts
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.capture.models import Capture
from vmops.capture.services import (
    CaptureOptions,
    capture_cancel,
    capture_request,
    capture_retry,
    partial_image_delete,
)
from vmops.capture.steps import Generalize

pytestmark = pytest.mark.django_db

VERSION = ("rg-images", "gal_contoso", "win2022-base", "1.2.0")


def _options(**overrides):
    values = {
        "kind": CaptureKind.GALLERY_GENERALIZED,
        "guest_preparation": GuestPreparation.RUN_COMMAND,
        "image_resource_group": "rg-images",
        "gallery": "gal_contoso",
        "definition": "win2022-base",
        "image_name": "1.2.0",
        "target_regions": [{"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"}],
        **overrides,
    }
    return CaptureOptions(**values)


def _someone_else_makes_the_version(sub, emulator):
    other = azure.managed_image_get(sub, "rg-images", "img-win2022-base-20241001")
    azure.gallery_image_version_begin_create(
        sub,
        *VERSION,
        location="westeurope",
        source_id=other.id,
        target_regions=[azure.TargetRegion("westeurope")],
    )
    emulator.advance(600)
    return other.id


def test_a_version_made_by_someone_else_meanwhile_stops_the_capture(
    inventory, emulator, operator_user, monkeypatch
):
    vm = inventory["web-prod-01"]
    sub = vm.subscription.subscription_id
    real_begin = Generalize.begin

    def generalize_then_collide(self, ctx):
        sent = real_begin(self, ctx)
        _someone_else_makes_the_version(sub, emulator)
        return sent

    monkeypatch.setattr(Generalize, "begin", generalize_then_collide)
    capture, _ = capture_request(vm=vm, options=_options(), user=operator_user)
    done = run_to_end(capture.operation)

    assert done.status == "failed" and done.step == "create_version"
    assert "not from this VM" in done.error_summary
    from catalog.models import CatalogImage

    assert not CatalogImage.objects.filter(capture_operation=done).exists()


def test_a_retry_after_a_collision_is_refused_before_anything_changes(
    inventory, emulator, operator_user
):
    vm = inventory["web-prod-01"]
    sub = vm.subscription.subscription_id
    capture, _ = capture_request(vm=vm, options=_options(), user=operator_user)
    _someone_else_makes_the_version(sub, emulator)
    assert run_to_end(capture.operation).status == "failed"  # refused at pre-flight

    retried = capture_retry(capture=capture, user=operator_user, typed_name=vm.name)
    emulator.clear_request_log()
    done = run_to_end(retried.operation)

    assert done.status == "failed" and done.step == "preflight", done.error_summary
    assert "already exists" in done.error_summary
    assert [e for e in emulator.request_log() if e.method != "GET"] == []
    vm.refresh_from_db()
    assert not vm.generalized


def test_delete_the_partial_image_refuses_what_the_capture_did_not_make(
    inventory, emulator, operator_user, operator_client
):
    vm = inventory["web-prod-01"]
    sub = vm.subscription.subscription_id
    capture, _ = capture_request(vm=vm, options=_options(), user=operator_user)
    other = _someone_else_makes_the_version(sub, emulator)
    assert run_to_end(capture.operation).status == "failed"

    html = operator_client.get(f"/captures/{capture.pk}/").content.decode()
    assert "Delete the partial image" not in html
    assert "not from this VM" in html
    with pytest.raises(ActionRefused, match="nothing of its own to delete"):
        partial_image_delete(capture=capture, user=operator_user)
    response = operator_client.post(f"/captures/{capture.pk}/delete-partial/", follow=True)
    assert response.status_code == 200 and "nothing of its own to delete" in (
        response.content.decode()
    )
    assert azure.gallery_image_version_get(sub, *VERSION).source_id.lower() == other.lower()


def test_a_retry_never_runs_sysprep_a_second_time(inventory, emulator, operator_user):
    vm = inventory["web-prod-01"]
    emulator.queue_operation_failure(path_contains="/deallocate")
    capture, _ = capture_request(vm=vm, options=_options(), user=operator_user)
    emulator.clear_request_log()
    first = run_to_end(capture.operation)
    assert first.status == "failed" and first.step == "deallocate"

    retried = capture_retry(capture=capture, user=operator_user, typed_name=vm.name)
    done = run_to_end(retried.operation)

    assert done.status == "succeeded", done.error_summary
    assert len(arm_posts(emulator, "runCommand")) == 1
    guest = done.steps.get(name="guest_prepare")
    assert guest.status == "skipped" and f"capture #{capture.pk}" in guest.message


def test_a_retry_that_would_generalize_asks_for_the_vm_name(
    inventory, emulator, operator_user, operator_client
):
    vm = inventory["web-prod-01"]
    capture, _ = capture_request(vm=vm, options=_options(), user=operator_user)
    capture_cancel(capture=capture, user=operator_user)
    assert run_to_end(capture.operation).status == "canceled"

    page = operator_client.get(f"/captures/{capture.pk}/").content.decode()
    assert 'name="typed_name"' in page
    response = operator_client.post(f"/captures/{capture.pk}/retry/", follow=True)
    assert "Type the VM&#x27;s name" in response.content.decode()
    assert Capture.objects.count() == 1
    with pytest.raises(ActionRefused):
        capture_retry(capture=capture, user=operator_user, typed_name="web-prod-02")

    response = operator_client.post(f"/captures/{capture.pk}/retry/", {"typed_name": vm.name})
    assert response.status_code == 302
    assert Capture.objects.count() == 2


def test_the_vm_and_its_catalog_entry_link_to_the_capture_record(
    inventory, emulator, operator_user, reviewer_user, client
):
    vm = inventory["web-prod-01"]
    capture, _ = capture_request(vm=vm, options=_options(), user=operator_user)
    assert run_to_end(capture.operation).status == "succeeded"
    from catalog.models import CatalogImage

    image = CatalogImage.objects.get(capture_operation=capture.operation)
    record = f"/captures/{capture.pk}/"
    by_operation = f"/captures/by-operation/{capture.operation_id}/"

    client.force_login(operator_user)
    vm_page = client.get(f"/vms/{vm.pk}/").content.decode()
    assert "Generalized — captured into" in vm_page and f'href="{record}"' in vm_page
    catalog_page = client.get(f"/catalog/images/{image.pk}/").content.decode()
    assert f'href="{by_operation}"' in catalog_page
    assert client.get(by_operation)["Location"] == record
    assert client.get("/captures/by-operation/999999/").status_code == 404
    # Reviewers see the catalog but not the capture records.
    client.force_login(reviewer_user)
    assert by_operation not in client.get(f"/catalog/images/{image.pk}/").content.decode()
    assert client.get(by_operation).status_code == 403


@pytest.mark.parametrize("loss", [{"drop": True}, {"status": 500}])
def test_deleting_a_partial_image_whose_delete_never_arrived_sends_it_again(
    inventory, emulator, operator_user, loss
):
    """A DELETE lost on its way is not watched for a day: Azure shows the version still
    there and not being deleted, so the engine sends the DELETE again."""
    vm = inventory["web-prod-01"]
    sub = vm.subscription.subscription_id
    emulator.queue_operation_failure(path_contains="/versions/1.2.0")
    capture, _ = capture_request(vm=vm, options=_options(), user=operator_user)
    assert run_to_end(capture.operation).status == "failed"
    deletion = partial_image_delete(capture=capture, user=operator_user)
    emulator.queue_fault(method="DELETE", path_contains="/versions/1.2.0", **loss)

    assert run_to_end(deletion).status == "succeeded"
    with pytest.raises(azure.AzureError) as gone:
        azure.gallery_image_version_get(sub, *VERSION)
    assert gone.value.is_not_found
