"""An admin sets up the billing guard in a real browser: creates a policy, reads its dry run,
switches it on; the schedule's run deallocates the stopped VM; the savings page shows it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_creates_a_policy_switches_it_on_and_the_guard_deallocates(
    page, live_server, sign_in, synced, emulator, background_worker, csp_violations
):
    from contoso_images.core.sync import sync_run
    from tests.factories import UserFactory
    from vmops.models import Deallocation, VirtualMachine
    from vmops.services.guard import guard_run
    from vmops.services.prices import PRICES

    sync_run(PRICES)
    admin = UserFactory(username="ann-admin", is_superuser=True, is_staff=True)
    vm = synced["build-win-01"]
    assert vm.power_state == "stopped"

    sign_in(admin.username)
    page.goto(f"{live_server.url}/billing/")
    page.get_by_role("link", name="New policy…").click()
    page.get_by_role("textbox", name="Name:", exact=True).fill("Stopped build agents")
    page.get_by_label("Kind:").select_option("stopped_for")
    page.get_by_label("Stopped (allocated) for more than (minutes)").fill("1")
    page.get_by_label("Resource groups (comma separated; empty: all)").fill(vm.resource_group)
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#policy-mode")).to_contain_text("Dry run")
    dry_run = page.locator("#dry-run")
    expect(dry_run).to_contain_text("build-win-01")
    expect(dry_run.locator("tr", has_text="build-win-01")).to_contain_text("Deallocate:")
    expect(page.locator("#dry-run-saving")).to_contain_text("$")
    listed = set(
        dry_run.locator("tr:has-text('Deallocate:') td[data-label='VM'] a").all_inner_texts()
    )
    page.get_by_role("button", name="Switch on").click()
    expect(page.locator("#policy-mode")).to_contain_text("On:")

    guard_run()  # the schedule comes round; the worker thread deallocates
    page.goto(f"{live_server.url}/vms/{vm.pk}/")
    expect(page.locator("#vm-status")).to_contain_text("Stopped (deallocated)", timeout=20_000)
    deallocated = set(
        VirtualMachine.objects.filter(power_state="deallocated", name__in=listed).values_list(
            "name", flat=True
        )
    )
    assert "build-win-01" in deallocated and deallocated <= listed

    # Ten hours pass with the VM deallocated.
    Deallocation.objects.filter(vm=vm).update(
        started_at=Deallocation.objects.get(vm=vm).started_at - timedelta(hours=10)
    )
    page.goto(f"{live_server.url}/billing/savings/")
    expect(page.locator("#savings-total")).not_to_have_text("$0.00")
    expect(page.locator("#savings-people")).to_contain_text("billing guard: Stopped build agents")
    assert csp_violations == []
