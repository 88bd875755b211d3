"""Issue #13 in a real browser: refusals, multi-select, the bell, keyboard, layout, times."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _row(page, name):
    return page.locator("tr.vm-row", has_text=name)


def test_two_tabs_the_second_action_is_refused_where_it_was_clicked(
    page,
    context,
    live_server,
    sign_in,
    operator_user,
    synced,
    emulator,
    background_worker,
    settings,
):
    """Restart in one tab; within seconds, Deallocate in the other: refused, said, recorded."""
    from contoso_images.operations.models import Operation

    settings.VM_ROW_POLL_SECONDS = 1
    emulator.set_durations(restart=4)
    sign_in(operator_user.username)
    url = f"{live_server.url}/vms/?q=dev-jumpbox-01"
    page.goto(url)
    other = context.new_page()
    other.goto(url)

    first = _row(page, "dev-jumpbox-01")
    first.get_by_text("Restart…").click()
    first.get_by_role("button", name="Restart now").click()
    expect(first).to_contain_text("Restart · ")

    second = _row(other, "dev-jumpbox-01")
    expect(second).to_contain_text("Running")  # this tab has not seen the restart
    second.get_by_text("Deallocate…").click()
    second.get_by_role("button", name="Deallocate now").click()

    reason = "Restart of dev-jumpbox-01 is already in progress; Deallocate was not sent."
    expect(second.locator(".refusal")).to_contain_text(reason)
    expect(second).to_contain_text("Restart · ")  # the row shows why
    message = other.locator("#messages .message-error")
    expect(message).to_contain_text(reason)
    other.wait_for_timeout(2500)  # several row polls later, both are still there
    expect(second.locator(".refusal")).to_contain_text(reason)
    expect(message).to_be_visible()
    expect(message).to_have_attribute("role", "alert")
    message.get_by_role("button", name="Dismiss this message").click()
    expect(other.locator("#messages .message")).to_have_count(0)
    assert list(Operation.objects.values_list("kind", flat=True)) == ["vm.restart"]


def test_multi_select_deallocate_of_five_vms_with_one_skipped_shows_per_vm_results(
    page, live_server, sign_in, operator_user, synced, emulator, background_worker, settings
):
    settings.VM_ROW_POLL_SECONDS = 1
    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/vms/")
    chosen = ["api-prod-01", "build-win-01", "mysql-prod-01", "web-prod-03", "dev-sql-01"]
    for name in chosen:
        page.get_by_label(f"Tick {name}").check()
    expect(page.locator("#bulk-count")).to_have_text("5 VMs ticked.")
    page.locator("#vm-bulk").get_by_role("button", name="Deallocate…").click()

    expect(page.locator("h1")).to_contain_text("Deallocate: 5 ticked VMs")
    expect(page.locator(".summary")).to_contain_text("4 VMs will deallocate; 1 skipped")
    skipped = page.locator("tr", has_text="dev-sql-01")
    expect(skipped).to_contain_text("Skipped: The VM is already deallocated.")
    button = page.locator("#bulk-confirm button[type=submit]")
    expect(button).to_have_text("Deallocate 4 VMs")
    page.get_by_label("Include web-prod-03").uncheck()  # the count follows the ticks
    expect(button).to_have_text("Deallocate 3 VMs")
    page.get_by_label("Include web-prod-03").check()
    button.click()

    results = page.locator("#bulk-results")
    expect(page.locator("#messages")).to_contain_text("Deallocate queued for 4 VMs. 1 skipped")
    expect(results).to_contain_text("All done.", timeout=30_000)
    for name in chosen[:4]:
        expect(results.locator("tr", has_text=name)).to_contain_text("Succeeded")
    expect(results.locator("tr", has_text="dev-sql-01")).to_contain_text(
        "Skipped: The VM is already deallocated."
    )
    expect(results.locator(".counts")).to_contain_text("4 succeeded")
    expect(results.locator(".counts")).to_contain_text("1 skipped")


def test_bell_keeps_a_failure_after_navigating_away(
    page, live_server, sign_in, operator_user, synced, emulator, background_worker, settings
):
    settings.VM_ROW_POLL_SECONDS = 1
    emulator.set_durations(start=2)
    emulator.queue_operation_failure(
        path_contains="/dev-sql-01/start",
        code="AllocationFailed",
        message="Allocation failed. We do not have sufficient capacity for the requested VM size.",
    )
    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/vms/?q=dev-sql-01")
    _row(page, "dev-sql-01").get_by_role("button", name="Start").click()
    expect(page.locator("#bell .badge-busy")).to_be_visible()
    page.goto(f"{live_server.url}/vms/?q=web-prod")  # away, before Azure says anything

    bell = page.locator("#bell")
    expect(bell.locator(".badge-failed")).to_have_text(re.compile(r"^1"), timeout=20_000)
    expect(page.locator("#messages .message-error")).to_contain_text("Start of dev-sql-01 failed")
    page.goto(f"{live_server.url}/vms/")  # still unread on the next page
    expect(page.locator("#bell .badge-failed")).to_be_visible()

    bell.click()
    failure = page.locator("tr", has_text="dev-sql-01")
    expect(failure).to_contain_text("AllocationFailed")
    expect(failure).to_contain_text("new")
    expect(page.locator("#bell .badge-failed")).to_have_count(0, timeout=10_000)


def test_keyboard_skip_link_focus_after_an_action_and_esc(
    page, live_server, sign_in, operator_user, synced, emulator, background_worker, settings
):
    settings.VM_ROW_POLL_SECONDS = 1
    emulator.set_durations(deallocate=3)
    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/vms/")

    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to VM list")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    first_row = page.locator("#vm-rows tr").first
    assert first_row.evaluate("row => row.contains(document.activeElement)")

    row = _row(page, "build-win-01")
    row.get_by_role("button", name="Deallocate").focus()
    page.keyboard.press("Enter")
    expect(row).to_contain_text("Deallocate · ")
    page.wait_for_timeout(300)
    assert row.evaluate("row => row.contains(document.activeElement)"), page.evaluate(
        "document.activeElement.outerHTML.slice(0, 120)"
    )

    running = _row(page, "api-prod-01")
    stop = running.get_by_text("Stop…")
    stop.focus()
    page.keyboard.press("Enter")
    box = running.locator("details.confirm[open] .confirm-box")
    expect(box).to_contain_text("Stop api-prod-01? Stopping keeps it allocated")
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(running.locator("details.confirm[open]")).to_have_count(0)
    expect(stop).to_be_focused()


def test_filters_apply_as_they_change_and_the_url_is_shareable(
    page, live_server, sign_in, operator_user, synced
):
    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/vms/")
    expect(page.get_by_role("button", name="Apply filters")).to_be_hidden()
    page.get_by_label("Tag", exact=True).fill("env=dev")
    expect(page.locator("#vm-rows")).not_to_contain_text("web-prod-01")
    expect(page.locator("#vm-rows")).to_contain_text("dev-jumpbox-01")
    expect(page).to_have_url(re.compile(r"/vms/\?tag=env%3Ddev&sort=name$"))
    expect(page.locator(".tile-running .count")).to_have_text("2")  # the tiles follow
    page.reload()
    expect(page.get_by_label("Tag", exact=True)).to_have_value("env=dev")
    expect(page.locator("#vm-rows")).not_to_contain_text("web-prod-01")


def test_times_are_shown_in_the_viewers_zone_with_utc_on_hover(
    browser, live_server, operator_user, synced
):
    context = browser.new_context(timezone_id="Europe/Paris")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(operator_user.username)
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()
    vm = synced["web-prod-01"]
    page.goto(f"{live_server.url}/vms/{vm.pk}/")
    created = page.locator("dd time").first
    expect(created).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (CET|CEST|GMT\+\d)$"))
    expect(created).to_have_attribute("title", re.compile(r"UTC$"))
    expect(page.locator(".local-zone")).to_contain_text("Europe/Paris")
    context.close()


def test_copy_buttons_copy_the_command(page, context, live_server, sign_in, operator_user, synced):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(operator_user.username)
    vm = synced["web-prod-01"]
    page.goto(f"{live_server.url}/vms/{vm.pk}/")
    page.get_by_role("button", name="Copy the Azure CLI command: Restart").click()
    expect(page.get_by_role("button", name="Copy the Azure CLI command: Restart")).to_have_text(
        "Copied"
    )
    assert page.evaluate("navigator.clipboard.readText()").startswith("az vm restart ")


PAGES = [
    "/vms/",
    "/vms/?power_state=billed",
    "/vms/{running}/",
    "/vms/{billed}/",
    "/vms/{generalized}/",
    "/vms/bulk/?action=deallocate&scope=filter",
    "/vms/bulk/{bulk}/",
    "/notifications/",
    "/vms/999999/",
]


@pytest.mark.parametrize("width", [1280, 400])
def test_no_page_scrolls_sideways(
    browser, live_server, operator_user, synced, emulator, width, monkeypatch
):
    """scrollWidth <= innerWidth on every page, at 1280 px and at 400 px."""
    from contoso_images.operations.models import Operation
    from vmops.services.actions import vms_action_request

    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)
    vms = list(synced.values())
    bulk = vms_action_request(vms=vms, kind="deallocate", user=operator_user, selection="all")
    Operation.objects.filter(
        pk__in=[i["operation"] for i in bulk.items if i["operation"]][:3]
    ).update(
        status="failed",
        error_code="AllocationFailed",
        error_summary="A long Azure error sentence " * 6,
    )
    ids = {
        "running": synced["web-prod-01"].pk,
        "billed": synced["build-win-01"].pk,
        "generalized": next(v.pk for v in vms if v.generalized),
        "bulk": bulk.pk,
    }
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_label("Username").fill(operator_user.username)
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()
    wide = {}
    for path in PAGES:
        page.goto(live_server.url + path.format(**ids))
        page.wait_for_load_state("networkidle")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > page.evaluate("window.innerWidth"):
            wide[path] = scroll
    context.close()
    assert wide == {}
