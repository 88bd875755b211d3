"""An operator walks the capture wizard end to end, in a real browser, and watches it run."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def background_worker(monkeypatch, settings):
    """Queued operations run in a thread, as a worker would, so the page must poll."""
    from contoso_images.operations import engine

    settings.OPERATION_POLL_SECONDS = 0.2
    threads = []

    def enqueue(operation_id):
        def work():
            try:
                engine.run(operation_id=operation_id)
            finally:
                connection.close()

        thread = threading.Thread(target=work, daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(engine, "enqueue", enqueue)
    yield
    for thread in threads:
        thread.join(30)


def test_operator_captures_a_vm_into_a_gallery_version_through_the_wizard(
    page, live_server, sign_in, operator_user, emulator, background_worker, csp_violations
):
    from vmops.services import inventory_sync_all

    emulator.set_durations(run_command=1, deallocate=1, gallery_image_version_create=2)
    inventory_sync_all()
    from vmops.models import VirtualMachine

    vm = VirtualMachine.objects.get(name="web-prod-01")
    sign_in(operator_user.username)
    page.goto(f"{live_server.url}/vms/{vm.pk}/capture/")
    preflight = page.locator("#capture-preflight")
    expect(preflight).to_contain_text("Gen 2 (UEFI)")
    expect(preflight).to_contain_text("Ready")

    page.get_by_label("Generalize it now through Azure Run Command").check()
    page.get_by_label("Region 2").select_option("northeurope")
    # A wrong confirmation is refused, next to its field, and nothing starts.
    page.get_by_label("Type the VM's name").fill("web-prod")
    page.get_by_role("button", name="Start the capture").click()
    expect(page.locator("#id_confirm_name_error")).to_contain_text("Type web-prod-01 exactly")
    page.get_by_label("Generalize it now through Azure Run Command").check()
    page.get_by_label("Region 2").select_option("northeurope")
    page.get_by_label("Type the VM's name").fill("web-prod-01")
    page.get_by_role("button", name="Start the capture").click()

    # The capture's own page (its id: PostgreSQL's sequences run on across tests).
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/captures/\d+/$"))
    steps = page.locator("#capture-steps")
    expect(steps).to_contain_text("Pre-flight checks")
    expect(steps.locator("ol.steps > li").first).to_contain_text("Done", timeout=15_000)
    status = steps.locator("section").first
    expect(status).to_contain_text("In progress")  # the page follows the run live
    expect(status).to_contain_text("Succeeded", timeout=60_000)
    expect(steps).to_contain_text("Azure marked the VM generalized.")
    expect(steps).to_contain_text("Replicated to West Europe, North Europe.")
    expect(steps).to_contain_text("In the catalog, awaiting review.")
    assert csp_violations == []
