"""An auditor's journeys through the audit record, in a real browser."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.audit.factories import simulate_capture
from tests.factories import VirtualMachineFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMAGE = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-images/providers/"
    "Microsoft.Compute/images/img-web-golden-2026"
)


@pytest.fixture
def captures(operator_user, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_KEY_FILE = str(tmp_path / "audit_checkpoint_key")
    simulate_capture(
        vm=VirtualMachineFactory(name="web-golden"),
        user=operator_user,
        options={"destination": "managed image", "delete_source": False},
        image_id=IMAGE,
        steps=("preflight", "deallocate", "generalize", "create_image"),
    )
    simulate_capture(
        vm=VirtualMachineFactory(name="db-golden"),
        user=operator_user,
        fail_at="generalize",
        steps=("preflight", "deallocate", "generalize", "create_image"),
    )


def test_auditor_filters_the_capture_history_and_opens_a_record(
    page, live_server, sign_in, auditor_user, captures, csp_violations
):
    sign_in(auditor_user.username)
    page.goto(f"{live_server.url}/audit/")
    page.get_by_role("navigation", name="Audit sections").get_by_role(
        "link", name="Capture history"
    ).click()
    rows = page.locator("table.captures tbody tr")
    expect(rows).to_have_count(2)

    page.get_by_label("Source VM").fill("web")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("web-golden")
    expect(rows.first).to_contain_text("img-web-golden-2026")
    expect(page).to_have_url(re.compile(r"/audit/captures/\?.*target=web"))

    page.get_by_label("Outcome").select_option("failed")
    page.get_by_label("Source VM").fill("")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("db-golden")
    expect(rows.first).to_contain_text("generalize failed")

    rows.first.get_by_role("link", name="Open record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Capture of db-golden")
    expect(page.locator("dd.op-error")).to_contain_text("Azure refused the generalize step.")
    events = page.locator("table.audit-table tbody tr")
    expect(events).to_have_count(4)  # requested, preflight, deallocate, failed
    events.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("vm.capture_gallery.requested")
    expect(page.get_by_text("Matches its hash")).to_be_visible()
    assert csp_violations == []


def test_auditor_filters_the_log_and_exports_what_is_shown(
    page, live_server, sign_in, auditor_user, captures
):
    sign_in(auditor_user.username)
    page.goto(f"{live_server.url}/audit/")
    page.get_by_label("Action").fill("vm.capture_gallery.failed")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("status").filter(has_text="the filters")).to_have_text(
        "1 event matches the filters."
    )
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV").click()
    body = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["action"] for row in rows] == ["vm.capture_gallery.failed"]
    assert rows[0]["target_name"] == "db-golden"

    page.goto(f"{live_server.url}/audit/?action=audit.export")
    expect(page.locator("table.audit-table tbody tr")).to_have_count(1)
    expect(page.locator("table.audit-table tbody tr").first).to_contain_text(auditor_user.username)
