"""An operator builds a VM from an approved catalog image and, at the end, deletes it."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJourney operator@contoso"


def test_operator_creates_a_vm_from_an_approved_image_watches_it_run_then_deletes_it(
    page, live_server, sign_in, operator_user, emulator, background_worker, settings, csp_violations
):
    from catalog.choices import ReviewStatus
    from catalog.models import CatalogImage
    from catalog.services import catalog_sync_all
    from vmops.models import VirtualMachine
    from vmops.services import inventory_sync_all

    settings.OPERATION_POLL_SECONDS = 0.2
    inventory_sync_all()
    catalog_sync_all()
    image = CatalogImage.objects.get(name="img-ubuntu2204-20240915")
    CatalogImage.objects.filter(pk=image.pk).update(review_status=ReviewStatus.APPROVED)
    emulator.set_durations(vm_create=2, delete=1)

    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/catalog/")
    row = page.locator("tr", has_text="img-ubuntu2204-20240915")
    row.get_by_role("link", name=re.compile("Create VM")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Create VM from")
    page.get_by_label("VM name").fill("journey-01")
    page.get_by_label("Resource group").fill("rg-web-prod")
    page.get_by_label("SSH public key").fill(KEY)
    expect(page.locator("#deploy-commands")).to_contain_text("--name journey-01", timeout=5_000)
    page.get_by_role("button", name="Create VM").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Creating 1 VM")
    results = page.locator("#deployment-results")
    expect(results).to_contain_text("Running", timeout=30_000)
    expect(results).to_contain_text("1 created", timeout=10_000)

    page.goto(f"{live_server.url}/vms/?q=journey-01")
    vm_row = page.locator("tr", has_text="journey-01")
    expect(vm_row.locator(f"a[href='/catalog/images/{image.pk}/']")).to_have_count(1)
    vm_row.get_by_role("link", name="journey-01").click()
    expect(page.locator("#vm-lineage")).to_contain_text("img-ubuntu2204-20240915")

    page.get_by_role("link", name="Delete VM…").click()
    expect(page.locator("body")).to_contain_text("OS disk journey-01_OsDisk")
    page.get_by_label("Type the VM's name to confirm").fill("journey-01")
    page.get_by_role("button", name="Delete journey-01").click()
    expect(page.locator("body")).to_contain_text("Delete of journey-01 is queued")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page.reload()
        if "Deleted from this dashboard" in page.content():
            break
        time.sleep(0.5)
    expect(page.locator("body")).to_contain_text("Deleted from this dashboard")
    assert VirtualMachine.objects.get(name="journey-01").deleted_at is not None
    assert csp_violations == []
