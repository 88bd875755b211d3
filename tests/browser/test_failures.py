"""What a person is told when a click does not get its usual answer, in a real browser
(issue #20, items 6 and 7): the server failed after the action may have been queued, or the
session had expired and the click went to sign-in without being sent."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_server_failure_after_the_click_does_not_claim_nothing_changed(
    page, live_server, sign_in, operator_user, synced, monkeypatch
):
    from contoso_images.operations.models import Operation

    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)

    def boom(*args, **kwargs):
        raise RuntimeError("the row could not be drawn")

    monkeypatch.setattr("vmops.views.vm._render_state", boom)
    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/vms/?q=build-win-01")
    row = page.locator("tr", has_text="build-win-01")

    row.get_by_role("button", name="Deallocate").click()

    said = page.locator("#messages .message-error")
    expect(said).to_contain_text("may or may not have been queued")
    expect(said).not_to_contain_text("Nothing was changed")
    expect(row.locator(".refusal.client")).to_contain_text("may or may not have been queued")
    assert Operation.objects.filter(kind="vm.deallocate").count() == 1  # it was, this time


def test_a_click_after_the_session_expired_is_said_not_sent_before_and_after_sign_in(
    page, live_server, sign_in, operator_user, synced
):
    from django.contrib.sessions.models import Session

    from contoso_images.operations.models import Operation

    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/vms/?q=build-win-01")
    Session.objects.all().delete()  # the session expires while the page is open

    page.locator("tr", has_text="build-win-01").get_by_role("button", name="Deallocate").click()

    expect(page).to_have_url(
        f"{live_server.url}/login/?next=%2Fvms%2F%3Fq%3Dbuild-win-01%26not_sent%3D1"
    )
    expect(page.locator("#messages")).to_contain_text("your last action was not sent")
    page.get_by_label("Username").fill(operator_user.username)
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/vms/?q=build-win-01")
    expect(page.locator("#messages")).to_contain_text(
        "Your last action was not sent: your session had expired"
    )
    assert not Operation.objects.exists()
