"""The capture pages in a real browser (issue 20): no htmx syntax errors, no token in a URL,
times in the viewer's zone, and a footer that does not offer UTC to a UTC browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Counts htmx's syntax errors from the first script on (an init script is not page code,
#: so the page's Content-Security-Policy does not apply to it).
COUNT_SYNTAX_ERRORS = """
window.__htmxSyntaxErrors = 0;
document.addEventListener("htmx:syntax:error", function () { window.__htmxSyntaxErrors++; }, true);
"""


def _signed_in_page(browser, live_server, user, zone):
    context = browser.new_context(timezone_id=zone)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()
    return context, page


def test_the_wizard_has_no_htmx_syntax_error_and_sends_no_token_in_a_url(
    browser, live_server, operator_user, synced
):
    context, page = _signed_in_page(browser, live_server, operator_user, "UTC")
    page.add_init_script(COUNT_SYNTAX_ERRORS)
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    vm = synced["web-prod-01"]
    page.goto(f"{live_server.url}/vms/{vm.pk}/capture/")
    expect(page.locator("#capture-preflight")).to_contain_text("Ready")
    with page.expect_response(re.compile(r"/capture/\?")):
        page.get_by_label("Specialized → gallery image version").check()
    assert page.evaluate("window.__htmxSyntaxErrors") == 0
    assert any("kind=gallery_specialized" in url for url in urls)
    assert not [url for url in urls if "csrfmiddlewaretoken" in url]
    # In a UTC browser the footer does not offer to show UTC on hover.
    footer = page.locator(".footer")
    expect(footer).to_contain_text("Times are shown in UTC.", use_inner_text=True)
    expect(footer).not_to_contain_text("hover a time", use_inner_text=True)
    context.close()


def test_a_capture_record_shows_times_in_the_viewers_zone(
    browser, live_server, operator_user, synced
):
    from vmops.capture.choices import CaptureKind, GuestPreparation
    from vmops.capture.services import CaptureOptions, capture_request

    capture, _ = capture_request(
        vm=synced["api-prod-01"],
        options=CaptureOptions(
            kind=CaptureKind.MANAGED_IMAGE,
            guest_preparation=GuestPreparation.CONFIRMED,
            image_resource_group="rg-images",
            image_name="img-api",
        ),
        user=operator_user,
    )
    context, page = _signed_in_page(browser, live_server, operator_user, "Europe/Paris")
    page.goto(f"{live_server.url}/captures/{capture.pk}/")
    asked = page.locator("dl.props time").first
    expect(asked).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (CET|CEST|GMT\+\d)$"))
    expect(asked).to_have_attribute("title", re.compile(r"UTC$"))
    expect(page.locator(".footer")).to_contain_text(
        "; hover a time to see it in UTC.", use_inner_text=True
    )
    page.goto(f"{live_server.url}/captures/")
    expect(page.locator("td time").first).to_have_text(re.compile(r"(CET|CEST|GMT\+\d)$"))
    context.close()


def test_a_refused_capture_opens_on_its_error_summary(
    page, live_server, sign_in, operator_user, synced
):
    sign_in(operator_user.username)
    vm = synced["web-prod-01"]
    page.goto(f"{live_server.url}/vms/{vm.pk}/capture/")
    page.get_by_label("Type the VM's name").fill("web-prod")
    page.get_by_role("button", name="Start the capture").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    summary.get_by_role("link", name=re.compile("Type web-prod-01 exactly")).click()
    expect(page.get_by_label("Type the VM's name")).to_be_in_viewport()
