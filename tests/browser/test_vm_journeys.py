"""An operator's journeys through the VM inventory, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BILLING_WARNING = "Stopped — still billed for compute."


def test_operator_deallocates_a_billed_vm_and_the_warning_goes_without_reload(
    page, live_server, sign_in, operator_user, emulator, background_worker, settings, csp_violations
):
    from vmops.services import inventory_sync_all

    settings.VM_ROW_POLL_SECONDS = 1
    emulator.set_durations(deallocate=2)
    inventory_sync_all()
    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/vms/?power_state=billed")
    page.evaluate("window.__notReloaded = true")
    row = page.locator("tr", has_text="build-win-01")
    expect(row).to_contain_text(BILLING_WARNING)
    billed_tile = page.locator(".tile-billed .count")
    before = int(billed_tile.inner_text())

    row.get_by_role("button", name="Deallocate").click()

    expect(row).to_contain_text("Deallocate · ", timeout=5_000)  # queued or in progress
    expect(row.get_by_role("progressbar")).to_be_visible()
    expect(row).to_contain_text("Stopped (deallocated)", timeout=20_000)
    expect(row).not_to_contain_text(BILLING_WARNING)
    expect(row).to_contain_text("Deallocate succeeded")
    expect(billed_tile).to_have_text(str(before - 1), timeout=10_000)
    assert page.evaluate("window.__notReloaded") is True
    assert csp_violations == []


def test_stop_asks_for_confirmation_and_offers_deallocate(
    page, live_server, sign_in, operator_user, emulator, background_worker
):
    from vmops.services import inventory_sync_all

    inventory_sync_all()
    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/vms/?q=api-prod-01")
    row = page.locator("tr", has_text="api-prod-01")
    row.get_by_text("Stop…").click()
    expect(row).to_contain_text("it stays billed for compute")
    row.get_by_role("button", name="Deallocate instead").click()
    expect(row).to_contain_text("Stopped (deallocated)", timeout=20_000)


def test_reviewer_sees_vms_but_no_action_buttons(
    page, live_server, sign_in, reviewer_user, emulator
):
    from vmops.services import inventory_sync_all

    inventory_sync_all()
    sign_in(reviewer_user.username)
    page.goto(f"{live_server.url}/vms/")
    expect(page.locator("tr", has_text="build-win-01")).to_contain_text(BILLING_WARNING)
    expect(page.get_by_role("button", name="Deallocate")).to_have_count(0)


def test_operator_deallocates_every_billed_vm_in_the_view_after_confirming(
    page, live_server, sign_in, operator_user, emulator, background_worker
):
    from contoso_images.operations.models import Operation
    from vmops.models import VirtualMachine
    from vmops.services import inventory_sync_all

    inventory_sync_all()
    billed = sorted(
        VirtualMachine.objects.filter(power_state="stopped").values_list("name", flat=True)
    )
    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/vms/")
    page.get_by_role("link", name="Deallocate all stopped-but-billed VMs in this view…").click()
    for name in billed:
        expect(page.locator("tr", has_text=name)).to_contain_text("Deallocate")
    page.get_by_role("button", name=f"Deallocate {len(billed)} VMs").click()
    expect(page.locator("#messages")).to_contain_text(f"Deallocate queued for {len(billed)} VMs.")
    assert Operation.objects.filter(kind="vm.deallocate").count() == len(billed)


def test_operator_restarts_from_the_vm_page_and_history_updates_without_reload(
    page, live_server, sign_in, operator_user, emulator, background_worker, settings, csp_violations
):
    from vmops.services import inventory_sync_all

    settings.VM_ROW_POLL_SECONDS = 1
    emulator.set_durations(restart=2)
    inventory_sync_all()
    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/vms/?q=web-prod-01")
    page.get_by_role("link", name="web-prod-01").click()
    page.evaluate("window.__notReloaded = true")
    history = page.locator("#vm-history")
    expect(history).to_contain_text("No operation has been run on this VM")
    status = page.locator("#vm-status")

    status.get_by_text("Restart…").click()  # a restart asks first, naming the VM
    expect(status).to_contain_text("Restart web-prod-01? It goes offline")
    status.get_by_role("button", name="Restart now").click()

    expect(status).to_contain_text("Restart · ", timeout=5_000)
    expect(status).to_contain_text("Restart succeeded", timeout=20_000)
    expect(history).to_contain_text(operator_user.username)
    expect(history).to_contain_text("Succeeded")
    expect(page.locator("#vm-status").get_by_text("Stop…")).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True
    assert csp_violations == []
