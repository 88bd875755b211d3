"""Signing in with Microsoft, in Chromium, through the emulated tenant's pages over HTTPS:
the dashboard's button, the tenant's account picker, the callback, the landing page of each
role; the person with no role; signing out of both."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from contoso_images.arm_emulator.identity import seed as people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dashboard(entra, idp, live_server, settings):
    """The live server registered with the tenant as the app's redirect URI."""
    idp.set_redirect_uris(people.DASHBOARD_CLIENT_ID, [f"{live_server.url}/auth/callback/"])
    idp.set_logout_uris(people.DASHBOARD_CLIENT_ID, [f"{live_server.url}/"])
    settings.ENTRA_REDIRECT_URI = ""  # built from the request: the live server's address
    return live_server.url


def _pick(page, display_name: str) -> None:
    expect(page).to_have_title("Sign in to Contoso Images")
    page.get_by_role("row").filter(has_text=display_name).get_by_role(
        "button", name="Sign in"
    ).click()


def _sign_in_with_microsoft(page, url: str, display_name: str) -> None:
    page.goto(f"{url}/login/")
    page.get_by_role("link", name="Sign in with Microsoft").click()
    _pick(page, display_name)


@pytest.mark.parametrize(
    ("display_name", "upn", "landing", "sections", "hidden"),
    [
        ("Olivia Operator", "olivia", "/vms/", ["VMs", "Catalog"], ["Audit"]),
        ("Rui Reviewer", "rui", "/catalog/", ["Catalog"], ["Audit"]),
        ("Ada Auditor", "ada", "/audit/", ["Audit"], []),
    ],
)
def test_each_role_signs_in_through_the_tenant(
    page, dashboard, csp_violations, display_name, upn, landing, sections, hidden
):
    _sign_in_with_microsoft(page, dashboard, display_name)
    expect(page).to_have_url(re.compile(re.escape(dashboard + landing)))
    expect(page.get_by_text(f"Signed in as {upn}@{people.CONTOSO_DOMAIN}")).to_be_visible()
    nav = page.get_by_role("navigation", name="Sections")
    for name in sections:
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    for name in hidden:
        expect(nav.get_by_role("link", name=name)).to_have_count(0)
    assert csp_violations == []


def test_a_person_with_no_role_is_told_what_to_ask_for(page, dashboard):
    _sign_in_with_microsoft(page, dashboard, "Nico Newcomer")
    expect(page.get_by_role("heading", name="No access yet")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("none of the roles of Contoso Images")
    expect(page.get_by_text("Ask your IT administrator")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in with another account")).to_be_visible()


def test_signing_out_offers_the_tenants_sign_out_and_comes_back(page, dashboard):
    _sign_in_with_microsoft(page, dashboard, "Rui Reviewer")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You are signed out of Contoso Images")).to_be_visible()
    page.get_by_role("link", name="Sign out of Microsoft too").click()
    # The tenant signs out and sends the browser back to the dashboard, which asks to sign in.
    expect(page).to_have_url(re.compile(re.escape(f"{dashboard}/login/")))
    expect(page.get_by_role("link", name="Sign in with Microsoft")).to_be_visible()


def test_the_next_page_survives_the_round_trip(page, dashboard):
    page.goto(f"{dashboard}/audit/checkpoints/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    page.get_by_role("link", name="Sign in with Microsoft").click()
    _pick(page, "Ada Auditor")
    expect(page).to_have_url(f"{dashboard}/audit/checkpoints/")
