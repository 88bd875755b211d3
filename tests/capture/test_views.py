"""The capture wizard, record and history pages: permissions, validation, CSRF, queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from contoso_images.operations.models import Operation
from tests.capture.conftest import run_to_end
from tests.helpers import HX
from vmops.capture.models import Capture

pytestmark = pytest.mark.django_db


def _form(vm, **overrides):
    data = {
        "kind": "gallery_generalized",
        "guest_preparation": "run_command",
        "gallery": "RG-IMAGES/gal_contoso",
        "definition": "win2022-base",
        "version": "1.2.0",
        "source_replicas": "1",
        "source_storage": "Standard_LRS",
        "region_1": "northeurope",
        "replicas_1": "2",
        "storage_1": "Standard_ZRS",
        "exclude_from_latest": "on",
        "confirm_name": vm.name,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _errors(response) -> str:
    return response.content.decode()


def test_the_wizard_shows_the_preflight_read_from_azure(operator_client, inventory):
    vm = inventory["web-prod-01"]
    html = operator_client.get(f"/vms/{vm.pk}/capture/").content.decode()
    for text in ("Pre-flight, read from Azure now", "Windows", "Gen 2 (UEFI)", "Ready"):
        assert text in html
    assert 'value="1.1.1"' in html  # the next patch after win2022-base's highest
    assert "sysprep.exe /generalize /oobe /shutdown" in html
    partial = operator_client.get(
        f"/vms/{vm.pk}/capture/?kind=gallery_specialized",
        headers={**HX, "HX-Target": "capture-preflight"},
    ).content.decode()
    assert partial.lstrip().startswith('<section id="capture-preflight"')


@pytest.mark.parametrize("fixture", ["reviewer_client", "auditor_client"])
def test_only_operators_may_capture(request, fixture, inventory):
    vm = inventory["web-prod-01"]
    client = request.getfixturevalue(fixture)
    assert client.get(f"/vms/{vm.pk}/capture/").status_code == 403
    assert client.post(f"/vms/{vm.pk}/capture/", _form(vm)).status_code == 403
    assert not Capture.objects.exists()


def test_the_wizard_needs_csrf(operator_user, inventory):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    vm = inventory["web-prod-01"]
    assert client.post(f"/vms/{vm.pk}/capture/", _form(vm)).status_code == 403
    assert not Capture.objects.exists()


def test_a_running_vm_whose_guest_was_not_generalized_is_refused_before_anything_changes(
    operator_client, inventory, emulator
):
    vm = inventory["web-prod-01"]
    emulator.clear_request_log()
    response = operator_client.post(
        f"/vms/{vm.pk}/capture/", _form(vm, guest_preparation=None, confirm_name="web-prod")
    )
    assert response.status_code == 400
    html = _errors(response)
    assert "Say whether the guest OS was generalized" in html
    assert "Type web-prod-01 exactly" in html
    assert not Capture.objects.exists() and not Operation.objects.exists()
    assert all(e.method == "GET" for e in emulator.request_log())


@pytest.mark.parametrize(
    ("overrides", "field", "sentence"),
    [
        ({"version": "1.1.0"}, "version", "Version 1.1.0 of win2022-base already exists"),
        ({"version": "1.2"}, "version", "Major.Minor.Patch"),
        ({"version": "1.2.2147483648"}, "version", "at most 2,147,483,647"),
        ({"definition": "legacy-app"}, "definition", "generation V1; the VM is V2"),
        (
            {
                "definition": "",
                "new_definition_name": "win2022-base",
                "publisher": "contoso",
                "offer": "ws",
                "sku": "2022",
            },
            "new_definition_name",
            "already exists",
        ),
        (
            {
                "definition": "",
                "new_definition_name": "web",
                "publisher": "contoso.",
                "offer": "ws",
                "sku": "2022",
            },
            "publisher",
            "not ending with a period",
        ),
        ({"region_1": "narnia"}, "region_1", "narnia is not one of the available choices"),
        ({"end_of_life_date": "2020-01-01"}, "end_of_life_date", "in the future"),
    ],
)
def test_every_input_is_checked_against_azure_rules_with_the_error_next_to_its_field(
    operator_client, inventory, overrides, field, sentence
):
    vm = inventory["web-prod-01"]
    response = operator_client.post(f"/vms/{vm.pk}/capture/", _form(vm, **overrides))
    assert response.status_code == 400
    html = _errors(response)
    error_block = html[html.index(f'id="id_{field}_error"') :][:600]
    assert sentence in error_block
    assert not Capture.objects.exists()


def test_a_managed_image_name_collision_is_a_field_error(operator_client, inventory):
    vm = inventory["api-prod-01"]
    data = {
        "kind": "managed_image",
        "guest_preparation": "confirmed",
        "image_name": "img-ubuntu2204-20240915",
        "image_resource_group": "rg-images",
        "source_replicas": "1",
        "source_storage": "Standard_LRS",
        "confirm_name": vm.name,
    }
    response = operator_client.post(f"/vms/{vm.pk}/capture/", data)
    assert response.status_code == 400
    assert "An image named img-ubuntu2204-20240915 already exists" in _errors(response)


def test_a_valid_capture_is_queued_and_its_page_follows_it(operator_client, inventory):
    vm = inventory["web-prod-01"]
    response = operator_client.post(f"/vms/{vm.pk}/capture/", _form(vm))
    capture = Capture.objects.get()
    assert response["Location"] == f"/captures/{capture.pk}/"
    assert capture.target_regions == [
        {"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"},
        {"name": "northeurope", "replicas": 2, "storage": "Standard_ZRS"},
    ]
    html = operator_client.get(response["Location"]).content.decode()
    assert "Pre-flight checks" in html and 'hx-trigger="every 2s"' in html
    assert "az vm generalize" in html and "Set-AzVM" in html
    run_to_end(capture.operation)
    partial = operator_client.get(
        f"/captures/{capture.pk}/", headers={**HX, "HX-Target": "capture-steps"}
    ).content.decode()
    assert partial.lstrip().startswith('<div id="capture-steps"')
    assert "hx-trigger" not in partial and "Succeeded" in partial


def test_start_on_the_generalized_source_is_refused_with_the_reason(operator_client, inventory):
    vm = inventory["web-prod-01"]
    operator_client.post(f"/vms/{vm.pk}/capture/", _form(vm))
    run_to_end(Capture.objects.get().operation)
    response = operator_client.post(f"/vms/{vm.pk}/actions/start/", headers=HX)
    assert response.status_code in (200, 409)
    assert "Generalized VMs cannot be started again" in response.content.decode()
    assert not Operation.objects.filter(kind="vm.start").exists()


def test_a_capture_is_canceled_from_its_page_and_the_actions_need_the_role(
    operator_client, reviewer_user, inventory
):
    reviewer_client = Client()
    reviewer_client.force_login(reviewer_user)
    vm = inventory["web-prod-01"]
    operator_client.post(f"/vms/{vm.pk}/capture/", _form(vm))
    capture = Capture.objects.get()
    assert reviewer_client.post(f"/captures/{capture.pk}/cancel/").status_code == 403
    response = operator_client.post(f"/captures/{capture.pk}/cancel/", follow=True)
    assert "The capture stops before its next step." in response.content.decode()
    done = run_to_end(capture.operation)
    assert done.status == "canceled"
    html = operator_client.get(f"/captures/{capture.pk}/").content.decode()
    assert "The capture was canceled" in html and "Retry from where it stopped" in html


def test_history_is_for_operators_and_auditors_filtered_in_a_fixed_number_of_queries(
    auditor_user, reviewer_user, inventory, operator_user
):
    auditor_client, reviewer_client, operator_client = Client(), Client(), Client()
    auditor_client.force_login(auditor_user)
    reviewer_client.force_login(reviewer_user)
    operator_client.force_login(operator_user)
    from vmops.capture.choices import CaptureKind, GuestPreparation
    from vmops.capture.services import CaptureOptions, capture_request

    def capture(vm, name):
        capture_request(
            vm=vm,
            options=CaptureOptions(
                kind=CaptureKind.MANAGED_IMAGE,
                guest_preparation=GuestPreparation.CONFIRMED,
                image_resource_group="rg-images",
                image_name=name,
            ),
            user=operator_user,
        )

    capture(inventory["api-prod-01"], "img-api")
    with CaptureQueriesContext(connection) as few:
        auditor_client.get("/captures/")
    for name in ("web-prod-01", "web-prod-02", "build-agent-01"):
        capture(inventory[name], f"img-{name}")
    with CaptureQueriesContext(connection) as many:
        html = auditor_client.get("/captures/?vm=web").content.decode()
    assert len(few.captured_queries) == len(many.captured_queries)
    assert "img-web-prod-01" in html and "img-api" not in html
    assert operator_client.get("/captures/?outcome=failed").status_code == 200
    assert reviewer_client.get("/captures/").status_code == 403


def test_a_version_lower_than_the_highest_is_shown_before_anything_is_queued(
    operator_client, inventory
):
    vm = inventory["web-prod-01"]
    first = operator_client.post(f"/vms/{vm.pk}/capture/", _form(vm, version="1.0.9"))
    assert first.status_code == 200
    assert "it will never be the latest" in first.content.decode()
    assert 'name="accept_warnings"' in first.content.decode()
    assert Capture.objects.count() == 0
    again = operator_client.post(
        f"/vms/{vm.pk}/capture/", _form(vm, version="1.0.9", accept_warnings="1")
    )
    assert again.status_code == 302 and Capture.objects.count() == 1
