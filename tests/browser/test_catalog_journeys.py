"""A manager's journeys through the image catalog, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from catalog.choices import ReviewStatus
from catalog.models import CatalogImage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def candidate(emulator):
    """A new win2022-base version built excluded from latest, waiting for its approval."""
    from catalog.services import catalog_sync_all
    from contoso_images import azure

    sub = emulator.subscription_ids()[0]
    source = next(i for i in azure.managed_images(sub) if i.name == "img-win2022-base-20241001")
    token = azure.gallery_image_version_begin_create(
        sub,
        "rg-images",
        "gal_contoso",
        "win2022-base",
        "1.2.0",
        location="westeurope",
        source_id=source.id,
        target_regions=[azure.TargetRegion("westeurope")],
        exclude_from_latest=True,
    )
    status = azure.operation_status(
        "gallery_image_version_create", token, subscription_id=sub, wait_seconds=5
    )
    assert status.state == "succeeded"
    catalog_sync_all()


def test_manager_approves_a_gallery_version_and_latest_moves_without_reload(
    page,
    live_server,
    sign_in,
    reviewer_user,
    emulator,
    candidate,
    background_worker,
    settings,
    csp_violations,
):
    settings.CATALOG_ROW_POLL_SECONDS = 1
    emulator.set_durations(gallery_image_version_update=2)
    sign_in(reviewer_user.username)
    page.goto(f"{live_server.url}/catalog/")
    page.get_by_role("link", name="Awaiting review").click()
    expect(page).to_have_url(f"{live_server.url}/catalog/?review=awaiting")
    page.evaluate("window.__notReloaded = true")

    candidate_row = page.locator("tr", has_text="win2022-base 1.2.0")
    previous_row = page.locator("tr", has_text="win2022-base 1.1.0")
    expect(candidate_row).to_contain_text("Not reviewed")
    expect(candidate_row).to_contain_text("Excluded from latest")
    expect(previous_row.locator(".badge-latest")).to_be_visible()
    expect(candidate_row.locator(".badge-latest")).to_have_count(0)

    candidate_row.get_by_role("button", name="Approve").click()

    expect(candidate_row).to_contain_text("Approval · ", timeout=5_000)  # queued or in progress
    expect(candidate_row.get_by_role("progressbar")).to_be_visible()
    expect(candidate_row.locator(".review-approved")).to_have_text("Approved", timeout=20_000)
    expect(candidate_row.locator(".badge-latest")).to_be_visible()
    expect(candidate_row).not_to_contain_text("Excluded from latest")
    expect(previous_row.locator(".badge-latest")).to_have_count(0, timeout=10_000)
    assert page.evaluate("window.__notReloaded") is True
    assert csp_violations == []


def test_a_refused_update_is_shown_as_a_sentence_and_the_badge_stays(
    page, live_server, sign_in, reviewer_user, emulator, candidate, background_worker, settings
):
    settings.CATALOG_ROW_POLL_SECONDS = 1
    emulator.queue_fault(method="PATCH", path_contains="/versions/1.2.0", status=409)
    sign_in(reviewer_user.username)
    page.goto(f"{live_server.url}/catalog/?review=awaiting")
    row = page.locator("tr", has_text="win2022-base 1.2.0")
    row.get_by_role("button", name="Approve").click()
    expect(row).to_contain_text(
        "Approval not carried out: Another request changed this resource", timeout=20_000
    )
    expect(row.locator(".review-not_reviewed")).to_be_visible()


def test_a_reviewer_rejects_with_a_reason(
    page, live_server, sign_in, reviewer_user, emulator, candidate, background_worker, settings
):
    settings.CATALOG_ROW_POLL_SECONDS = 1
    sign_in(reviewer_user.username)
    awaiting = CatalogImage.objects.filter(
        review_status=ReviewStatus.NOT_REVIEWED, gone_at__isnull=True
    ).count()
    page.goto(f"{live_server.url}/catalog/?review=awaiting")
    row = page.locator("tr", has_text="img-legacy-app-2016")
    row.get_by_text("Reject…").click()
    opened = row.locator("details[open]")
    opened.get_by_label("Reason").fill("Windows Server 2016 is out of support here.")
    opened.get_by_role("button", name="Reject", exact=True).click()
    expect(row.locator(".review-rejected")).to_have_text("Rejected", timeout=10_000)
    tile = page.locator("#catalog-overview .tile-awaiting .count")
    expect(tile).to_have_text(str(awaiting - 1))
