"""No audit, capture, catalog or deploy page scrolls sideways, at 1280 px and at 400 px.

The sibling of test_vm_pages.test_no_page_scrolls_sideways: each role opens the pages it
sees, with their tables filled (captures with a long image name, a failed one, audit events,
a checkpoint), and the document must be no wider than the window.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Valid (at most 80 characters) and long enough to be wider than a phone.
LONG_IMAGE_NAME = "img-webprod02-goldenbaseline-windowsserver2022datacenterazureedition-20261202x"
#: Over Azure's 80 characters: the capture fails at create_image with a long sentence.
TOO_LONG_IMAGE_NAME = (
    "img-web-prod-01-golden-baseline-windows-server-2022-datacenter-azure-edition-20261202"
)

MARKETPLACE_IMAGE = (
    "/catalog/marketplace/image/?location=westeurope&publisher=Canonical"
    "&offer=0001-com-ubuntu-server-jammy&sku=22_04-lts-gen2&version=latest"
)


@pytest.fixture
def history(inventory, operator_user, settings, tmp_path, monkeypatch):
    """Three captures run to their end (two succeed, one fails), and a signed checkpoint."""
    from catalog.models import CatalogImage
    from contoso_images.audit.models import AuditEvent
    from contoso_images.audit.services.checkpoints import checkpoint_create
    from tests.capture.conftest import run_to_end
    from vmops.capture.choices import CaptureKind, GuestPreparation
    from vmops.capture.services import CaptureOptions, capture_request

    settings.AUDIT_CHECKPOINT_KEY = ""
    settings.AUDIT_CHECKPOINT_KEY_FILE = str(tmp_path / "audit_checkpoint_key")
    settings.OPERATION_POLL_SECONDS = 0.01
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)

    def capture(vm_name, **options):
        options.setdefault("guest_preparation", GuestPreparation.CONFIRMED)
        options.setdefault("image_resource_group", "rg-images")
        captured, _ = capture_request(
            vm=inventory[vm_name], options=CaptureOptions(**options), user=operator_user
        )
        run_to_end(captured.operation)
        captured.refresh_from_db()
        return captured

    managed = capture("web-prod-02", kind=CaptureKind.MANAGED_IMAGE, image_name=LONG_IMAGE_NAME)
    gallery = capture(
        "web-prod-03",
        kind=CaptureKind.GALLERY_GENERALIZED,
        image_name="1.1.7",
        gallery="gal_contoso",
        definition="win2022-base",
        target_regions=[
            {"name": "westeurope", "replicas": 1, "storage": "Standard_LRS"},
            {"name": "northeurope", "replicas": 2, "storage": "Standard_ZRS"},
        ],
    )
    failed = capture("web-prod-01", kind=CaptureKind.MANAGED_IMAGE, image_name=TOO_LONG_IMAGE_NAME)
    assert [c.operation.status for c in (managed, gallery, failed)] == [
        "succeeded",
        "succeeded",
        "failed",
    ]
    checkpoint_create()
    longest_action = max(
        AuditEvent.objects.filter(action__startswith="vm.capture"), key=lambda e: len(e.action)
    )
    requested = AuditEvent.objects.get(
        action="vm.capture_managed_image.requested", operation_id=managed.operation_id
    )
    return {
        "managed": managed.pk,
        "gallery": gallery.pk,
        "failed": failed.pk,
        "managed_op": managed.operation_id,
        "failed_op": failed.operation_id,
        "requested_event": requested.sequence,
        "long_event": longest_action.sequence,
        "managed_image": _approved(CatalogImage.objects.get(name=LONG_IMAGE_NAME)),
        "gallery_version": CatalogImage.objects.get(
            kind="gallery_version", name="1.1.7", gone_at__isnull=True
        ).pk,
        "wizard_vm": inventory["sql-prod-01"].pk,
    }


def _approved(image) -> int:
    """Approved, so that operators get its "Create VM" form and button (issue 21)."""
    type(image).objects.filter(pk=image.pk).update(review_status="approved")
    return image.pk


PAGES = {
    "auditor": [
        "/audit/",
        "/audit/captures/",
        "/audit/checkpoints/",
        "/audit/operations/{managed_op}/",
        "/audit/operations/{failed_op}/",
        "/audit/events/{requested_event}/",
        "/audit/events/{long_event}/",
        "/captures/",
        "/captures/{managed}/",
        "/captures/{failed}/",
    ],
    "operator": [
        "/captures/",
        "/captures/{managed}/",
        "/captures/{gallery}/",
        "/captures/{failed}/",
        "/vms/{wizard_vm}/capture/",
        "/vms/new/?image={managed_image}",
        "/catalog/images/{managed_image}/",
        "/vms/{wizard_vm}/delete/",
    ],
    "reviewer": [
        "/catalog/images/{managed_image}/",
        "/catalog/images/{gallery_version}/",
        "/catalog/marketplace/",
        MARKETPLACE_IMAGE,
    ],
}


@pytest.mark.parametrize("width", [1280, 400])
def test_no_audit_capture_or_catalog_page_scrolls_sideways(
    browser, live_server, auditor_user, operator_user, reviewer_user, history, width
):
    """scrollWidth <= innerWidth on every page each role sees, at 1280 px and at 400 px."""
    users = {"auditor": auditor_user, "operator": operator_user, "reviewer": reviewer_user}
    wide = {}
    for role, paths in PAGES.items():
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(users[role].username)
        page.get_by_label("Password").fill("correct-horse-battery-staple")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        for path in paths:
            url = path if path == MARKETPLACE_IMAGE else path.format(**history)
            response = page.goto(live_server.url + url)
            assert response is not None and response.status == 200, (role, url)
            page.wait_for_load_state("networkidle")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > page.evaluate("window.innerWidth"):
                wide[f"{role} {url}"] = scroll
        context.close()
    assert wide == {}
