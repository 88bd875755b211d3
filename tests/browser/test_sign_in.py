from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_signs_in_and_sees_the_navigation_for_their_group(page, sign_in, reviewer_user):
    sign_in(reviewer_user.username)
    nav = page.get_by_role("navigation", name="Sections")
    expect(nav.get_by_role("link", name="VMs")).to_be_visible()
    expect(nav.get_by_role("link", name="Catalog")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit")).to_have_count(0)
    expect(page.get_by_text(f"Signed in as {reviewer_user.username}")).to_be_visible()


def test_wrong_password_keeps_the_user_on_the_form(page, sign_in, auditor_user):
    sign_in(auditor_user.username, password="wrong")
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page.get_by_label("Username")).to_be_visible()
